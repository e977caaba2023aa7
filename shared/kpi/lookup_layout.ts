/**
 * Which columns of a table are labels, which are periods, for the cell lookup (lookup.ts): the
 * header is found below title rows (`locateHeader`); a column is a period column when its header
 * says so (Year, Month, Period, Quarter, Date) or most of its cells are periods; a label column
 * when most of its cells are text.
 */
import { locateHeader } from "./layout.ts";
import { parseCell } from "./numbers.ts";
import { parsePeriod } from "./periods.ts";
import type { SourceTable } from "./tables.ts";

export interface LookupLayout {
  table: SourceTable;
  periodColumns: number[];
  labelColumns: number[];
}

export function layoutFor(source: SourceTable): LookupLayout {
  const table = locateHeader(source);
  const width = Math.max(table.header.length, ...table.rows.map((r) => r.length));
  const periodColumns: number[] = [];
  const labelColumns: number[] = [];
  for (let c = 0; c < width; c++) {
    const cells = table.rows.map((r) => (r[c] ?? "").trim()).filter((s) => s !== "");
    if (cells.length === 0) continue;
    const periods = cells.filter((s) => parsePeriod(s) !== undefined).length;
    const numbers = cells.filter((s) => parseCell(s) !== null).length;
    const header = table.header[c] ?? "";
    if (
      /^(?:year|month|period|quarter|date|fy|financial year)$/i.test(header.trim()) ||
      periods >= cells.length / 2
    ) {
      periodColumns.push(c);
    } else if (numbers < cells.length / 2) {
      labelColumns.push(c);
    }
  }
  return { table, periodColumns, labelColumns };
}
