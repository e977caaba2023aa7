/**
 * financial_summary: a P&L per period, and a total column when the periods are months, quarters
 * or halves. Stated lines are read as written; costs (COGS, operating expenses, D&A, interest,
 * tax) count as positive amounts whichever sign the file gives them (a change in inventories
 * keeps its sign against the file's cost convention). Missing lines are derived:
 *   revenue = revenue, else total income − other income (unknown lines above the costs are
 *            checked against a stated "Total revenue", never taken for revenue)
 *   COGS = the cost-of-sales lines (materials consumed, purchases, change in inventories)
 *   gross profit = revenue − COGS
 *   operating expenses = the sum of the expense lines (salaries, rent, and any unknown line that
 *            sits among the expenses), else total expenses − COGS − D&A − interest
 *   EBITDA = net income + interest + tax + D&A (− other income), else profit before tax +
 *            interest + D&A (− other income), else operating profit (EBIT) + D&A, else gross
 *            profit − operating expenses (revenue − operating expenses without COGS)
 *   net income = profit before tax − tax, else EBITDA − D&A − interest − tax (+ other income)
 * A stated line or total that disagrees with its derivation or with the sum of its lines keeps
 * the stated value with the derived one beside it (`computed`), and a warning shows both. Every
 * line of the table is listed in `lines` with what it was used as; unknown lines counted by
 * position and lines not used are also warned about, with their cells.
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
import {
  bestLineTable,
  type Cell,
  headerCurrency,
  type LineTable,
  type PartKind,
} from "./extract.ts";
import { type LineItem, lookedFor } from "./labels.ts";
import { formatMoney } from "./numbers.ts";
import { summable } from "./periods.ts";
import { describeSource, type SourceTable } from "./tables.ts";
import type { Figure, KpiResult, KpiRow } from "./types.ts";

const COSTS: LineItem[] = ["cogs", "opex", "da", "interest", "tax", "total_expenses"];
const WANTED: LineItem[] = ["revenue", "cogs", "gross_profit", "opex", "ebitda", "net_income"];

/** What a report type needs and a workbench's tables lack: the report cannot be made. */
export class MissingInputError extends Error {
  override name = "MissingInputError";
  constructor(
    message: string,
    /** The tables found (file, sheet, header row, layout, line items) and the inputs lacking. */
    readonly details: { found?: string[]; lacks?: string[] } = {},
  ) {
    super(message);
  }
}

/** "pnl.xlsx, sheet P&L (header at row 4, line items as rows: revenue, cogs; periods FY25)". */
export function describeLineTable(lt: LineTable): string {
  const layout =
    { wide: "line items as rows", long: "period/account/amount", rows: "periods as rows" }[
      lt.layout
    ];
  const items = [...lt.items.keys(), ...lt.parts.keys()].join(", ") || "no known line items";
  return `${lt.table.file}${lt.table.sheet !== undefined ? `, sheet ${lt.table.sheet}` : ""} ` +
    `(header at row ${lt.table.firstRow - 1}, ${layout}: ${items}; periods ${
      lt.periods.join(", ") || "none"
    })`;
}

export function financialSummary(tables: SourceTable[]): KpiResult {
  const lt = bestLineTable(tables, WANTED, "revenue");
  if (!lt) {
    const other = bestLineTable(tables, WANTED);
    if (other) {
      throw new MissingInputError(
        `a P&L table was found but it has no revenue line: looked for ${lookedFor("revenue")} in ${
          describeLineTable(other)
        }`,
        { found: [describeLineTable(other)], lacks: [`revenue (${lookedFor("revenue")})`] },
      );
    }
    throw new MissingInputError(
      "no P&L table was found: upload a CSV or XLSX with line items (Revenue, COGS, Operating expenses, Net income) as rows and periods as columns, one row per period with line items as columns, or columns period, account, amount",
      { lacks: ["a P&L table"] },
    );
  }
  const currency = pickCurrency(lt.currencies, headerCurrency(lt.table));
  const warnings: string[] = [...lt.warnings];
  const get = (item: LineItem, period: string): Figure | null => {
    const cell = lt.items.get(item)?.get(period);
    return cell ? stated(cell, "money", COSTS.includes(item)) : null;
  };
  const partsOf = (kind: PartKind, period: string): Cell[] => lt.parts.get(kind)?.get(period) ?? [];
  const sumOf = (kinds: PartKind[], period: string, formula: string): Figure | null => {
    const figs: Figure[] = [];
    for (const kind of kinds) {
      for (const c of partsOf(kind, period)) {
        figs.push(
          kind === "inventory_change"
            ? { value: c.value * lt.costSign, unit: "money", source: c.source }
            : kind === "revenue_part"
            ? stated(c)
            : stated(c, "money", true),
        );
      }
    }
    if (figs.length === 0) return null;
    return derived(figs.reduce((s, f) => s + f.value, 0), formula, figs);
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
  const sum = (figs: (Figure | null)[], formula: string): Figure | null => {
    const present = figs.filter((f): f is Figure => f !== null);
    return present.length === 0
      ? null
      : derived(present.reduce((s, f) => s + f.value, 0), formula, present);
  };
  const revenueLabel = lt.uses.find((u) => u.used_as === "revenue")?.label ?? "";
  const incomeChecked = lt.incomeUses.length > 0 && /^total\b/i.test(revenueLabel);
  if (incomeChecked) {
    for (const u of lt.incomeUses) {
      u.used_as = "revenue (a line of the stated total)";
      u.how = "position";
      u.note = "not a known line item, above the costs";
    }
  }

  const rows: Record<string, (Figure | null)[]> = {};
  const put = (key: string, f: Figure | null) => (rows[key] ??= []).push(f);
  const hasCogsLine = lt.items.has("cogs") || lt.parts.has("cogs_part");
  for (const period of lt.periods) {
    const other = lt.items.get("other_income")?.get(period)
      ? stated(lt.items.get("other_income")!.get(period)!)
      : null;
    const totalIncome = get("total_income", period);
    const incomeParts = sumOf(["revenue_part"], period, "sum of income lines");
    let revenue = get("revenue", period);
    if (revenue && incomeChecked) {
      revenue = check("Revenue", period, revenue, incomeParts, "the sum of its lines");
    }
    if (!revenue && totalIncome) {
      revenue = other
        ? derived(totalIncome.value - other.value, "total income − other income", [
          totalIncome,
          other,
        ])
        : totalIncome;
    }
    if (totalIncome && revenue && other && revenue !== totalIncome && !revenue.formula) {
      check(
        "Total income",
        period,
        totalIncome,
        derived(revenue.value + other.value, "revenue + other income", [revenue, other]),
        "revenue + other income",
      );
    }
    const cogsParts = sumOf(
      ["cogs_part", "inventory_change"],
      period,
      "sum of cost of sales lines",
    );
    const cogs = check("COGS", period, get("cogs", period), cogsParts, "the sum of its lines");
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
    const da = get("da", period);
    const interest = get("interest", period);
    const opexParts = sumOf(["opex_part"], period, "sum of operating expense lines");
    const totalExpenses = get("total_expenses", period);
    let opex = check(
      "Operating expenses",
      period,
      get("opex", period),
      opexParts,
      "the sum of its lines",
    );
    if (!opex && totalExpenses) {
      const less = [cogs, da, interest].filter((f): f is Figure => f !== null);
      opex = derived(
        totalExpenses.value - less.reduce((s, f) => s + f.value, 0),
        "total expenses − COGS − D&A − interest",
        [totalExpenses, ...less],
      );
    } else if (totalExpenses) {
      const all = sum([cogs, opex, da, interest], "COGS + operating expenses + D&A + interest");
      check(
        "Total expenses",
        period,
        totalExpenses,
        all,
        "COGS + operating expenses + D&A + interest",
      );
    }
    const tax = check(
      "Tax",
      period,
      get("tax", period),
      sumOf(["tax_part"], period, "sum of tax lines"),
      "the sum of its lines",
    );
    const niStated = get("net_income", period);
    const pbt = lt.items.get("pbt")?.get(period) ? stated(lt.items.get("pbt")!.get(period)!) : null;
    const ebit = get("ebit", period);
    const lessOther = other ? " − other income" : "";
    const minusOther = other ? other.value : 0;
    let ebitdaComputed: Figure | null = null;
    let ebitdaHow = "";
    const operating = gp && opex
      ? derived(gp.value - opex.value, "gross profit − operating expenses", [gp, opex])
      : !hasCogsLine && revenue && opex
      ? derived(revenue.value - opex.value, "revenue − operating expenses", [revenue, opex])
      : null;
    if (niStated && da && interest && tax) {
      ebitdaHow = `net income + interest + tax + D&A${lessOther}`;
      ebitdaComputed = derived(
        niStated.value + interest.value + tax.value + da.value - minusOther,
        ebitdaHow,
        [niStated, interest, tax, da, other],
      );
    } else if (pbt && da && interest) {
      ebitdaHow = `profit before tax + interest + D&A${lessOther}`;
      ebitdaComputed = derived(
        pbt.value + interest.value + da.value - minusOther,
        ebitdaHow,
        [pbt, interest, da, other],
      );
    } else if (ebit && da) {
      ebitdaHow = "operating profit + D&A";
      ebitdaComputed = derived(ebit.value + da.value, ebitdaHow, [ebit, da]);
    } else if (operating) {
      ebitdaHow = operating.formula!;
      ebitdaComputed = operating;
    }
    if (
      ebitdaComputed && operating && ebitdaComputed !== operating &&
      !agrees(ebitdaComputed.value, operating.value) && !get("ebitda", period)
    ) {
      warnings.push(
        `EBITDA for ${period}: ${ebitdaHow} gives ${formatMoney(ebitdaComputed.value, currency)} ` +
          `but ${operating.formula} gives ${formatMoney(operating.value, currency)}; ` +
          `the table's lines do not add up`,
      );
    }
    const ebitda = check("EBITDA", period, get("ebitda", period), ebitdaComputed, ebitdaHow);
    const niFromPbt = pbt && tax
      ? derived(pbt.value - tax.value, "profit before tax − tax", [pbt, tax])
      : null;
    const niHow = `EBITDA − D&A − interest − tax${other ? " + other income" : ""}`;
    const niComputed = niFromPbt ??
      (ebitda && da && interest && tax
        ? derived(
          ebitda.value - da.value - interest.value - tax.value + minusOther,
          niHow,
          [ebitda, da, interest, tax, other],
        )
        : null);
    const ni = niStated && ebitdaHow.startsWith("net income")
      ? niStated
      : check("Net income", period, niStated, niComputed, niFromPbt ? niFromPbt.formula! : niHow);
    put("revenue", revenue);
    put("cogs", cogs);
    put("gross_profit", gp);
    put("gross_margin", percentOf(gp, revenue, "gross profit ÷ revenue"));
    put("opex", opex);
    put("ebitda", ebitda);
    put("other_income", other);
    put("da", da);
    put("interest", interest);
    put("pbt", pbt);
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
    row("other_income", "Other income"),
    row("da", "D&A"),
    row("interest", "Interest"),
    row("pbt", "Profit before tax"),
    row("tax", "Tax"),
    row("net_income", "Net income"),
    row("net_margin", "Net margin", "percent"),
  ];
  const OPTIONAL = new Set(["other_income", "pbt"]);
  const INPUT_OF: Record<string, LineItem> = {
    revenue: "revenue",
    cogs: "cogs",
    gross_profit: "gross_profit",
    gross_margin: "gross_profit",
    opex: "opex",
    ebitda: "ebitda",
    da: "da",
    interest: "interest",
    tax: "tax",
    net_income: "net_income",
    net_margin: "net_income",
  };
  const kept = main.filter((r) => r.cells.some((c) => c !== null));
  for (const r of main) {
    if (!kept.includes(r) && !OPTIONAL.has(r.key)) {
      warnings.push(
        `${r.label} is not in the table and cannot be derived from it (looked for ${
          lookedFor(INPUT_OF[r.key]!)
        } in ${describeLineTable(lt)})`,
      );
    }
  }
  for (const u of lt.uses) {
    if (u.how === "position" && u.used_as === "operating expense") {
      warnings.push(
        `"${u.label}" (${describeSource(u.source)}) is not a known line item: ` +
          `counted as an operating expense because it sits among the expenses`,
      );
    } else if (u.how === "not_used" && !u.note?.startsWith("a ratio")) {
      warnings.push(`"${u.label}" (${describeSource(u.source)}) was not used: ${u.note}`);
    }
  }
  let totalColumn: string | undefined;
  if (summable(lt.periods)) {
    totalColumn = "Total";
    const totals = new Map<string, Figure | null>();
    for (const r of kept) {
      if (r.unit !== "money") continue;
      totals.set(
        r.key,
        r.cells.every((c) => c !== null)
          ? derived(
            r.cells.reduce((s, c) => s + c!.value, 0),
            `${r.label} summed over the periods`,
            r.cells,
          )
          : null,
      );
      r.total = totals.get(r.key)!;
    }
    const margin = (part: string, label: string) =>
      percentOf(totals.get(part) ?? null, totals.get("revenue") ?? null, label);
    for (const r of kept) {
      if (r.key === "gross_margin") r.total = margin("gross_profit", "gross profit ÷ revenue");
      if (r.key === "net_margin") r.total = margin("net_income", "net income ÷ revenue");
    }
  }
  const changes = lt.periods.length > 1
    ? ["revenue", "gross_profit", "ebitda", "net_income"].flatMap((k) => {
      const r = kept.find((x) => x.key === k);
      return r ? changeRows(r) : [];
    })
    : [];
  if (totalColumn) { for (const c of changes) c.total = null; }
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
    ...(totalColumn ? { total_column: totalColumn } : {}),
    lines: lt.uses,
  };
}
