/**
 * Table passages (CSV rows, XLSX sheet rows): the chunker writes them as optional `Sheet: …` and
 * `Section: …` lines, the header line, then one line per row, cells joined by " | ". These helpers
 * read that back, so an answer can quote the row that holds a number with its column names
 * ("Vendor: Granite Insurance; Amount EUR: 46370.00") and cite its row number. Pure.
 */
import type { Passage } from "./passages.ts";

export interface TableRow {
  /** The row's number in its sheet or file (as in the passage's rowStart…rowEnd). */
  row: number;
  cells: string[];
}

export interface PassageTable {
  sheet: string | null;
  header: string[];
  rows: TableRow[];
}

const SEP = " | ";

/** The table in a table passage, or null for a text passage. */
export function tableOf(p: Passage): PassageTable | null {
  if (p.rowStart == null) return null;
  const lines = p.content.split("\n");
  let i = 0;
  while (i < lines.length && /^(Sheet|Section): /.test(lines[i]!)) i++;
  const headerLine = lines[i];
  if (headerLine === undefined) return null;
  const header = headerLine.split(SEP);
  const rows = lines.slice(i + 1).filter((l) => l !== "").map((line, j) => ({
    row: p.rowStart! + j,
    cells: line.split(SEP),
  }));
  return { sheet: p.sheet ?? null, header, rows };
}

function terms(text: string): string[] {
  return (text.toLowerCase().match(/[\p{L}\p{N}][\p{L}\p{N}.,%/-]*/gu) ?? [])
    .map((t) => t.replace(/[.,]+$/, ""))
    .filter((t) => t.length > 1 || /\d/.test(t));
}

/**
 * The rows of a table passage that share the most words or numbers with `query` (at least one),
 * best first, at most `max`. Header words count for every row, so they do not rank rows.
 */
export function matchingRows(p: Passage, query: string, max = 3): TableRow[] {
  const table = tableOf(p);
  if (!table) return [];
  const headerTerms = new Set(terms(table.header.join(" ")));
  const wanted = new Set(terms(query).filter((t) => !headerTerms.has(t)));
  if (wanted.size === 0) return [];
  return table.rows
    .map((r) => {
      const have = new Set(terms(r.cells.join(" ")));
      return { r, score: [...wanted].filter((t) => have.has(t)).length };
    })
    .filter((x) => x.score > 0)
    .sort((a, b) => b.score - a.score || a.r.row - b.r.row)
    .slice(0, max)
    .map((x) => x.r);
}

/** "Header: value; Header: value" for a row (empty cells left out). */
export function rowAsRecord(header: string[], row: TableRow): string {
  return row.cells
    .map((cell, i) => [header[i] ?? `column ${i + 1}`, cell.trim()] as const)
    .filter(([, v]) => v !== "")
    .map(([h, v]) => `${h}: ${v}`)
    .join("; ");
}
