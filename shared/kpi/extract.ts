/**
 * Finding line items in tables, in the three shapes people keep them: wide (line items as rows,
 * periods as columns), long (period, account, amount columns) and by period (one row per month,
 * line items as columns). The header is found below title rows first (layout.ts). Cells are read
 * with parseCell; every value keeps the cell it came from.
 *
 * Every line is accounted for (`uses`): a known label maps to its line item; an unknown line that
 * sits among the expenses (after the first cost line or an "Expenses" heading, before a total or
 * profit line) is an operating expense; an unknown line above the costs is an income line (used
 * as revenue only when the table names no revenue, else checked against a stated total);
 * anything else is listed as not used, with its cell. A Total or YTD column (or row) the file
 * states is checked against the sum of its periods.
 */
import { agrees } from "./common.ts";
import { locateHeader } from "./layout.ts";
import { isColumn, type LineItem, matchLineItem, normaliseLabel } from "./labels.ts";
import { formatMoney, parseCell } from "./numbers.ts";
import { inTimeOrder, parsePeriod } from "./periods.ts";
import { cellSource, describeSource, type SourceTable } from "./tables.ts";
import type { LineUse, Provenance } from "./types.ts";

export interface Cell {
  value: number;
  source: Provenance;
}

/** Lines summed into an input when the file states no total for it. */
export type PartKind =
  | "opex_part"
  | "cogs_part"
  | "inventory_change"
  | "tax_part"
  | "revenue_part";

const PART_KINDS = new Set<string>([
  "opex_part",
  "cogs_part",
  "inventory_change",
  "tax_part",
]);

/** Line items by period, found in one table. */
export interface LineTable {
  table: SourceTable;
  layout: "wide" | "long" | "rows";
  periods: string[];
  /** item → period → cell; an item named twice keeps its first line. */
  items: Map<LineItem, Map<string, Cell>>;
  /** Lines that add up to an input (salaries, rent, ...; current and deferred tax) by period. */
  parts: Map<PartKind, Map<string, Cell[]>>;
  currencies: Set<string>;
  /** Every line and what it is used as. */
  uses: LineUse[];
  /** The uses of unknown lines above the costs: financial.ts marks them used when it sums them. */
  incomeUses: LineUse[];
  /** Stated totals (a Total column or row) that disagree with the sum of their periods. */
  warnings: string[];
  /** -1 when the file writes costs as negatives (most cost lines are), else 1. */
  costSign: 1 | -1;
}

interface RawLine {
  label: string;
  source: Provenance;
  values: Map<string, Cell>;
  ratio: boolean;
}

interface RawTable {
  table: SourceTable;
  layout: LineTable["layout"];
  periods: string[];
  lines: RawLine[];
  currencies: Set<string>;
  warnings: string[];
  /** Rows that are not lines and not periods (by-period layout): listed as not used. */
  stray: LineUse[];
}

const SKIP_PERIOD_HEADERS =
  /^(notes?|note no\.?|note number|notes? ref\.?|sr\.? ?no\.?|s\.? ?no\.?|sl\.? ?no\.?|schedule|ref\.?|code|account code|gl code|remarks|comments?|column \d+|%|share|% of (revenue|sales)|particulars|description)$/i;
const TOTAL_HEADER =
  /^(total|ytd|year to date|full year|fy total|(h[12]|q[1-4]|half[- ]year|period) total|total (for the )?(period|year|h[12]))\b/i;

const isTotalHeader = (h: string) => TOTAL_HEADER.test(h.trim());

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

function noteCurrency(set: Set<string>, a: { currency?: string } | null) {
  if (a?.currency) set.add(a.currency);
}

/** A stated total that disagrees with the sum of its periods, as a warning (or null). */
function totalWarning(
  label: string,
  stated: Cell,
  parts: Cell[],
  what: string,
  currency: string | null,
): string | null {
  if (parts.length === 0) return null;
  const sum = parts.reduce((s, c) => s + c.value, 0);
  if (agrees(sum, stated.value)) return null;
  return `${label}: the file's ${what} states ${formatMoney(stated.value, currency)} (${
    describeSource(stated.source)
  }) but its periods add up to ${formatMoney(sum, currency)}`;
}

/** Wide: a label column of line items, each other column with numbers is a period. */
function readWide(table: SourceTable): RawTable | undefined {
  const labelCol = labelColumn(table);
  if (labelCol === undefined) return undefined;
  const matched = table.rows.filter((row) => matchLineItem(row[labelCol] ?? ""));
  const periodCols: number[] = [];
  const totalCols: number[] = [];
  for (let c = 0; c < table.header.length; c++) {
    if (c === labelCol) continue;
    const head = table.header[c]!.trim();
    if (!head || SKIP_PERIOD_HEADERS.test(head)) continue;
    let numbers = 0;
    for (const row of matched) {
      const a = parseCell(row[c] ?? "");
      if (a && !a.percent) numbers++;
    }
    if (numbers < Math.max(1, Math.ceil(matched.length / 2))) continue;
    (isTotalHeader(head) ? totalCols : periodCols).push(c);
  }
  if (periodCols.length === 0) return undefined;
  const raw: RawTable = {
    table,
    layout: "wide",
    periods: inTimeOrder(periodCols.map((c) => table.header[c]!.trim())),
    lines: [],
    currencies: new Set(),
    warnings: [],
    stray: [],
  };
  table.rows.forEach((row, i) => {
    const label = (row[labelCol] ?? "").trim();
    if (!label) return;
    const line: RawLine = {
      label,
      source: cellSource(table, i, labelCol, label),
      values: new Map(),
      ratio: false,
    };
    for (const c of periodCols) {
      const a = parseCell(row[c] ?? "");
      if (!a) continue;
      if (a.percent) line.ratio = true;
      noteCurrency(raw.currencies, a);
      line.values.set(table.header[c]!.trim(), {
        value: a.value,
        source: cellSource(table, i, c, label),
      });
    }
    raw.lines.push(line);
    const item = matchLineItem(label);
    if (line.ratio || item === "opening_balance" || item === "closing_balance") return;
    for (const c of totalCols) {
      const a = parseCell(row[c] ?? "");
      if (!a || a.percent) continue;
      const w = totalWarning(
        label,
        { value: a.value, source: cellSource(table, i, c, label) },
        [...line.values.values()],
        `${table.header[c]!.trim()} column`,
        a.currency ?? null,
      );
      if (w) raw.warnings.push(w);
    }
  });
  return raw;
}

/** Long: one row per (period, account, amount); lines in the order their accounts first appear. */
function readLong(table: SourceTable): RawTable | undefined {
  const find = (role: "period" | "account" | "amount") =>
    table.header.findIndex((h) => isColumn(h, role));
  const periodCol = find("period");
  const accountCol = find("account");
  const amountCol = find("amount");
  if (periodCol < 0 || accountCol < 0 || amountCol < 0) return undefined;
  const raw: RawTable = {
    table,
    layout: "long",
    periods: [],
    lines: [],
    currencies: new Set(),
    warnings: [],
    stray: [],
  };
  const byLabel = new Map<string, RawLine>();
  table.rows.forEach((row, i) => {
    const label = (row[accountCol] ?? "").trim();
    const period = (row[periodCol] ?? "").trim();
    const a = parseCell(row[amountCol] ?? "");
    if (!label || !period || !a) return;
    const key = normaliseLabel(label);
    let line = byLabel.get(key);
    if (!line) {
      line = {
        label,
        source: cellSource(table, i, accountCol, label),
        values: new Map(),
        ratio: false,
      };
      byLabel.set(key, line);
      raw.lines.push(line);
    }
    if (a.percent) {
      line.ratio = true;
      return;
    }
    if (!raw.periods.includes(period)) raw.periods.push(period);
    noteCurrency(raw.currencies, a);
    if (!line.values.has(period)) {
      line.values.set(period, { value: a.value, source: cellSource(table, i, amountCol, label) });
    }
  });
  if (!raw.lines.some((l) => matchLineItem(l.label))) return undefined;
  raw.periods = inTimeOrder(raw.periods);
  return raw;
}

/** By period: a column of periods (one row per month), line items as the other columns. */
function readRows(table: SourceTable): RawTable | undefined {
  const items = table.header.filter((h) => matchLineItem(h)).length;
  if (items < 2) return undefined;
  let periodCol = -1;
  for (let c = 0; c < Math.min(2, table.header.length) && periodCol < 0; c++) {
    const texts = table.rows.map((r) => (r[c] ?? "").trim()).filter(Boolean);
    const periods = texts.filter((t) => parsePeriod(t)).length;
    if (periods >= 2 && periods >= 0.6 * texts.length) periodCol = c;
  }
  if (periodCol < 0) return undefined;
  const raw: RawTable = {
    table,
    layout: "rows",
    periods: [],
    lines: [],
    currencies: new Set(),
    warnings: [],
    stray: [],
  };
  const cols: number[] = [];
  table.header.forEach((h, c) => {
    if (c === periodCol || !h.trim() || SKIP_PERIOD_HEADERS.test(h.trim())) return;
    cols.push(c);
    raw.lines.push({
      label: h.trim(),
      source: cellSource(table, -1, c, h.trim()),
      values: new Map(),
      ratio: false,
    });
  });
  const totals: { i: number; label: string }[] = [];
  table.rows.forEach((row, i) => {
    const period = (row[periodCol] ?? "").trim();
    if (!period) return;
    if (!parsePeriod(period)) {
      if (isTotalHeader(period)) totals.push({ i, label: period });
      else if (cols.some((c) => parseCell(row[c] ?? ""))) {
        raw.stray.push({
          label: period,
          source: cellSource(table, i, periodCol, period),
          used_as: null,
          how: "not_used",
          note: "not a period",
        });
      }
      return;
    }
    if (!raw.periods.includes(period)) raw.periods.push(period);
    cols.forEach((c, k) => {
      const a = parseCell(row[c] ?? "");
      if (!a) return;
      const line = raw.lines[k]!;
      if (a.percent) line.ratio = true;
      noteCurrency(raw.currencies, a);
      if (!line.values.has(period)) {
        line.values.set(period, { value: a.value, source: cellSource(table, i, c, period) });
      }
    });
  });
  if (raw.periods.length === 0) return undefined;
  for (const t of totals) {
    cols.forEach((c, k) => {
      const line = raw.lines[k]!;
      const a = parseCell(table.rows[t.i]![c] ?? "");
      if (!a || a.percent || line.ratio) return;
      const w = totalWarning(
        line.label,
        { value: a.value, source: cellSource(table, t.i, c, t.label) },
        [...line.values.values()],
        `${t.label} row`,
        a.currency ?? null,
      );
      if (w) raw.warnings.push(w);
    });
  }
  raw.periods = inTimeOrder(raw.periods);
  return raw;
}

/** Lines that put the reader among the expenses, and lines that end the expenses. */
const OPENS_EXPENSES = new Set<LineItem>([
  "cogs",
  "cogs_part",
  "inventory_change",
  "opex_part",
  "gross_profit",
]);
const CLOSES_EXPENSES = new Set<LineItem>([
  "opex",
  "total_expenses",
  "ebitda",
  "ebit",
  "pbt",
  "net_income",
  "tax",
  "tax_part",
]);
const COST_ITEMS = new Set<LineItem>(["cogs", "cogs_part", "opex", "opex_part", "da", "interest"]);
const EXPENSE_HEADING =
  /\b(expenses?|expenditure|costs|overheads|operating costs|opex|outgoings)\b/;
const INCOME_HEADING = /\b(income|revenues?|sales)\b/;
/** Lines that count things, not money: never an expense, whatever their place. */
const NOT_MONEY =
  /\b(headcount|head count|ftes?|employees|staff count|number of|no of|units|customers|users|subscribers|orders|days|ratio|margin|growth|per cent|percent)\b/;

const USED_AS: Partial<Record<LineItem | PartKind, string>> = {
  revenue: "revenue",
  other_income: "other income",
  total_income: "total income (checked)",
  cogs: "cost of sales",
  cogs_part: "cost of sales",
  inventory_change: "cost of sales (change in inventories)",
  gross_profit: "gross profit (checked)",
  opex: "operating expenses (total)",
  opex_part: "operating expense",
  ebitda: "EBITDA (checked)",
  da: "D&A",
  ebit: "operating profit",
  interest: "finance costs",
  tax: "tax",
  tax_part: "tax",
  total_expenses: "total expenses (checked)",
  pbt: "profit before tax (checked)",
  net_income: "net income",
  inflows: "inflows",
  outflows: "outflows",
  closing_balance: "closing balance",
};

/** Maps every line of a raw table: by label, by position among the expenses, or not used. */
function classify(raw: RawTable): LineTable {
  const lt: LineTable = {
    table: raw.table,
    layout: raw.layout,
    periods: raw.periods,
    items: new Map(),
    parts: new Map(),
    currencies: raw.currencies,
    uses: [...raw.stray],
    incomeUses: [],
    warnings: raw.warnings,
    costSign: 1,
  };
  let negatives = 0;
  let positives = 0;
  for (const line of raw.lines) {
    const item = matchLineItem(line.label);
    if (!item || !COST_ITEMS.has(item)) continue;
    for (const c of line.values.values()) {
      if (c.value < 0) negatives++;
      else if (c.value > 0) positives++;
    }
  }
  lt.costSign = negatives > positives ? -1 : 1;
  const addPart = (kind: PartKind, line: RawLine) => {
    let byPeriod = lt.parts.get(kind);
    if (!byPeriod) lt.parts.set(kind, byPeriod = new Map());
    for (const [p, c] of line.values) {
      const list = byPeriod.get(p) ?? [];
      list.push(c);
      byPeriod.set(p, list);
    }
  };
  let zone: "income" | "expenses" | "below" = "income";
  for (const line of raw.lines) {
    const norm = normaliseLabel(line.label);
    if (line.values.size === 0 && !line.ratio) {
      // A heading ("Expenses", "Income") or an empty line: it only says where we are.
      if (!matchLineItem(line.label)) {
        if (EXPENSE_HEADING.test(norm)) zone = "expenses";
        else if (INCOME_HEADING.test(norm) && zone === "income") zone = "income";
      }
      continue;
    }
    const use = (used_as: string | null, how: LineUse["how"], note?: string) =>
      lt.uses.push({
        label: line.label,
        source: line.source,
        used_as,
        how,
        ...(note ? { note } : {}),
      });
    if (line.ratio) {
      use(null, "not_used", "a ratio (%), recomputed from the figures");
      continue;
    }
    const item = matchLineItem(line.label);
    if (item) {
      if (OPENS_EXPENSES.has(item) && zone !== "below") zone = "expenses";
      if ((item === "da" || item === "interest") && zone === "income") zone = "expenses";
      if (CLOSES_EXPENSES.has(item)) zone = "below";
      if (PART_KINDS.has(item)) addPart(item as PartKind, line);
      else {
        let byPeriod = lt.items.get(item);
        if (byPeriod) {
          use(null, "not_used", `a second "${item}" line; the first one is used`);
          continue;
        }
        lt.items.set(item, byPeriod = new Map(line.values));
      }
      use(USED_AS[item] ?? null, USED_AS[item] ? "label" : "not_used");
      continue;
    }
    if (NOT_MONEY.test(norm)) {
      use(null, "not_used", "a count or ratio, not an amount");
    } else if (zone === "expenses") {
      addPart("opex_part", line);
      use(
        "operating expense",
        "position",
        "not a known line item; counted as an operating expense because it sits among the expenses",
      );
    } else if (zone === "income") {
      addPart("revenue_part", line);
      use(null, "not_used", "not a known line item, above the costs");
      lt.incomeUses.push(lt.uses.at(-1)!);
    } else {
      use(null, "not_used", "not a known line item, below the operating lines");
    }
  }
  return lt;
}

/** Currency named in a table's header cells or title rows ("Amount (₹)", "₹ in lakhs"). */
export function headerCurrency(table: SourceTable): string | undefined {
  const text = `${table.header.join(" ")} ${table.context ?? ""}`;
  if (/₹|\binr\b|\brs\b/i.test(text)) return "INR";
  if (/\$|\busd\b/i.test(text)) return "USD";
  if (/€|\beur\b/i.test(text)) return "EUR";
  if (/£|\bgbp\b/i.test(text)) return "GBP";
  return undefined;
}

/** The line tables a table may be read as (header found first), in every layout that fits. */
export function lineTables(table: SourceTable): LineTable[] {
  const located = locateHeader(table);
  const out: LineTable[] = [];
  for (const raw of [readLong(located), readWide(located), readRows(located)]) {
    if (raw) out.push(classify(raw));
  }
  return out;
}

/** How many of `wanted` a line table holds (a part counts for its input). */
export function has(lt: LineTable, item: LineItem): boolean {
  if (lt.items.has(item)) return true;
  if (item === "revenue") return lt.items.has("total_income");
  if (item === "cogs") return lt.parts.has("cogs_part");
  if (item === "opex") return lt.parts.has("opex_part");
  if (item === "tax") return lt.parts.has("tax_part");
  return false;
}

/**
 * The table with the most of `wanted` line items, in any layout; with `required`, only tables
 * that hold it (so a table without revenue never beats one with it).
 */
export function bestLineTable(
  tables: SourceTable[],
  wanted: LineItem[],
  required?: LineItem,
): LineTable | undefined {
  let best: LineTable | undefined;
  let bestScore = 0;
  for (const table of tables) {
    for (const lt of lineTables(table)) {
      if (required && !has(lt, required)) continue;
      const score = wanted.filter((w) => has(lt, w)).length;
      if (score > bestScore) {
        best = lt;
        bestScore = score;
      }
    }
  }
  return best;
}
