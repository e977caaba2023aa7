/**
 * Figures from the cells: for a question that asks for a figure, the workbench's tables (the
 * typed rows the index stored for its CSV and XLSX files, `public.workbench_table_rows`, read as
 * the caller, so row level security applies as it does to the chunks) go through the KPI code's cell lookup (shared/kpi
 * `answerFromCells`: the cells naming the question's measure, entity and periods, and the
 * arithmetic it asks for, computed by code). Each fact is tied to the passage holding its row,
 * when the search returned it, so the answer can cite it as `[n]`.
 */
import { answerFromCells, type CellFact, tablesFromRows, type TypedCell } from "../kpi/mod.ts";
import type { Tx } from "../db.ts";
import type { Passage } from "../retrieval/mod.ts";

/** At most this many typed rows are read per question (the lookup stays bounded). */
export const CELL_LOOKUP_ROWS = 20000;

export interface CellLookup {
  /** The question asked for a figure, so the cells were looked up. */
  tried: boolean;
  facts: CellFact[];
}

/** The facts the workbench's tables (their typed rows) give for `question`. */
export async function lookupCells(
  tx: Tx,
  workbenchId: string,
  question: string,
): Promise<CellFact[]> {
  const rows = await tx<
    { file_name: string; sheet: string; row_number: number; header: string[]; cells: TypedCell[] }[]
  >`
    select f.file_name, r.sheet, r.row_number, r.header, r.cells
      from public.workbench_table_rows r
      join public.workbench_files f on f.id = r.file_id
     where r.workbench_id = ${workbenchId} and f.status = 'indexed'
     order by f.created_at, f.id, r.sheet, r.row_number
     limit ${CELL_LOOKUP_ROWS}`;
  return factsFromRows(question, rows);
}

/** The facts typed rows (as `lookupCells` reads them) give for `question`. */
export function factsFromRows(
  question: string,
  rows: Parameters<typeof tablesFromRows>[0],
): CellFact[] {
  return answerFromCells(question, tablesFromRows(rows));
}

/** The passage (1-based) that holds the fact's first cell, if the search returned it. */
export function passageOfFact(fact: CellFact, passages: Passage[]): number | undefined {
  const cell = fact.cells[0];
  if (!cell) return undefined;
  const i = passages.findIndex((p) =>
    p.fileName === cell.file && (p.sheet ?? undefined) === cell.sheet &&
    p.rowStart !== null && p.rowStart !== undefined && p.rowStart <= cell.row &&
    (p.rowEnd ?? p.rowStart) >= cell.row
  );
  return i < 0 ? undefined : i + 1;
}

/** The facts as lines, each with the citation of the passage holding its row. */
export function factLines(facts: CellFact[], passages: Passage[]): string[] {
  return facts.map((f) => {
    const n = passageOfFact(f, passages);
    return n ? `${f.text} [${n}]` : f.text;
  });
}
