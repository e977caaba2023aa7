/**
 * Uploaded tables as rows, read from the file's bytes with the same readers as indexing
 * (shared/parsers: the CSV reader and the streaming XLSX reader), never from the indexed text.
 */
import { extractCsv } from "../parsers/csv.ts";
import type { TableBlock } from "../parsers/types.ts";
import { extractXlsx } from "../parsers/xlsx.ts";
import type { Provenance } from "./types.ts";

export interface SourceTable {
  file: string;
  sheet?: string;
  header: string[];
  rows: string[][];
  /** 1-based source row number of rows[0]. */
  firstRow: number;
}

/** "A", "B", ..., "AA" for a 0-based column index. */
export function columnLetter(index: number): string {
  let name = "";
  for (let n = index + 1; n > 0; n = Math.floor((n - 1) / 26)) {
    name = String.fromCharCode(65 + ((n - 1) % 26)) + name;
  }
  return name;
}

/** The tables of a CSV or XLSX file (one per sheet with data). */
export async function readTables(
  fileName: string,
  fileType: "csv" | "xlsx",
  bytes: Uint8Array,
): Promise<SourceTable[]> {
  const { blocks } = fileType === "csv" ? await extractCsv(bytes) : await extractXlsx(bytes);
  return blocks
    .filter((b): b is TableBlock => b.kind === "table")
    .map((b) => ({
      file: fileName,
      ...(b.sheet !== undefined ? { sheet: b.sheet } : {}),
      header: b.header,
      rows: b.rows,
      firstRow: b.firstRow,
    }));
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
