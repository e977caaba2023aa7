/**
 * Typed table rows: the rows of a CSV or XLSX table as the index stores them for the cell lookup
 * (`public.workbench_table_rows`): file, sheet, row number, header, and each cell as written with
 * its type (number, percent, period, text, empty) and its value, read by the rules the reports
 * use (`parseCell`, `parsePeriod`). Derived from the table chunks the indexing step writes in the
 * same transaction (a chunk holds its sheet, its header and its rows, numbered from `row_start`),
 * so the rows depend only on the chunks and a redone step writes the same rows. `chunkTable()`
 * reads a chunk for both this and the reports' `tablesFromChunks`.
 */
import { parseCell } from "./numbers.ts";
import { parsePeriod } from "./periods.ts";
import type { SourceTable } from "./tables.ts";

export interface TypedCell {
  /** The cell as written. */
  v: string;
  t: "number" | "percent" | "period" | "text" | "empty";
  /** The value of a number or percent. */
  n?: number;
}

export interface TypedRow {
  sheet: string;
  row_number: number;
  header: string[];
  cells: TypedCell[];
}

export function typeCell(raw: string): TypedCell {
  const v = raw.trim();
  if (v === "") return { v, t: "empty" };
  if (parsePeriod(v) && !/^\d+$/.test(v)) return { v, t: "period" };
  const parsed = parseCell(v);
  if (parsed) return { v, t: parsed.percent ? "percent" : "number", n: parsed.value };
  return { v, t: parsePeriod(v) ? "period" : "text" };
}

/**
 * The table in a table chunk as the indexing step writes it (shared/chunking.ts): an optional
 * `Sheet: …` line (XLSX), an optional `Section: …` line (a heading), the header cells joined by
 * " | ", then one line per row; `row_start` numbers the first row. Null for a text chunk.
 */
export function chunkTable(
  content: string,
  metadata: Record<string, unknown>,
):
  | { sheet?: string; headerLine: string; header: string[]; rows: string[][]; firstRow: number }
  | null {
  if (typeof metadata.row_start !== "number") return null;
  const lines = content.split("\n");
  const skip = (typeof metadata.sheet === "string" ? 1 : 0) +
    (typeof metadata.heading === "string" ? 1 : 0);
  const headerLine = lines[skip];
  if (headerLine === undefined) return null;
  return {
    ...(typeof metadata.sheet === "string" ? { sheet: metadata.sheet } : {}),
    headerLine,
    header: headerLine.split(" | "),
    rows: lines.slice(skip + 1).map((line) => line.split(" | ")),
    firstRow: metadata.row_start,
  };
}

/** The typed rows of a table chunk (none for a text chunk). */
export function typedRowsOfChunk(
  content: string,
  metadata: Record<string, unknown>,
): TypedRow[] {
  const table = chunkTable(content, metadata);
  if (!table) return [];
  return table.rows.map((cells, i) => ({
    sheet: table.sheet ?? "",
    row_number: table.firstRow + i,
    header: table.header,
    cells: cells.map(typeCell),
  }));
}

/**
 * Stored typed rows back as tables: consecutive rows of one file and sheet with the same header
 * are one table.
 */
export function tablesFromRows(
  rows: {
    file_name: string;
    sheet: string;
    row_number: number;
    header: string[];
    cells: TypedCell[];
  }[],
): SourceTable[] {
  const tables: SourceTable[] = [];
  let key = "";
  for (const r of rows) {
    const thisKey = `${r.file_name}\u0000${r.sheet}\u0000${r.header.join("\u0001")}`;
    const last = tables.at(-1);
    const cells = r.cells.map((c) => c.v);
    if (last && thisKey === key && last.firstRow + last.rows.length === r.row_number) {
      last.rows.push(cells);
      continue;
    }
    key = thisKey;
    tables.push({
      file: r.file_name,
      ...(r.sheet !== "" ? { sheet: r.sheet } : {}),
      header: r.header,
      rows: [cells],
      firstRow: r.row_number,
    });
  }
  return tables;
}
