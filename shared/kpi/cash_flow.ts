/**
 * cash_flow: inflows, outflows and net flow per month, the average monthly burn and the runway at
 * the last balance.
 *
 * From a bank statement (a date column, and debit/credit columns or one signed amount column, and
 * optionally a balance column) transactions are summed by calendar month; or from a cash-flow
 * table (inflows/receipts, outflows/payments, closing balance as rows, periods as columns).
 *   net flow = inflows − outflows
 *   average monthly burn = −(average net flow over the months), when that is positive
 *   runway = last balance ÷ average monthly burn (months); none when cash is not burning
 * Beside the months, the period's totals: total inflows, total outflows and the net flow over
 * the whole period (a total column, and scalars). A statement's header is found below its title
 * rows (bank name, account number) as for any table.
 */
import { collectSources, derived, pickCurrency, stated } from "./common.ts";
import { guessDayFirst, monthKey, parseDate } from "./dates.ts";
import { bestLineTable, headerCurrency } from "./extract.ts";
import { locateHeader } from "./layout.ts";
import { MissingInputError } from "./financial.ts";
import { isColumn } from "./labels.ts";
import { parseAmount } from "./numbers.ts";
import { cellSource, type SourceTable } from "./tables.ts";
import type { Figure, KpiResult, KpiRow, KpiScalar, Provenance } from "./types.ts";

interface Month {
  inflows: number;
  outflows: number;
  transactions: number;
  firstRow: number;
  lastRow: number;
  balance?: { value: number; source: Provenance; order: number };
}

interface Monthly {
  table: SourceTable;
  months: string[];
  inflows: Figure[];
  outflows: Figure[];
  balances: (Figure | null)[];
  currency: string | null;
  skipped: number;
}

function fromStatement(input: SourceTable): Monthly | undefined {
  const table = locateHeader(input);
  const col = (role: Parameters<typeof isColumn>[1]) =>
    table.header.findIndex((h) => isColumn(h, role));
  const dateCol = col("date");
  const debitCol = col("debit");
  const creditCol = col("credit");
  const amountCol = col("amount");
  const balanceCol = col("balance");
  if (dateCol < 0 || ((debitCol < 0 || creditCol < 0) && amountCol < 0)) return undefined;
  const dayFirst = guessDayFirst(table.rows.slice(0, 500).map((r) => r[dateCol] ?? ""));
  const byMonth = new Map<string, Month>();
  const currencies = new Set<string>();
  let skipped = 0;
  table.rows.forEach((row, i) => {
    const date = parseDate(row[dateCol] ?? "", dayFirst);
    if (!date) {
      if ((row[dateCol] ?? "").trim()) skipped++;
      return;
    }
    let inflow = 0;
    let outflow = 0;
    const note = (a: ReturnType<typeof parseAmount>) => a?.currency && currencies.add(a.currency);
    if (debitCol >= 0 && creditCol >= 0) {
      const d = parseAmount(row[debitCol] ?? "");
      const c = parseAmount(row[creditCol] ?? "");
      note(d);
      note(c);
      outflow = Math.abs(d?.value ?? 0);
      inflow = Math.abs(c?.value ?? 0);
    } else {
      const a = parseAmount(row[amountCol] ?? "");
      note(a);
      if (!a) return;
      if (a.value >= 0) inflow = a.value;
      else outflow = -a.value;
    }
    const key = monthKey(date);
    const m = byMonth.get(key) ??
      {
        inflows: 0,
        outflows: 0,
        transactions: 0,
        firstRow: table.firstRow + i,
        lastRow: table.firstRow + i,
      };
    m.inflows += inflow;
    m.outflows += outflow;
    m.transactions++;
    m.firstRow = Math.min(m.firstRow, table.firstRow + i);
    m.lastRow = Math.max(m.lastRow, table.firstRow + i);
    if (balanceCol >= 0) {
      const b = parseAmount(row[balanceCol] ?? "");
      note(b);
      const order = date.day * 100_000 + i;
      if (b && (!m.balance || order >= m.balance.order)) {
        m.balance = {
          value: b.value,
          source: cellSource(table, i, balanceCol, row[dateCol]),
          order,
        };
      }
    }
    byMonth.set(key, m);
  });
  if (byMonth.size === 0) return undefined;
  const months = [...byMonth.keys()].sort();
  const range = (m: Month, c: number, what: string): Provenance => ({
    ...cellSource(table, m.firstRow - table.firstRow, c, `${what}: ${m.transactions} transactions`),
    last_row: m.lastRow,
  });
  return {
    table,
    months,
    inflows: months.map((k) => {
      const m = byMonth.get(k)!;
      return {
        value: round2(m.inflows),
        unit: "money",
        formula: "sum of credits",
        inputs: [range(m, creditCol >= 0 ? creditCol : amountCol, "credits")],
      };
    }),
    outflows: months.map((k) => {
      const m = byMonth.get(k)!;
      return {
        value: round2(m.outflows),
        unit: "money",
        formula: "sum of debits",
        inputs: [range(m, debitCol >= 0 ? debitCol : amountCol, "debits")],
      };
    }),
    balances: months.map((k) => {
      const b = byMonth.get(k)!.balance;
      return b ? { value: b.value, unit: "money", source: b.source } : null;
    }),
    currency: pickCurrency(currencies, headerCurrency(table)),
    skipped,
  };
}

function fromCashTable(tables: SourceTable[]): Monthly | undefined {
  const lt = bestLineTable(tables, ["inflows", "outflows", "closing_balance"], "inflows");
  if (!lt || !lt.items.has("inflows") || !lt.items.has("outflows")) return undefined;
  const cell = (item: "inflows" | "outflows" | "closing_balance", p: string, abs: boolean) => {
    const c = lt.items.get(item)?.get(p);
    return c ? stated(c, "money", abs) : null;
  };
  const months = lt.periods.filter((p) => cell("inflows", p, true) && cell("outflows", p, true));
  return {
    table: lt.table,
    months,
    inflows: months.map((p) => cell("inflows", p, true)!),
    outflows: months.map((p) => cell("outflows", p, true)!),
    balances: months.map((p) => cell("closing_balance", p, false)),
    currency: pickCurrency(lt.currencies, headerCurrency(lt.table)),
    skipped: 0,
  };
}

const round2 = (x: number) => Math.round(x * 100) / 100;

function lastOf(balances: (Figure | null)[]): Figure | null {
  let last: Figure | null = null;
  for (const b of balances) if (b) last = b;
  return last;
}

export function cashFlow(tables: SourceTable[]): KpiResult {
  let data: Monthly | undefined;
  for (const t of tables) data ??= fromStatement(t);
  data ??= fromCashTable(tables);
  if (!data) {
    throw new MissingInputError(
      "no bank statement or cash-flow table was found: upload a CSV or XLSX with date, description, debit and credit (or amount) and balance columns, or a cash-flow table with inflows and outflows by period",
    );
  }
  const warnings: string[] = [];
  if (data.skipped > 0) {
    warnings.push(
      `${data.skipped} rows of ${data.table.file} have a date that could not be read and were left out`,
    );
  }
  const net = data.months.map((_, i) =>
    derived(round2(data.inflows[i]!.value - data.outflows[i]!.value), "inflows − outflows", [
      data.inflows[i],
      data.outflows[i],
    ])
  );
  const rows: KpiRow[] = [
    { key: "inflows", label: "Inflows", unit: "money", cells: data.inflows },
    { key: "outflows", label: "Outflows", unit: "money", cells: data.outflows },
    { key: "net_flow", label: "Net flow", unit: "money", cells: net },
  ];
  if (data.balances.some((b) => b)) {
    rows.push({
      key: "closing_balance",
      label: "Closing balance",
      unit: "money",
      cells: data.balances,
    });
  }
  const total = (cells: Figure[], label: string) =>
    derived(
      round2(cells.reduce((s, f) => s + f.value, 0)),
      `${label} summed over the months`,
      cells,
    );
  rows[0]!.total = total(data.inflows, "inflows");
  rows[1]!.total = total(data.outflows, "outflows");
  rows[2]!.total = derived(
    round2(rows[0]!.total.value - rows[1]!.total.value),
    "total inflows − total outflows",
    [rows[0]!.total, rows[1]!.total],
  );
  if (rows[3]) rows[3].total = lastOf(data.balances);
  const scalars: KpiScalar[] = [
    { key: "total_inflows", label: "Total inflows for the period", figure: rows[0]!.total },
    { key: "total_outflows", label: "Total outflows for the period", figure: rows[1]!.total },
    { key: "net_flow_total", label: "Net flow for the period", figure: rows[2]!.total },
  ];
  const avgNet = net.reduce((s, f) => s + f.value, 0) / net.length;
  const burn = derived(round2(Math.max(0, -avgNet)), "−(average monthly net flow)", net);
  scalars.push({ key: "average_monthly_burn", label: "Average monthly burn", figure: burn });
  let lastBalance: Figure | null = null;
  for (const b of data.balances) if (b) lastBalance = b;
  if (lastBalance) {
    scalars.push({ key: "last_balance", label: "Last balance", figure: lastBalance });
    if (burn.value > 0) {
      scalars.push({
        key: "runway_months",
        label: "Runway",
        figure: derived(
          Math.round((lastBalance.value / burn.value) * 10) / 10,
          "last balance ÷ average monthly burn",
          [lastBalance, burn],
          "months",
        ),
      });
    } else {warnings.push(
        "cash is not burning on average (net flow is positive): no runway is computed",
      );}
  } else {
    warnings.push(
      'no balance column (looked for "Balance", "Closing balance", "Running balance") or ' +
        'closing balance row (looked for "Closing balance", "Cash at end"): runway cannot be computed',
    );
  }
  return {
    report_type: "cash_flow",
    currency: data.currency,
    columns: data.months,
    rows,
    scalars,
    chart: {
      title: "Inflows, outflows and net flow by month",
      labels: data.months,
      series: [
        { name: "Inflows", values: data.inflows.map((f) => f.value) },
        { name: "Outflows", values: data.outflows.map((f) => f.value) },
        { name: "Net flow", values: net.map((f) => f.value) },
      ],
    },
    warnings,
    sources: collectSources([...rows.flatMap((r) => r.cells), ...scalars.map((s) => s.figure)]),
    total_column: data.months.length > 1 ? "Total" : "Period",
  };
}
