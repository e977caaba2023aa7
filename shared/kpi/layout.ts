/**
 * Where a table's header is. The parsers take a sheet's (or CSV's) first non-empty row as its
 * header, but the files accountants keep start with title rows ("Ananya Café Pvt. Ltd.",
 * "Statement of Profit and Loss for the year ended 31 March 2025", "(₹ in lakhs)"), blank rows
 * and notes. `locateHeader` looks above the first row that holds a number and takes the widest
 * row there (the latest of equals) as the header; title rows hold one cell, so they lose. A cover
 * sheet (text only) is left as it is and simply holds no line items.
 */
import { parseCell } from "./numbers.ts";
import type { SourceTable } from "./tables.ts";

/** A header the parser named because its cell was blank. */
const UNNAMED = /^column \d+$/;

const isYear = (c: string) => /^(19|20)\d{2}$/.test(c.trim());

function numbers(row: string[]): number {
  let n = 0;
  for (const c of row) if (c.trim() && !isYear(c) && parseCell(c)) n++;
  return n;
}

const filled = (row: string[]) => row.filter((c) => c.trim()).length;

/** The table with its header found below title rows and blank rows (row numbers kept). */
export function locateHeader(table: SourceTable): SourceTable {
  const grid = [table.header.map((h) => (UNNAMED.test(h) ? "" : h)), ...table.rows];
  const limit = Math.min(grid.length, 40);
  let data = -1;
  for (let i = 0; i < limit; i++) {
    if (numbers(grid[i]!) > 0) {
      data = i;
      break;
    }
  }
  if (data <= 0) return table;
  let header = -1;
  for (let i = 0; i < data; i++) {
    if (filled(grid[i]!) > 0 && (header < 0 || filled(grid[i]!) >= filled(grid[header]!))) {
      header = i;
    }
  }
  if (header <= 0 || filled(grid[header]!) < 2) return table;
  return {
    ...table,
    header: grid[header]!.map((h, c) => h.trim() || `column ${c + 1}`),
    rows: grid.slice(header + 1),
    firstRow: table.firstRow + header,
    context: grid.slice(0, header).map((r) => r.filter((c) => c.trim()).join(" ")).join("\n"),
  };
}
