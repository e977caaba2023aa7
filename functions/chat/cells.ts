/**
 * Figures from the cells: for a question that asks for a figure, the workbench's tables (the
 * CSV and XLSX rows the index stored as table chunks, read as the caller, so row level security
 * applies as it does to the search) go through the KPI code's cell lookup (shared/kpi
 * `answerFromCells`: the cells naming the question's measure, entity and periods, and the
 * arithmetic it asks for, computed by code). Each fact is tied to the passage holding its row,
 * when the search returned it, so the answer can cite it as `[n]`.
 */
import { answerFromCells, type CellFact, tablesFromChunks } from "../../shared/kpi/mod.ts";
import type { Tx } from "../../shared/db.ts";
import type { Passage } from "../../shared/retrieval/mod.ts";

/** At most this many table chunks are read per question (the lookup stays bounded). */
export const CELL_LOOKUP_CHUNKS = 2000;

export interface CellLookup {
  /** The question asked for a figure, so the cells were looked up. */
  tried: boolean;
  facts: CellFact[];
}

interface TableChunk {
  file_name: string;
  file_id: string;
  content: string;
  metadata: Record<string, unknown>;
}

/** The facts the workbench's tables give for `question`. */
export async function lookupCells(
  tx: Tx,
  workbenchId: string,
  question: string,
): Promise<CellFact[]> {
  const chunks = await tx<TableChunk[]>`
    select f.file_name, f.id as file_id, c.content, c.metadata
      from public.workbench_chunks c
      join public.workbench_files f on f.id = c.file_id
     where c.workbench_id = ${workbenchId} and f.status = 'indexed'
       and f.file_type in ('csv', 'xlsx') and c.metadata ? 'row_start'
     order by f.created_at, f.id, c.chunk_index
     limit ${CELL_LOOKUP_CHUNKS}`;
  const byFile = new Map<string, TableChunk[]>();
  for (const c of chunks) byFile.set(c.file_id, [...(byFile.get(c.file_id) ?? []), c]);
  const tables = [...byFile.values()].flatMap((list) => tablesFromChunks(list[0]!.file_name, list));
  return answerFromCells(question, tables);
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
