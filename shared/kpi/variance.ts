/**
 * variance: budget against actual per line.
 *   variance = actual − budget;  variance % = variance ÷ |budget| × 100
 * Lines whose |variance %| exceeds the threshold (default 10%) are flagged. A variance column in
 * the file that disagrees with actual − budget is warned about (both values shown).
 */
import { agrees, collectSources, derived, pickCurrency, stated } from "./common.ts";
import { headerCurrency } from "./extract.ts";
import { MissingInputError } from "./financial.ts";
import { isColumn } from "./labels.ts";
import { formatMoney, formatPercent, parseAmount } from "./numbers.ts";
import { cellSource, describeSource, type SourceTable } from "./tables.ts";
import type { Figure, KpiResult, KpiRow, KpiScalar } from "./types.ts";

export const DEFAULT_VARIANCE_THRESHOLD_PCT = 10;

export function variance(
  tables: SourceTable[],
  thresholdPct = DEFAULT_VARIANCE_THRESHOLD_PCT,
): KpiResult {
  for (const table of tables) {
    const col = (role: Parameters<typeof isColumn>[1]) =>
      table.header.findIndex((h) => isColumn(h, role));
    const budgetCol = col("budget");
    const actualCol = col("actual");
    if (budgetCol < 0 || actualCol < 0) continue;
    const varianceCol = col("variance");
    const labelCol = table.header.findIndex((_, c) =>
      c !== budgetCol && c !== actualCol &&
      table.rows.some((r) => (r[c] ?? "").trim() && !parseAmount(r[c] ?? ""))
    );
    const rows: KpiRow[] = [];
    const warnings: string[] = [];
    const scalars: KpiScalar[] = [];
    const currencies = new Set<string>();
    table.rows.forEach((row, i) => {
      const label = labelCol >= 0 ? (row[labelCol] ?? "").trim() : `row ${table.firstRow + i}`;
      const b = parseAmount(row[budgetCol] ?? "");
      const a = parseAmount(row[actualCol] ?? "");
      if (!label || !b || !a || b.percent || a.percent) return;
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
      rows.push({
        key: `line_${rows.length + 1}`,
        label,
        unit: "money",
        cells: [budget, actual, diff, pct],
      });
      if (pct && Math.abs(pct.value) > thresholdPct) {
        scalars.push({
          key: `flag_${rows.length}`,
          label: `${label}: ${formatPercent(Math.abs(pct.value))} ${
            pct.value > 0 ? "over" : "under"
          } budget`,
          figure: pct,
        });
      }
    });
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
