/**
 * Uploaded tables as the KPIs read them: rows with their header, and where each cell is in its
 * file. They are read from the file's bytes (shared/reports `readTables`), never from the indexed
 * text.
 */
import type { Provenance } from "./types.ts";

export interface SourceTable {
  file: string;
  sheet?: string;
  header: string[];
  rows: string[][];
  /** 1-based source row number of rows[0]. */
  firstRow: number;
  /** Title rows above the header (company, statement name, "₹ in lakhs"), as text. */
  context?: string;
}

/** "A", "B", ..., "AA" for a 0-based column index. */
export function columnLetter(index: number): string {
  let name = "";
  for (let n = index + 1; n > 0; n = Math.floor((n - 1) / 26)) {
    name = String.fromCharCode(65 + ((n - 1) % 26)) + name;
  }
  return name;
}

/** Where cell (rowIndex, col) of a table is in its file. */
export function cellSource(
  table: SourceTable,
  rowIndex: number,
  col: number,
  label?: string,
): Provenance {
  return {
    file: table.file,
    ...(table.sheet !== undefined ? { sheet: table.sheet } : {}),
    row: table.firstRow + rowIndex,
    column: `${table.header[col] ?? ""} (${columnLetter(col)})`,
    ...(label !== undefined ? { label } : {}),
  };
}

/** "file, sheet, row 4, Q1 (B)" for appendices and warnings. */
export function describeSource(p: Provenance): string {
  return [
    p.file,
    p.sheet,
    p.last_row ? `rows ${p.row}–${p.last_row}` : `row ${p.row}`,
    `column ${p.column}`,
  ].filter(Boolean).join(", ");
}
