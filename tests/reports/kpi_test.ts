import assert from "node:assert/strict";
import {
  computeKpis,
  formatMoney,
  type KpiResult,
  matchLineItem,
  mayHoldInput,
  parseAmount,
} from "../../shared/kpi/mod.ts";
// An internal under unit test, imported past the face.
import { parseDate } from "../../shared/kpi/dates.ts";
import { readTables } from "../../shared/reports/mod.ts";
import {
  bankCsv,
  bankTransactions,
  BUDGET,
  budgetCsv,
  FIXTURE_FILES,
  PERIODS,
  PNL,
  pnlCsv,
  pnlDerived,
  pnlLongCsv,
  pnlXlsx,
} from "../fixtures/reports/data.ts";

const enc = (s: string) => new TextEncoder().encode(s);

function row(kpis: KpiResult, key: string): (number | null)[] {
  const r = kpis.rows.find((x) => x.key === key);
  assert.ok(r, `row ${key}`);
  return r.cells.map((c) => c?.value ?? null);
}

const close = (a: number | null, b: number) =>
  assert.ok(a !== null && Math.abs(a - b) < 1e-6, `${a} ≈ ${b}`);

Deno.test("parseAmount() reads Indian and Western grouping, symbols, parentheses and %", () => {
  assert.deepEqual(parseAmount("₹1,20,000"), { value: 120000, percent: false, currency: "INR" });
  assert.deepEqual(parseAmount("(₹4,80,000)"), { value: -480000, percent: false, currency: "INR" });
  assert.deepEqual(parseAmount("-₹60,000"), { value: -60000, percent: false, currency: "INR" });
  assert.deepEqual(parseAmount("$1,234,567.89"), {
    value: 1234567.89,
    percent: false,
    currency: "USD",
  });
  assert.deepEqual(parseAmount("Rs. 12,50,000"), {
    value: 1250000,
    percent: false,
    currency: "INR",
  });
  assert.deepEqual(parseAmount("12.5%"), { value: 12.5, percent: true });
  assert.deepEqual(parseAmount("(310,000)"), { value: -310000, percent: false });
  assert.deepEqual(parseAmount("12,50,000"), { value: 1250000, percent: false, currency: "INR" });
  assert.deepEqual(parseAmount("1200−"), { value: -1200, percent: false });
  assert.deepEqual(parseAmount("5,000 Dr"), { value: -5000, percent: false });
  assert.deepEqual(parseAmount("€ 1 200,"), null);
  for (const bad of ["", "-", "n/a", "Apr-2025", "1,2,3", "12,34", "2025-04-01", "abc123"]) {
    assert.equal(parseAmount(bad), null, bad);
  }
});

Deno.test("formatMoney() groups INR the Indian way and others in thousands", () => {
  assert.equal(formatMoney(1200000, "INR"), "12,00,000");
  assert.equal(formatMoney(-60000, "INR"), "-60,000");
  assert.equal(formatMoney(1200000, "USD"), "1,200,000");
  assert.equal(formatMoney(12.345, null), "12.35");
});

Deno.test("matchLineItem() ignores case and punctuation and knows the synonyms", () => {
  assert.equal(matchLineItem("Total Revenue"), "revenue");
  assert.equal(matchLineItem("NET SALES"), "revenue");
  assert.equal(matchLineItem("Cost of Goods Sold"), "cogs");
  assert.equal(matchLineItem("C.O.G.S."), undefined);
  assert.equal(matchLineItem("cost-of-sales"), "cogs");
  assert.equal(matchLineItem("Depreciation & Amortisation"), "da");
  assert.equal(matchLineItem("Profit after tax"), "net_income");
  assert.equal(matchLineItem("Salaries & wages"), "opex_part");
  assert.equal(matchLineItem("Apr-2025"), undefined);
});

Deno.test("parseDate() reads day-first, ISO and named-month dates", () => {
  assert.deepEqual(parseDate("03/04/2025"), { year: 2025, month: 4, day: 3 });
  assert.deepEqual(parseDate("03/04/2025", false), { year: 2025, month: 3, day: 4 });
  assert.deepEqual(parseDate("2025-09-30"), { year: 2025, month: 9, day: 30 });
  assert.deepEqual(parseDate("3-Sep-25"), { year: 2025, month: 9, day: 3 });
  assert.deepEqual(parseDate("Sep 3, 2025"), { year: 2025, month: 9, day: 3 });
  assert.equal(parseDate("Opening balance"), undefined);
});

function assertPnl(kpis: KpiResult, currency: string | null) {
  assert.deepEqual(kpis.columns, PERIODS);
  assert.equal(kpis.currency, currency);
  PERIODS.forEach((_, i) => {
    const d = pnlDerived(i);
    close(row(kpis, "revenue")[i]!, PNL.revenue[i]!);
    close(row(kpis, "cogs")[i]!, PNL.cogs[i]!);
    close(row(kpis, "gross_profit")[i]!, d.grossProfit);
    close(row(kpis, "gross_margin")[i]!, (d.grossProfit / PNL.revenue[i]!) * 100);
    close(row(kpis, "opex")[i]!, d.opex);
    close(row(kpis, "ebitda")[i]!, d.ebitda);
    close(row(kpis, "da")[i]!, PNL.da[i]!);
    close(row(kpis, "interest")[i]!, PNL.interest[i]!);
    close(row(kpis, "tax")[i]!, PNL.tax[i]!);
    close(row(kpis, "net_income")[i]!, d.netIncome);
    if (i > 0) {
      const prev = PNL.revenue[i - 1]!;
      close(row(kpis, "revenue_change")[i]!, PNL.revenue[i]! - prev);
      close(row(kpis, "revenue_change_pct")[i]!, ((PNL.revenue[i]! - prev) / prev) * 100);
      const prevNi = pnlDerived(i - 1).netIncome;
      close(
        row(kpis, "net_income_change_pct")[i]!,
        ((d.netIncome - prevNi) / Math.abs(prevNi)) * 100,
      );
    } else assert.equal(row(kpis, "revenue_change")[0], null);
  });
}

Deno.test("computeKpis(financial_summary) reads a wide ₹ P&L CSV with parentheses costs", async () => {
  const tables = await readTables("pnl.csv", "csv", enc(pnlCsv()));
  const kpis = computeKpis("financial_summary", tables);
  assertPnl(kpis, "INR");
  assert.deepEqual(kpis.warnings, []);
  const revenueMay = kpis.rows[0]!.cells[1]!;
  assert.deepEqual(revenueMay.source, {
    file: "pnl.csv",
    row: 2,
    column: "May-2025 (C)",
    label: "Revenue from operations",
  });
  // Nine stated lines × six months (expense lines are not needed: the total is stated).
  assert.equal(kpis.sources.length, 9 * 6);
});

Deno.test("computeKpis(financial_summary) gives the same KPIs from the XLSX's second sheet", async () => {
  const tables = await readTables("pnl.xlsx", "xlsx", pnlXlsx());
  assert.equal(tables.length, 2);
  const kpis = computeKpis("financial_summary", tables);
  assertPnl(kpis, null); // numbers without a currency sign
  assert.deepEqual(kpis.warnings, []);
  assert.equal(kpis.rows[0]!.cells[0]!.source?.sheet, "P&L FY26");
});

Deno.test("computeKpis(financial_summary) derives gross profit, opex, EBITDA and net income from a long P&L", async () => {
  const kpis = computeKpis(
    "financial_summary",
    await readTables("long.csv", "csv", enc(pnlLongCsv())),
  );
  PERIODS.forEach((_, i) => {
    const d = pnlDerived(i);
    close(row(kpis, "gross_profit")[i]!, d.grossProfit);
    close(row(kpis, "opex")[i]!, d.opex);
    close(row(kpis, "ebitda")[i]!, d.ebitda);
    close(row(kpis, "net_income")[i]!, d.netIncome);
  });
  const gp = kpis.rows.find((r) => r.key === "gross_profit")!.cells[0]!;
  assert.equal(gp.formula, "revenue − COGS");
  assert.equal(gp.inputs?.length, 2);
});

Deno.test("computeKpis(financial_summary) shows a stated value that disagrees, and warns with both", async () => {
  const csv = pnlCsv().replace('Gross Profit,"₹7,20,000"', 'Gross Profit,"₹7,30,000"');
  const kpis = computeKpis("financial_summary", await readTables("pnl.csv", "csv", enc(csv)));
  assert.equal(row(kpis, "gross_profit")[0], 730000);
  const gp = kpis.rows.find((r) => r.key === "gross_profit")!.cells;
  assert.deepEqual(gp[0]!.computed, { value: 720000, formula: "revenue − COGS" });
  assert.ok(gp.slice(1).every((c) => c!.computed === undefined), "agreeing months carry nothing");
  assert.equal(kpis.warnings.length, 1);
  assert.match(
    kpis.warnings[0]!,
    /Gross profit for Apr-2025: the file states 7,30,000 \(pnl\.csv, row 4, column Apr-2025 \(B\)\) but revenue − COGS gives 7,20,000/,
  );
});

Deno.test("computeKpis(financial_summary) derives EBITDA from operating profit + D&A, then net income", async () => {
  const csv = "Line,Q1,Q2\nSales,1000,1200\nCost of sales,(400),(450)\nOperating profit,300,380\n" +
    "Depreciation,50,55\nFinance costs,20,20\nTaxes,70,90\n";
  const kpis = computeKpis("financial_summary", await readTables("q.csv", "csv", enc(csv)));
  assert.deepEqual(row(kpis, "ebitda"), [350, 435]);
  assert.deepEqual(row(kpis, "net_income"), [210, 270]);
  assert.equal(
    kpis.rows.find((r) => r.key === "ebitda")!.cells[0]!.formula,
    "operating profit + D&A",
  );
});

Deno.test("computeKpis() names what to upload when no table fits", async () => {
  const tables = await readTables("bank.csv", "csv", enc(bankCsv(bankTransactions(20))));
  assert.throws(() => computeKpis("financial_summary", tables), /no P&L table was found: upload/);
  assert.throws(() => computeKpis("variance", tables), /budget-vs-actual/);
});

Deno.test("computeKpis(cash_flow) sums a bank statement by month: burn and runway", async () => {
  const txns = bankTransactions(180);
  const kpis = computeKpis("cash_flow", await readTables("bank.csv", "csv", enc(bankCsv(txns))));
  assert.equal(kpis.currency, "INR", "Indian digit grouping");
  const months = [...new Set(txns.map((t) => `${t.date.slice(6)}-${t.date.slice(3, 5)}`))].sort();
  assert.deepEqual(kpis.columns, months);
  const net: number[] = [];
  months.forEach((m, i) => {
    const inMonth = txns.filter((t) => `${t.date.slice(6)}-${t.date.slice(3, 5)}` === m);
    const inflow = inMonth.reduce((s, t) => s + t.credit, 0);
    const outflow = inMonth.reduce((s, t) => s + t.debit, 0);
    close(row(kpis, "inflows")[i]!, inflow);
    close(row(kpis, "outflows")[i]!, outflow);
    close(row(kpis, "net_flow")[i]!, inflow - outflow);
    close(row(kpis, "closing_balance")[i]!, inMonth[inMonth.length - 1]!.balance);
    net.push(inflow - outflow);
  });
  const burn = -net.reduce((a, b) => a + b, 0) / net.length;
  assert.ok(burn > 0);
  const scalar = (k: string) => kpis.scalars.find((s) => s.key === k)!.figure.value;
  close(scalar("average_monthly_burn"), Math.round(burn * 100) / 100);
  close(
    scalar("runway_months"),
    Math.round((txns.at(-1)!.balance / (Math.round(burn * 100) / 100)) * 10) / 10,
  );
  const src = kpis.rows[0]!.cells[0]!.inputs![0]!;
  assert.equal(src.row, 2);
  assert.ok(src.last_row! > 2);
});

Deno.test("computeKpis(variance) computes variance and % per line and flags beyond the threshold", async () => {
  const kpis = computeKpis("variance", await readTables("bva.csv", "csv", enc(budgetCsv())));
  assert.equal(kpis.currency, "INR");
  assert.equal(kpis.rows.length, BUDGET.length);
  BUDGET.forEach((b, i) => {
    const cells = kpis.rows[i]!.cells.map((c) => c?.value ?? null);
    assert.equal(kpis.rows[i]!.label, b.line);
    close(cells[0]!, b.budget);
    close(cells[1]!, b.actual);
    close(cells[2]!, b.actual - b.budget);
    close(cells[3]!, ((b.actual - b.budget) / b.budget) * 100);
  });
  const flagged = BUDGET.filter((b) => Math.abs((b.actual - b.budget) / b.budget) > 0.1).map((b) =>
    b.line
  );
  assert.deepEqual(kpis.scalars.map((s) => s.label.split(":")[0]), flagged);
  assert.deepEqual(kpis.warnings, []);
  const wrong = budgetCsv().replace('"₹50,000"', '"₹55,000"');
  const warned = computeKpis("variance", await readTables("bva.csv", "csv", enc(wrong)));
  assert.match(
    warned.warnings[0]!,
    /^Salaries: the file states a variance of 55,000 .* but actual − budget is 50,000$/,
  );
  const salaries = warned.rows.find((r) => r.label === "Salaries")!.cells[2]!;
  assert.equal(salaries.value, 50000, "the table shows actual − budget");
  assert.equal(salaries.stated?.value, 55000, "and carries the stated variance");
  assert.equal(salaries.stated?.source.file, "bva.csv");
});

Deno.test("mayHoldInput() recognises each input from a table's text", () => {
  assert.ok(mayHoldInput("financial_summary", pnlCsv()));
  assert.ok(mayHoldInput("cash_flow", bankCsv(bankTransactions(5))));
  assert.ok(mayHoldInput("variance", budgetCsv()));
  assert.ok(!mayHoldInput("variance", pnlCsv()));
  assert.ok(!mayHoldInput("financial_summary", "Name, Email\nZoë, z@example.com"));
});

Deno.test("the committed report fixtures match their generator", async () => {
  for (const [name, make] of Object.entries(FIXTURE_FILES)) {
    assert.equal(
      await Deno.readTextFile(new URL(`../fixtures/reports/${name}`, import.meta.url)),
      make(),
      name,
    );
  }
});
