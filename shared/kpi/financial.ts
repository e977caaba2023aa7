/**
 * financial_summary: a P&L per period. Stated lines are read as written; costs (COGS, operating
 * expenses, D&A, interest, tax) count as positive amounts whichever sign the file gives them.
 * Missing lines are derived:
 *   gross profit = revenue − COGS
 *   operating expenses = the sum of the expense lines (salaries, rent, marketing, ...)
 *   EBITDA = net income + interest + tax + D&A, else operating profit (EBIT) + D&A, else
 *            gross profit − operating expenses
 *   net income = EBITDA − D&A − interest − tax
 * A stated line that disagrees with its derivation keeps the stated value with the derived one
 * beside it (`computed`), and a warning shows both.
 */
import {
  agrees,
  changeRows,
  collectSources,
  derived,
  percentOf,
  pickCurrency,
  stated,
} from "./common.ts";
import { bestLineTable, type Cell, headerCurrency, type LineTable } from "./extract.ts";
import type { LineItem } from "./labels.ts";
import { formatMoney } from "./numbers.ts";
import { describeSource, type SourceTable } from "./tables.ts";
import type { Figure, KpiResult, KpiRow } from "./types.ts";

const COSTS: LineItem[] = ["cogs", "opex", "da", "interest", "tax"];

export class MissingInputError extends Error {
  override name = "MissingInputError";
}

export function financialSummary(tables: SourceTable[]): KpiResult {
  const lt = bestLineTable(tables, [
    "revenue",
    "cogs",
    "gross_profit",
    "opex",
    "ebitda",
    "net_income",
  ]);
  if (!lt || !lt.items.has("revenue")) {
    throw new MissingInputError(
      "no P&L table was found: upload a CSV or XLSX with line items (Revenue, COGS, Operating expenses, Net income) as rows and periods as columns, or columns period, account, amount",
    );
  }
  const currency = pickCurrency(lt.currencies, headerCurrency(lt.table));
  const warnings: string[] = [];
  const get = (item: LineItem, period: string): Figure | null => {
    const cell = lt.items.get(item)?.get(period);
    return cell ? stated(cell, "money", COSTS.includes(item)) : null;
  };
  const check = (
    label: string,
    period: string,
    statedFig: Figure | null,
    computed: Figure | null,
    how: string,
  ) => {
    if (!statedFig || !computed || agrees(statedFig.value, computed.value)) {
      return statedFig ?? computed;
    }
    warnings.push(
      `${label} for ${period}: the file states ${formatMoney(statedFig.value, currency)} ` +
        `(${describeSource(statedFig.source!)}) but ${how} gives ${
          formatMoney(computed.value, currency)
        }; both are shown`,
    );
    return { ...statedFig, computed: { value: computed.value, formula: how } };
  };

  const rows: Record<string, (Figure | null)[]> = {};
  const put = (key: string, f: Figure | null) => (rows[key] ??= []).push(f);
  for (const period of lt.periods) {
    const revenue = get("revenue", period);
    const cogs = get("cogs", period);
    const gpComputed = revenue && cogs
      ? derived(revenue.value - cogs.value, "revenue − COGS", [revenue, cogs])
      : null;
    const gp = check(
      "Gross profit",
      period,
      get("gross_profit", period),
      gpComputed,
      "revenue − COGS",
    );
    const opex = get("opex", period) ?? sumParts(lt, period);
    const da = get("da", period);
    const interest = get("interest", period);
    const tax = get("tax", period);
    const niStated = get("net_income", period);
    const ebit = get("ebit", period);
    let ebitdaComputed: Figure | null = null;
    let ebitdaHow = "";
    if (niStated && da && interest && tax) {
      ebitdaComputed = derived(
        niStated.value + interest.value + tax.value + da.value,
        "net income + interest + tax + D&A",
        [niStated, interest, tax, da],
      );
      ebitdaHow = "net income + interest + tax + D&A";
    } else if (ebit && da) {
      ebitdaComputed = derived(ebit.value + da.value, "operating profit + D&A", [ebit, da]);
      ebitdaHow = "operating profit + D&A";
    } else if (gp && opex) {
      ebitdaComputed = derived(gp.value - opex.value, "gross profit − operating expenses", [
        gp,
        opex,
      ]);
      ebitdaHow = "gross profit − operating expenses";
    }
    const ebitda = check("EBITDA", period, get("ebitda", period), ebitdaComputed, ebitdaHow);
    const niComputed = ebitda && da && interest && tax
      ? derived(
        ebitda.value - da.value - interest.value - tax.value,
        "EBITDA − D&A − interest − tax",
        [ebitda, da, interest, tax],
      )
      : null;
    const ni = niStated && ebitdaHow.startsWith("net income")
      ? niStated
      : check("Net income", period, niStated, niComputed, "EBITDA − D&A − interest − tax");
    put("revenue", revenue);
    put("cogs", cogs);
    put("gross_profit", gp);
    put("gross_margin", percentOf(gp, revenue, "gross profit ÷ revenue"));
    put("opex", opex);
    put("ebitda", ebitda);
    put("da", da);
    put("interest", interest);
    put("tax", tax);
    put("net_income", ni);
    put("net_margin", percentOf(ni, revenue, "net income ÷ revenue"));
  }
  const row = (key: string, label: string, unit: KpiRow["unit"] = "money"): KpiRow => ({
    key,
    label,
    unit,
    cells: rows[key] ?? [],
  });
  const main = [
    row("revenue", "Revenue"),
    row("cogs", "COGS"),
    row("gross_profit", "Gross profit"),
    row("gross_margin", "Gross margin", "percent"),
    row("opex", "Operating expenses"),
    row("ebitda", "EBITDA"),
    row("da", "D&A"),
    row("interest", "Interest"),
    row("tax", "Tax"),
    row("net_income", "Net income"),
    row("net_margin", "Net margin", "percent"),
  ];
  const kept = main.filter((r) => r.cells.some((c) => c !== null));
  for (const r of main) {
    if (!kept.includes(r)) {
      warnings.push(`${r.label} is not in the table and cannot be derived from it`);
    }
  }
  const changes = lt.periods.length > 1
    ? ["revenue", "gross_profit", "ebitda", "net_income"].flatMap((k) => {
      const r = kept.find((x) => x.key === k);
      return r ? changeRows(r) : [];
    })
    : [];
  const all = [...kept, ...changes];
  const values = (key: string) => (rows[key] ?? []).map((f) => f?.value ?? null);
  const costs = lt.periods.map((_, i) => {
    const c = rows.cogs?.[i]?.value ?? 0;
    const o = rows.opex?.[i]?.value ?? 0;
    return rows.cogs?.[i] || rows.opex?.[i] ? c + o : null;
  });
  return {
    report_type: "financial_summary",
    currency,
    columns: lt.periods,
    rows: all,
    scalars: [],
    chart: {
      title: "Revenue, costs (COGS + operating expenses) and net income by period",
      labels: lt.periods,
      series: [
        { name: "Revenue", values: values("revenue") },
        { name: "Costs", values: costs },
        { name: "Net income", values: values("net_income") },
      ],
    },
    warnings,
    sources: collectSources(all.flatMap((r) => r.cells)),
  };
}

function sumParts(lt: LineTable, period: string): Figure | null {
  const parts: Cell[] = lt.opexParts.get(period) ?? [];
  if (parts.length === 0) return null;
  const figs = parts.map((p) => stated(p, "money", true));
  return derived(figs.reduce((s, f) => s + f.value, 0), "sum of operating expense lines", figs);
}
