/**
 * variance: budget against actual per line.
 *   variance = actual − budget;  variance % = variance ÷ |budget| × 100
 * Lines whose |variance %| exceeds the threshold (default 10%) are flagged. A variance column in
 * the file that disagrees with actual − budget is warned about (both values shown). Each line
 * says whether its variance is favourable: income and profit lines above budget, cost lines below
 * it (in magnitude, whichever sign the file writes costs with).
 *
 * Several periods: Budget/Actual column pairs per period ("Q1 Budget", "Q1 Actual", "Apr-25
 * Actual", ...) or a period column (period, line, budget, actual); each line is then reported per
 * period ("Revenue · Q1").
 */
import { agrees, collectSources, derived, pickCurrency, stated } from "./common.ts";
import { headerCurrency } from "./extract.ts";
import { MissingInputError } from "./financial.ts";
import { locateHeader } from "./layout.ts";
import { isColumn, type LineItem, matchLineItem, normaliseLabel } from "./labels.ts";
import { formatMoney, formatPercent, parseAmount, parseCell } from "./numbers.ts";
import { cellSource, describeSource, type SourceTable } from "./tables.ts";
import type { Figure, KpiResult, KpiRow, KpiScalar } from "./types.ts";

export const DEFAULT_VARIANCE_THRESHOLD_PCT = 10;

/** Lines where more is better; any other line is a cost (less is better). */
const INCOME: ReadonlySet<LineItem> = new Set([
  "revenue",
  "other_income",
  "total_income",
  "gross_profit",
  "ebitda",
  "ebit",
  "pbt",
  "net_income",
  "inflows",
  "net_flow",
]);

/** Whether actual against budget is favourable for this line; null when on budget. */
export function isFavourable(label: string, budget: number, actual: number): boolean | null {
  if (agrees(budget, actual)) return null;
  const item = matchLineItem(label);
  if (item && INCOME.has(item)) return actual > budget;
  return Math.abs(actual) < Math.abs(budget);
}

const ROLE_WORD: [RegExp, "budget" | "actual" | "variance"][] = [
  [/\b(budget|budgeted|plan|planned|forecast)\b/, "budget"],
  [/\b(actual|actuals)\b/, "actual"],
  [/\b(variance|var|difference)\b/, "variance"],
];

interface PeriodColumns {
  period: string;
  budget: number;
  actual: number;
  variance: number;
}

/** Budget/Actual(/Variance) columns by period: "Budget", or "Q1 Budget" and "Q1 Actual", .... */
function periodColumns(header: string[]): PeriodColumns[] {
  const byKey = new Map<string, Partial<PeriodColumns>>();
  const order: string[] = [];
  header.forEach((h, c) => {
    if (/%|\bpct\b|percent/i.test(h)) return;
    const norm = normaliseLabel(h);
    for (const [re, role] of ROLE_WORD) {
      if (!re.test(norm)) continue;
      const key = norm.replace(re, " ").replace(/\b(inr|usd|eur|gbp|rs|amount|total)\b/g, " ")
        .trim().replace(/\s+/g, " ");
      const period = h.replace(new RegExp(re.source, "i"), " ").replace(/\(.*?\)/g, " ")
        .replace(/^[\s\-–:|/]+|[\s\-–:|/]+$/g, "").replace(/\s+/g, " ").trim();
      let entry = byKey.get(key);
      if (!entry) {
        byKey.set(key, entry = { period: key ? period : "" });
        order.push(key);
      }
      if (entry[role] === undefined) entry[role] = c;
      return;
    }
  });
  return order.map((k) => byKey.get(k)!).filter((e) =>
    e.budget !== undefined && e.actual !== undefined
  )
    .map((e) => ({
      period: e.period!,
      budget: e.budget!,
      actual: e.actual!,
      variance: e.variance ?? -1,
    }));
}

export function variance(
  tables: SourceTable[],
  thresholdPct = DEFAULT_VARIANCE_THRESHOLD_PCT,
): KpiResult {
  for (const input of tables) {
    const table = locateHeader(input);
    const pairs = periodColumns(table.header);
    if (pairs.length === 0) continue;
    const used = new Set(pairs.flatMap((p) => [p.budget, p.actual, p.variance]));
    const periodCol = table.header.findIndex((h, c) => !used.has(c) && isColumn(h, "period"));
    const labelCol = table.header.findIndex((_, c) =>
      !used.has(c) && c !== periodCol &&
      table.rows.some((r) => (r[c] ?? "").trim() && !parseAmount(r[c] ?? ""))
    );
    const periods = new Set(
      periodCol >= 0 ? table.rows.map((r) => (r[periodCol] ?? "").trim()).filter(Boolean) : [],
    );
    const several = pairs.length > 1 || periods.size > 1;
    const rows: KpiRow[] = [];
    const warnings: string[] = [];
    const scalars: KpiScalar[] = [];
    const currencies = new Set<string>();
    const cells: { i: number; row: string[]; line: string; label: string; p: PeriodColumns }[] = [];
    table.rows.forEach((row, i) => {
      const line = labelCol >= 0 ? (row[labelCol] ?? "").trim() : `row ${table.firstRow + i}`;
      for (const p of pairs) {
        const period = periodCol >= 0 ? (row[periodCol] ?? "").trim() : p.period;
        const label = several && period ? `${line} · ${period}` : line;
        cells.push({ i, row, line, label, p });
      }
    });
    for (const { i, row, line, label, p } of cells) {
      const budgetCol = p.budget;
      const actualCol = p.actual;
      const varianceCol = p.variance;
      const b = parseCell(row[budgetCol] ?? "");
      const a = parseCell(row[actualCol] ?? "");
      if (!line || !b || !a || b.percent || a.percent) continue;
      for (const x of [a, b]) if (x.currency) currencies.add(x.currency);
      const budget = stated({ value: b.value, source: cellSource(table, i, budgetCol, label) });
      const actual = stated({ value: a.value, source: cellSource(table, i, actualCol, label) });
      const diff = derived(
        Math.round((actual.value - budget.value) * 100) / 100,
        "actual − budget",
        [actual, budget],
      );
      const pct = budget.value === 0 ? null : derived(
        (diff.value / Math.abs(budget.value)) * 100,
        "variance ÷ |budget|",
        [diff],
        "percent",
      );
      const statedVar = varianceCol >= 0 ? parseAmount(row[varianceCol] ?? "") : null;
      if (statedVar && !statedVar.percent && !agrees(statedVar.value, diff.value)) {
        const cur = pickCurrency(currencies, headerCurrency(table));
        const source = cellSource(table, i, varianceCol, label);
        warnings.push(
          `${label}: the file states a variance of ${formatMoney(statedVar.value, cur)} ` +
            `(${describeSource(source)}) but actual − budget is ${formatMoney(diff.value, cur)}`,
        );
        diff.stated = { value: statedVar.value, source };
      }
      const favourable = isFavourable(line, budget.value, actual.value);
      rows.push({
        key: `line_${rows.length + 1}`,
        label,
        unit: "money",
        cells: [budget, actual, diff, pct],
        favourable,
      });
      if (pct && Math.abs(pct.value) > thresholdPct) {
        scalars.push({
          key: `flag_${rows.length}`,
          label: `${label}: ${formatPercent(Math.abs(pct.value))} ${
            pct.value > 0 ? "over" : "under"
          } budget (${favourable ? "favourable" : "unfavourable"})`,
          figure: pct,
        });
      }
    }
    if (rows.length === 0) continue;
    const currency = pickCurrency(currencies, headerCurrency(table));
    const shown = rows.slice(0, 12);
    return {
      report_type: "variance",
      currency,
      columns: ["Budget", "Actual", "Variance", "Variance %"],
      rows,
      scalars,
      chart: {
        title: rows.length > shown.length
          ? `Budget and actual (first ${shown.length} lines)`
          : "Budget and actual by line",
        labels: shown.map((r) => r.label),
        series: [
          { name: "Budget", values: shown.map((r) => r.cells[0]?.value ?? null) },
          { name: "Actual", values: shown.map((r) => r.cells[1]?.value ?? null) },
        ],
      },
      warnings: [
        ...warnings,
        ...(scalars.length ? [] : [`no line is more than ${thresholdPct}% away from budget`]),
      ],
      sources: collectSources(rows.flatMap((r) => r.cells) as (Figure | null)[]),
    };
  }
  throw new MissingInputError(
    "no budget-vs-actual table was found: upload a CSV or XLSX with a line item column and Budget and Actual columns",
  );
}
