/**
 * The KPI module on tables as people keep them: each label, period and number form, the header
 * below title rows and blank rows, a cover sheet, both orientations, every P&L line mapped or
 * listed, stated totals checked, period totals, favourable variances, and the input check run on
 * tables rebuilt from the indexed chunks.
 */
import assert from "node:assert/strict";
import {
  computeKpis,
  detectInputs,
  type KpiResult,
  locateHeader,
  matchLineItem,
  parseCell,
  parsePeriod,
  type SourceTable,
  tablesFromChunks,
} from "../../shared/kpi/mod.ts";
import { readTables } from "../../shared/reports/mod.ts";
import { chunkBlocks } from "../../shared/chunking.ts";
import { extractCsv, extractXlsx } from "../../shared/parsers/light.ts";
import {
  BUDGET_QUARTERS,
  BY_MONTH,
  byMonthCsv,
  CLOUD,
  cloudCsv,
  cloudDerived,
  contactsCsv,
  KEPT_FILES,
  MONTHS,
  QUARTERS,
  SCHEDULE_III,
  scheduleIIIDerived,
  scheduleIIIXlsx,
  titledBankCsv,
  titledBankTransactions,
} from "../fixtures/reports/kept.ts";

const enc = (s: string) => new TextEncoder().encode(s);

function row(kpis: KpiResult, key: string): (number | null)[] {
  const r = kpis.rows.find((x) => x.key === key);
  assert.ok(r, `row ${key}`);
  return r.cells.map((c) => c?.value ?? null);
}

const table = (header: string[], rows: string[][], firstRow = 2): SourceTable => ({
  file: "t.csv",
  header,
  rows,
  firstRow,
});

Deno.test("matchLineItem() knows the Indian and international labels", () => {
  const cases: [string, string][] = [
    ["Revenue from operations", "revenue"],
    ["Net sales", "revenue"],
    ["Turnover", "revenue"],
    ["Cost of sales", "cogs"],
    ["Cost of materials consumed", "cogs_part"],
    ["Purchases of stock-in-trade", "cogs_part"],
    [
      "Changes in inventories of finished goods, work-in-progress and stock-in-trade",
      "inventory_change",
    ],
    ["Employee benefits expense", "opex_part"],
    ["Finance costs", "interest"],
    ["Depreciation and amortisation", "da"],
    ["Depreciation & amortization expense", "da"],
    ["Profit before tax", "pbt"],
    ["Profit after tax", "net_income"],
    ["PAT", "net_income"],
    ["Profit for the year", "net_income"],
    ["Profit / (Loss) for the year", "net_income"],
    ["Other income", "other_income"],
    ["Total income", "total_income"],
    ["Total expenses", "total_expenses"],
    ["Current tax", "tax_part"],
    ["Deferred tax", "tax_part"],
  ];
  for (const [label, item] of cases) assert.equal(matchLineItem(label), item, label);
});

Deno.test("parsePeriod() reads FY2025, FY 2024-25, 2024-25, Q1 FY25, Mar-25 and months", () => {
  const cases: [string, string, number][] = [
    ["FY2025", "year", 202500],
    ["FY 2025", "year", 202500],
    ["FY25", "year", 202500],
    ["FY 2024-25", "year", 202500],
    ["FY2024-25", "year", 202500],
    ["2024-25", "year", 202500],
    ["2024-2025", "year", 202500],
    ["2025", "year", 202500],
    ["Q1 FY25", "quarter", 202501],
    ["Q3 2025", "quarter", 202503],
    ["FY26 Q2", "quarter", 202602],
    ["H1 FY26", "half", 202601],
    ["Mar-25", "month", 202503],
    ["Mar 2025", "month", 202503],
    ["March 2025", "month", 202503],
    ["Apr-2025", "month", 202504],
    ["2025-03", "month", 202503],
    ["03/2025", "month", 202503],
  ];
  for (const [text, kind, sort] of cases) {
    assert.deepEqual(parsePeriod(text), { kind, sort }, text);
  }
  for (const bad of ["Revenue", "Q5 FY25", "2024-27", "Note", "03/04/2025", "Marketing"]) {
    assert.equal(parsePeriod(bad), undefined, bad);
  }
});

Deno.test("parseCell() reads Indian grouping, ₹ Rs. $, parentheses, /- and a dash as zero", () => {
  assert.deepEqual(parseCell("1,23,456"), { value: 123456, percent: false, currency: "INR" });
  assert.deepEqual(parseCell("₹ 1,23,456.50"), {
    value: 123456.5,
    percent: false,
    currency: "INR",
  });
  assert.deepEqual(parseCell("Rs. 1,200/-"), { value: 1200, percent: false, currency: "INR" });
  assert.deepEqual(parseCell("($4,500)"), { value: -4500, percent: false, currency: "USD" });
  assert.deepEqual(parseCell("(1,23,456)"), { value: -123456, percent: false, currency: "INR" });
  for (const dash of ["-", "–", "—", " - "]) {
    assert.deepEqual(parseCell(dash), { value: 0, percent: false }, dash);
  }
  assert.equal(parseCell("n/a"), null);
  assert.equal(parseCell("Mar-25"), null);
});

Deno.test("locateHeader() finds the header below title rows and blank rows, keeping row numbers", () => {
  const t = table(["Ananya Foods Pvt. Ltd.", "column 2", "column 3"], [
    ["(₹ in lakh)", "", ""],
    ["", "", ""],
    ["Particulars", "FY 2024-25", "FY 2023-24"],
    ["Income", "", ""],
    ["Revenue from operations", "96,540", "84,210"],
  ]);
  const found = locateHeader(t);
  assert.deepEqual(found.header, ["Particulars", "FY 2024-25", "FY 2023-24"]);
  assert.equal(found.firstRow, 5, "the row after the header (row 4) is row 5");
  assert.equal(found.rows[1]![0], "Revenue from operations");
  assert.match(found.context!, /₹ in lakh/);
  // A header already in place, and a table with no numbers (a cover sheet), stay as they are.
  const plain = table(["Line", "Q1"], [["Revenue", "10"]]);
  assert.equal(locateHeader(plain), plain);
  const cover = table(["Company", "Ananya"], [["Prepared by", "Zoë"]]);
  assert.equal(locateHeader(cover), cover);
});

Deno.test("computeKpis(financial_summary) reads a Schedule III sheet behind a cover sheet and title rows", async () => {
  const tables = await readTables("schedule_iii.xlsx", "xlsx", scheduleIIIXlsx());
  assert.equal(tables.length, 2, "the cover sheet and the statement");
  const kpis = computeKpis("financial_summary", tables);
  assert.deepEqual(kpis.columns, SCHEDULE_III.years, "newest-first years read oldest first");
  assert.equal(kpis.currency, "INR");
  const s = SCHEDULE_III;
  [0, 1].forEach((i) => {
    const d = scheduleIIIDerived(i);
    assert.equal(row(kpis, "revenue")[i], s.revenue[i]);
    assert.equal(row(kpis, "cogs")[i], d.cogs, "materials + purchases + change in inventories");
    assert.equal(row(kpis, "opex")[i], d.opex);
    assert.equal(row(kpis, "ebitda")[i], d.ebitda);
    assert.equal(row(kpis, "other_income")[i], s.otherIncome[i]);
    assert.equal(row(kpis, "da")[i], s.da[i]);
    assert.equal(row(kpis, "interest")[i], s.finance[i]);
    assert.equal(row(kpis, "tax")[i], d.tax, "current + deferred (a dash is zero)");
    assert.equal(row(kpis, "net_income")[i], d.netIncome);
  });
  assert.deepEqual(kpis.warnings, [], "every stated total agrees with its lines");
  assert.equal(kpis.total_column, undefined, "years are not summed");
  const revenue = kpis.rows[0]!.cells[1]!.source!;
  assert.equal(revenue.sheet, "Statement of P&L");
  assert.equal(revenue.row, 7);
  assert.equal(revenue.column, "FY 2024-25 (C)");
  assert.ok(kpis.lines!.every((l) => l.used_as !== null), JSON.stringify(kpis.lines));
  assert.equal(kpis.lines!.length, 15);
});

Deno.test("computeKpis(financial_summary) warns when a stated total disagrees with its lines", async () => {
  const tables = await readTables("schedule_iii.xlsx", "xlsx", scheduleIIIXlsx());
  const statement = tables[1]!;
  const wrong = {
    ...statement,
    rows: statement.rows.map((r) =>
      r[0] === "Total expenses" ? [r[0]!, r[1]!, "99,999", r[3]!] : r
    ),
  };
  const kpis = computeKpis("financial_summary", [wrong]);
  assert.equal(kpis.warnings.length, 1, kpis.warnings.join("\n"));
  assert.match(
    kpis.warnings[0]!,
    /^Total expenses for FY 2024-25: the file states 99,999 \(schedule_iii\.xlsx, Statement of P&L, row 18, column FY 2024-25 \(C\)\) but COGS \+ operating expenses \+ D&A \+ interest gives /,
  );
});

Deno.test("computeKpis(financial_summary) reads one row per month with line items as columns", async () => {
  const kpis = computeKpis(
    "financial_summary",
    await readTables("m.csv", "csv", enc(byMonthCsv())),
  );
  assert.deepEqual(kpis.columns, MONTHS);
  const b = BY_MONTH;
  MONTHS.forEach((_, i) => {
    const opex = b.salaries[i]! + b.rent[i]! + b.marketing[i]!;
    assert.equal(row(kpis, "revenue")[i], b.revenue[i]);
    assert.equal(row(kpis, "cogs")[i], b.cogs[i]);
    assert.equal(row(kpis, "opex")[i], opex);
    assert.equal(row(kpis, "ebitda")[i], b.revenue[i]! - b.cogs[i]! - opex);
  });
  // The financial summary's total column sums the months; margins come from the totals.
  assert.equal(kpis.total_column, "Total");
  const sum = (xs: number[]) => xs.reduce((a, x) => a + x, 0);
  assert.equal(kpis.rows.find((r) => r.key === "revenue")!.total!.value, sum(b.revenue));
  const gm = kpis.rows.find((r) => r.key === "gross_margin")!.total!.value;
  assert.ok(Math.abs(gm - (1 - sum(b.cogs) / sum(b.revenue)) * 100) < 1e-9);
  const cell = kpis.rows[0]!.cells[2]!.source!;
  assert.deepEqual([cell.column, cell.label], ["Revenue (B)", "Jun-25"]);
  assert.ok(
    kpis.warnings.some((w) => /^Tax is not in the table .*looked for "Tax expense"/.test(w)),
  );
});

Deno.test("computeKpis(financial_summary) counts an unknown line among the expenses as opex and lists the rest", async () => {
  const kpis = computeKpis(
    "financial_summary",
    await readTables("pnl_cloud_hosting.csv", "csv", enc(cloudCsv())),
  );
  CLOUD.months.forEach((_, i) => {
    assert.equal(row(kpis, "opex")[i], cloudDerived(i).opex);
    assert.equal(row(kpis, "ebitda")[i], cloudDerived(i).ebitda);
  });
  assert.equal(row(kpis, "ebitda")[0], 7500, "52,000 − 15,600 − 28,900");
  const cloud = kpis.lines!.find((l) => l.label === "Cloud hosting")!;
  assert.deepEqual([cloud.used_as, cloud.how, cloud.source.row], [
    "operating expense",
    "position",
    5,
  ]);
  const headcount = kpis.lines!.find((l) => l.label === "Headcount")!;
  assert.equal(headcount.used_as, null);
  assert.ok(kpis.warnings.includes(
    '"Cloud hosting" (pnl_cloud_hosting.csv, row 5, column Line (A)) is not a known line item: counted as an operating expense because it sits among the expenses',
  ));
  assert.ok(kpis.warnings.some((w) => w.startsWith('"Headcount" (pnl_cloud_hosting.csv, row 9')));
  // Every line with figures is accounted for.
  assert.equal(kpis.lines!.length, 7);
});

Deno.test("computeKpis(cash_flow) reads a statement under its bank's title rows, with period totals", async () => {
  const txns = titledBankTransactions();
  const kpis = computeKpis("cash_flow", await readTables("b.csv", "csv", enc(titledBankCsv())));
  const inflow = txns.reduce((s, t) => s + t.credit, 0);
  const outflow = txns.reduce((s, t) => s + t.debit, 0);
  assert.equal(kpis.columns.length, 3);
  const scalar = (k: string) => kpis.scalars.find((s) => s.key === k)!.figure.value;
  assert.equal(scalar("total_inflows"), inflow);
  assert.equal(scalar("total_outflows"), outflow);
  assert.equal(scalar("net_flow_total"), inflow - outflow);
  assert.equal(kpis.total_column, "Total");
  assert.equal(kpis.rows.find((r) => r.key === "inflows")!.total!.value, inflow);
  assert.equal(
    kpis.rows.find((r) => r.key === "closing_balance")!.total!.value,
    txns.at(-1)!.balance,
  );
});

Deno.test("computeKpis(variance) reads two quarters and says which variances are favourable", async () => {
  const kpis = computeKpis(
    "variance",
    await readTables("bq.csv", "csv", enc(KEPT_FILES["budget_quarters.csv"]!())),
  );
  assert.equal(kpis.rows.length, BUDGET_QUARTERS.length * QUARTERS.length);
  const income = new Set(["Revenue"]);
  let k = 0;
  for (const b of BUDGET_QUARTERS) {
    QUARTERS.forEach((q, i) => {
      const r = kpis.rows[k++]!;
      assert.equal(r.label, `${b.line} · ${q}`);
      assert.equal(r.cells[2]!.value, b.actual[i]! - b.budget[i]!);
      const expected = b.actual[i] === b.budget[i]
        ? null
        : income.has(b.line)
        ? b.actual[i]! > b.budget[i]!
        : b.actual[i]! < b.budget[i]!;
      assert.equal(r.favourable, expected, r.label);
    });
  }
  assert.deepEqual(kpis.scalars.map((s) => s.label), [
    "Marketing · Q1 FY26: 15.0% over budget (unfavourable)",
    "Marketing · Q2 FY26: 12.5% under budget (favourable)",
  ]);
});

async function chunkTables(name: string, bytes: Uint8Array, xlsx = false) {
  const { blocks } = xlsx ? await extractXlsx(bytes) : await extractCsv(bytes);
  return tablesFromChunks(name, chunkBlocks(blocks, { maxTokens: 200, overlapTokens: 20 }));
}

Deno.test("tablesFromChunks() rebuilds the tables the worker reads, so the check sees what it sees", async () => {
  for (
    const [name, bytes, xlsx] of [
      ["schedule_iii.xlsx", scheduleIIIXlsx(), true],
      ["m.csv", enc(byMonthCsv()), false],
      ["c.csv", enc(cloudCsv()), false],
    ] as const
  ) {
    const full = await readTables(name, xlsx ? "xlsx" : "csv", bytes);
    const rebuilt = await chunkTables(name, bytes, xlsx);
    assert.deepEqual(
      rebuilt.map((t) => ({ ...t, rows: t.rows.length })),
      full.map((t) => ({ ...t, rows: t.rows.length })),
      name,
    );
    assert.deepEqual(
      computeKpis("financial_summary", rebuilt),
      computeKpis("financial_summary", full),
      name,
    );
  }
});

Deno.test("detectInputs() passes a month-per-row P&L and says what an unusable table lacks", async () => {
  assert.equal(
    detectInputs("financial_summary", await chunkTables("m.csv", enc(byMonthCsv()))).ok,
    true,
  );
  const contacts = detectInputs(
    "financial_summary",
    await chunkTables("c.csv", enc(contactsCsv())),
  );
  assert.equal(contacts.ok, false);
  assert.deepEqual(contacts.found, ["c.csv (header at row 1: Name, Email, City)"]);
  assert.deepEqual(contacts.lacks, ["a P&L table"]);
  const noRevenue = enc(cloudCsv().replace("Revenue,", "Bookings,"));
  const d = detectInputs("financial_summary", await chunkTables("nr.csv", noRevenue));
  assert.equal(d.ok, false);
  assert.match(
    d.found[0]!,
    /^nr\.csv \(header at row 1, line items as rows: cogs, revenue_part, opex_part/,
  );
  assert.match(d.lacks[0]!, /^revenue \("Revenue", "Revenue from operations", "Net sales"/);
  assert.equal(
    detectInputs("cash_flow", await chunkTables("b.csv", enc(titledBankCsv()))).ok,
    true,
  );
  assert.equal(
    detectInputs("variance", await chunkTables("q.csv", enc(KEPT_FILES["budget_quarters.csv"]!())))
      .ok,
    true,
  );
});

Deno.test("the committed kept-format fixtures match their generator", async () => {
  for (const [name, make] of Object.entries(KEPT_FILES)) {
    assert.equal(
      await Deno.readTextFile(new URL(`../fixtures/reports/${name}`, import.meta.url)),
      make(),
      name,
    );
  }
  assert.deepEqual(
    await Deno.readFile(new URL("../fixtures/reports/schedule_iii.xlsx", import.meta.url)),
    scheduleIIIXlsx(),
  );
});

Deno.test("computeKpis(financial_summary) checks income lines against a stated Total revenue and a Total row against its months", () => {
  const wide = table(["Line", "Q1", "Q2"], [
    ["Product sales", "600", "650"],
    ["Services", "400", "420"],
    ["Total revenue", "1,000", "1,100"],
    ["Cost of sales", "(400)", "(430)"],
    ["Salaries", "(300)", "(300)"],
    ["Net profit", "300", "370"],
  ]);
  const kpis = computeKpis("financial_summary", [wide]);
  assert.deepEqual(row(kpis, "revenue"), [1000, 1100]);
  const used = kpis.lines!.filter((l) => l.used_as === "revenue (a line of the stated total)");
  assert.deepEqual(used.map((l) => l.label), ["Product sales", "Services"]);
  assert.equal(kpis.warnings.filter((w) => w.startsWith("Revenue for")).length, 1);
  assert.match(
    kpis.warnings.find((w) => w.startsWith("Revenue for"))!,
    /^Revenue for Q2: the file states 1,100 .* but the sum of its lines gives 1,070/,
  );
  const byMonth = table(["Month", "Revenue", "COGS"], [
    ["Jan-25", "100", "40"],
    ["Feb-25", "120", "50"],
    ["Total", "230", "90"],
  ]);
  const m = computeKpis("financial_summary", [byMonth]);
  assert.deepEqual(m.columns, ["Jan-25", "Feb-25"]);
  assert.ok(
    m.warnings.includes(
      "Revenue: the file's Total row states 230 (t.csv, row 4, column Revenue (B)) but its periods add up to 220",
    ),
    m.warnings.join("\n"),
  );
  assert.ok(
    !m.warnings.some((w) => w.startsWith("COGS:")),
    "a total that agrees is not warned about",
  );
});
