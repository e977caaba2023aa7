/**
 * Which columns of a table are labels, which are periods, for the cell lookup (lookup.ts): the
 * header is found below title rows (`locateHeader`); a column is a period column when its header
 * says so (Year, Month, Period, Quarter, Date) or most of its cells are periods; a label column
 * when most of its cells are text. A column of a long table is judged on an even sample of at most
 * SAMPLE of its cells (a ledger of 20,000 rows is read once per question, and parsing every cell
 * twice for this cost most of the lookup), and a table's layout is kept for the next call.
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

const SAMPLE = 400;
const layouts = new WeakMap<SourceTable, LookupLayout>();

/** At most `n` of `items`, evenly spaced, the first and the last included. */
function sample<T>(items: T[], n: number): T[] {
  if (items.length <= n) return items;
  const step = (items.length - 1) / (n - 1);
  return Array.from({ length: n }, (_, i) => items[Math.round(i * step)]!);
}

export function layoutFor(source: SourceTable): LookupLayout {
  const known = layouts.get(source);
  if (known) return known;
  const table = locateHeader(source);
  const width = Math.max(table.header.length, ...table.rows.map((r) => r.length));
  const periodColumns: number[] = [];
  const labelColumns: number[] = [];
  for (let c = 0; c < width; c++) {
    const cells = sample(
      table.rows.map((r) => (r[c] ?? "").trim()).filter((s) => s !== ""),
      SAMPLE,
    );
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
  const layout = { table, periodColumns, labelColumns };
  layouts.set(source, layout);
  return layout;
}
