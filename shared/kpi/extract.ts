/**
 * Finding line items in tables: wide layouts (line items as rows, periods as columns) and long
 * layouts (period, account, amount columns). Cells are parsed with parseAmount; every value keeps
 * the cell it came from.
 */
import { isColumn, type LineItem, matchLineItem } from "./labels.ts";
import { parseAmount } from "./numbers.ts";
import { cellSource, type SourceTable } from "./tables.ts";
import type { Provenance } from "./types.ts";

export interface Cell {
  value: number;
  source: Provenance;
}

/** Line items by period, found in one table. */
export interface LineTable {
  table: SourceTable;
  layout: "wide" | "long";
  periods: string[];
  /** item → period → cell; an item named twice keeps its first row. */
  items: Map<LineItem, Map<string, Cell>>;
  /** Operating expense lines (salaries, rent, ...) by period, to sum when no total is given. */
  opexParts: Map<string, Cell[]>;
  currencies: Set<string>;
}

const SKIP_PERIOD_HEADERS =
  /^(total|ytd|year to date|notes?|code|account code|remarks|column \d+|%|share)$/i;

function labelColumn(table: SourceTable): number | undefined {
  let best: number | undefined;
  let bestCount = 0;
  const width = Math.min(3, table.header.length);
  for (let c = 0; c < width; c++) {
    let count = 0;
    for (const row of table.rows) if (matchLineItem(row[c] ?? "")) count++;
    if (count > bestCount) {
      best = c;
      bestCount = count;
    }
  }
  return bestCount >= 2 ? best : undefined;
}

function emptyLineTable(table: SourceTable, layout: "wide" | "long"): LineTable {
  return {
    table,
    layout,
    periods: [],
    items: new Map(),
    opexParts: new Map(),
    currencies: new Set(),
  };
}

function add(lt: LineTable, item: LineItem, period: string, cell: Cell): void {
  if (item === "opex_part") {
    const parts = lt.opexParts.get(period) ?? [];
    parts.push(cell);
    lt.opexParts.set(period, parts);
    return;
  }
  let byPeriod = lt.items.get(item);
  if (!byPeriod) lt.items.set(item, byPeriod = new Map());
  if (!byPeriod.has(period)) byPeriod.set(period, cell);
}

/** Wide: a label column of line items, each other column with numbers is a period. */
export function readWide(table: SourceTable): LineTable | undefined {
  const labelCol = labelColumn(table);
  if (labelCol === undefined) return undefined;
  const matched = table.rows
    .map((row, i) => ({ row, i, item: matchLineItem(row[labelCol] ?? "") }))
    .filter((r) => r.item !== undefined);
  const periodCols: number[] = [];
  for (let c = 0; c < table.header.length; c++) {
    if (c === labelCol) continue;
    const head = table.header[c]!.trim();
    if (!head || SKIP_PERIOD_HEADERS.test(head)) continue;
    let numbers = 0;
    for (const r of matched) {
      const a = parseAmount(r.row[c] ?? "");
      if (a && !a.percent) numbers++;
    }
    if (numbers >= Math.max(1, Math.ceil(matched.length / 2))) periodCols.push(c);
  }
  if (periodCols.length === 0) return undefined;
  const lt = emptyLineTable(table, "wide");
  lt.periods = periodCols.map((c) => table.header[c]!.trim());
  for (const { row, i, item } of matched) {
    const parsed = periodCols.map((c) => parseAmount(row[c] ?? ""));
    if (parsed.some((a) => a?.percent)) continue; // a ratio row ("Gross margin %")
    periodCols.forEach((c, k) => {
      const a = parsed[k];
      if (!a) return;
      if (a.currency) lt.currencies.add(a.currency);
      add(lt, item!, lt.periods[k]!, {
        value: a.value,
        source: cellSource(table, i, c, row[labelCol]),
      });
    });
  }
  return lt;
}

/** Long: one row per (period, account, amount). */
export function readLong(table: SourceTable): LineTable | undefined {
  const find = (role: "period" | "account" | "amount") =>
    table.header.findIndex((h) => isColumn(h, role));
  const periodCol = find("period");
  const accountCol = find("account");
  const amountCol = find("amount");
  if (periodCol < 0 || accountCol < 0 || amountCol < 0) return undefined;
  const lt = emptyLineTable(table, "long");
  table.rows.forEach((row, i) => {
    const item = matchLineItem(row[accountCol] ?? "");
    const period = (row[periodCol] ?? "").trim();
    const a = parseAmount(row[amountCol] ?? "");
    if (!item || !period || !a || a.percent) return;
    if (!lt.periods.includes(period)) lt.periods.push(period);
    if (a.currency) lt.currencies.add(a.currency);
    add(lt, item, period, {
      value: a.value,
      source: cellSource(table, i, amountCol, row[accountCol]),
    });
  });
  return lt.items.size > 0 ? lt : undefined;
}

/** Currency named in a table's header cells ("Amount (₹)", "INR"), if any. */
export function headerCurrency(table: SourceTable): string | undefined {
  const text = table.header.join(" ");
  if (/₹|\binr\b|\brs\b/i.test(text)) return "INR";
  if (/\$|\busd\b/i.test(text)) return "USD";
  if (/€|\beur\b/i.test(text)) return "EUR";
  if (/£|\bgbp\b/i.test(text)) return "GBP";
  return undefined;
}

/** The table with the most of `wanted` line items, in either layout. */
export function bestLineTable(tables: SourceTable[], wanted: LineItem[]): LineTable | undefined {
  let best: LineTable | undefined;
  let bestScore = 0;
  for (const table of tables) {
    for (const lt of [readLong(table), readWide(table)]) {
      if (!lt) continue;
      const score = wanted.filter((w) => lt.items.has(w)).length;
      if (score > bestScore) {
        best = lt;
        bestScore = score;
      }
    }
  }
  return best;
}
