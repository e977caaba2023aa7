/**
 * Unit tests of the figures from the cells: the lookup (shared/kpi `answerFromCells`) on wide,
 * long and multi-sheet tables, with title rows, periods as accounts write them and a label two
 * tables share; chat's facts and the report's KPIs agreeing on the same cells.
 */
import assert from "node:assert/strict";
import {
  answerFromCells,
  computeKpis,
  formatPercent,
  questionPeriods,
  type SourceTable,
  tablesFromRows,
  typedRowsOfChunk,
} from "../../shared/kpi/mod.ts";
import { readTables } from "../../shared/reports/mod.ts";
import { extractiveAnswer } from "../../shared/chat/mod.ts";
import { factLines } from "../../shared/chat/mod.ts";
import { questionTerms } from "../../shared/chat/mod.ts";
import { buildMessages } from "../../shared/chat/mod.ts";
import type { Passage } from "../../shared/retrieval/mod.ts";
import { PNL, pnlCsv } from "../fixtures/reports/data.ts";

const wide: SourceTable = {
  file: "pnl.xlsx",
  sheet: "P&L",
  header: ["Acme Ltd", "", ""],
  rows: [
    ["Statement of profit and loss", "", ""],
    ["", "", ""],
    ["Particulars", "FY 2023-24", "FY 2024-25"],
    ["Revenue from operations", "₹10,00,000", "₹12,50,000"],
    ["Cost of materials consumed", "(4,00,000)", "(5,00,000)"],
    ["Freight", "-", "25,000"],
  ],
  firstRow: 2,
};
const long: SourceTable = {
  file: "coffee.csv",
  header: ["Country", "Year", "Exports"],
  rows: [["Brazil", "2010", "30,100"], ["Brazil", "2011", "33,500"], ["Colombia", "2011", "7,800"]],
  firstRow: 2,
};
const quarters: SourceTable = {
  file: "sales.xlsx",
  sheet: "Quarterly",
  header: ["Region", "Q1 FY25", "Q2 FY25", "Mar-25"],
  rows: [["North", "100", "150", "60"], ["South", "80", "40", "10"]],
  firstRow: 2,
};

Deno.test("questionPeriods() reads FY2025, FY 2024-25, Q1 FY25, Mar-25 and years", () => {
  assert.deepEqual(
    questionPeriods("FY2025 vs FY 2023-24, Q1 FY25, Mar-25 and 2011").map((p) => p.label),
    ["FY2025", "FY 2023-24", "Q1 FY25", "Mar-25", "2011"],
  );
  assert.equal(questionPeriods("FY25")[0]!.key, questionPeriods("FY 2024-25")[0]!.key);
});

Deno.test("answerFromCells() finds a cell of a wide table below its title rows", () => {
  const [fact, more] = answerFromCells("What was FY2025 revenue?", [wide, long, quarters]);
  assert.equal(more, undefined);
  assert.equal(fact!.operation, "cell");
  assert.equal(fact!.value, 1250000);
  assert.equal(fact!.figure, "₹12,50,000");
  assert.deepEqual(
    [fact!.cells[0]!.file, fact!.cells[0]!.sheet, fact!.cells[0]!.row, fact!.cells[0]!.column],
    ["pnl.xlsx", "P&L", 5, "FY 2024-25 (C)"],
  );
  assert.match(fact!.text, /^Revenue from operations, FY 2024-25: ₹12,50,000 \(pnl\.xlsx, P&L/);
  assert.equal(answerFromCells("freight in FY25", [wide])[0]!.value, 25000);
  assert.equal(answerFromCells("freight in FY24", [wide])[0]!.value, 0);
});

Deno.test("answerFromCells() finds a cell of a long table by entity and period", () => {
  const facts = answerFromCells("Brazil's coffee exports in 2011", [wide, long, quarters]);
  assert.deepEqual(facts.map((f) => [f.figure, f.cells[0]!.row, f.cells[0]!.column]), [
    ["33,500", 3, "Exports (C)"],
  ]);
  assert.deepEqual(answerFromCells("Peru's coffee exports in 2011", [long]), []);
  assert.deepEqual(answerFromCells("Brazil's coffee exports in 2015", [long]), []);
});

Deno.test("answerFromCells() computes growth, differences, sums and averages from the cells", () => {
  const [growth] = answerFromCells("revenue growth from FY24 to FY25", [wide]);
  assert.equal(growth!.operation, "growth");
  assert.equal(growth!.figure, "25.0%");
  assert.deepEqual(growth!.cells.map((c) => c.column), ["FY 2023-24 (B)", "FY 2024-25 (C)"]);
  const [diff] = answerFromCells("change in cost of materials from FY24 to FY25", [wide]);
  assert.equal(diff!.value, -100000);
  const [sum] = answerFromCells("total North sales in Q1 FY25 and Q2 FY25", [quarters]);
  assert.deepEqual([sum!.operation, sum!.value, sum!.figure], ["sum", 250, "250"]);
  const [avg] = answerFromCells("average North sales in Q1 FY25 and Q2 FY25", [quarters]);
  assert.equal(avg!.value, 125);
  assert.equal(answerFromCells("South sales in Mar-25", [quarters])[0]!.figure, "10");
});

Deno.test("answerFromCells() names every table when two share the label", () => {
  const other: SourceTable = { ...wide, file: "pnl_restated.xlsx" };
  other.rows = other.rows.map((r) => r[0] === "Revenue from operations" ? [r[0], "1", "2"] : r);
  const facts = answerFromCells("FY2025 revenue", [wide, other]);
  assert.deepEqual(facts.map((f) => [f.cells[0]!.file, f.figure]), [
    ["pnl.xlsx", "₹12,50,000"],
    ["pnl_restated.xlsx", "2"],
  ]);
});

Deno.test("chat's figure from the cells is the report's KPI from the same cells", async () => {
  const tables = await readTables("pnl.csv", "csv", new TextEncoder().encode(pnlCsv()));
  const kpis = computeKpis("financial_summary", tables);
  const row = (key: string) => kpis.rows.find((r) => r.key === key)!;
  const [growth] = answerFromCells("revenue growth from Apr-2025 to May-2025", tables);
  const reported = row("revenue_change_pct").cells[1]!;
  assert.ok(Math.abs(growth!.value - reported.value) < 1e-9, `${growth!.value} ${reported.value}`);
  assert.equal(growth!.figure, formatPercent(reported.value));
  const [ebitda] = answerFromCells("EBITDA in Jun-2025", tables);
  assert.equal(ebitda!.value, row("ebitda").cells[2]!.value);
  const [revenue] = answerFromCells("revenue in Sep-2025", tables);
  assert.equal(revenue!.value, PNL.revenue[5]);
  assert.deepEqual(
    [revenue!.cells[0]!.row, revenue!.cells[0]!.column],
    [row("revenue").cells[5]!.source!.row, row("revenue").cells[5]!.source!.column],
  );
});

Deno.test("the extract and the prompt lead with the facts; no match is said", () => {
  const passage: Passage = {
    chunkId: "c",
    fileId: "f",
    fileName: "pnl.xlsx",
    chunkIndex: 0,
    content: "Sheet: P&L\nParticulars | FY 2023-24 | FY 2024-25\nRevenue from operations | 1 | 2",
    sheet: "P&L",
    rowStart: 4,
    rowEnd: 6,
    score: 0.1,
  };
  const memo: Passage = {
    ...passage,
    chunkId: "m",
    fileName: "memo.pdf",
    content: "Revenue.",
    sheet: null,
    rowStart: null,
    rowEnd: null,
  };
  const facts = factLines(answerFromCells("FY2025 revenue", [wide]), [memo, passage]);
  assert.match(facts[0]!, /₹12,50,000 .*\[2\]$/);
  const text = extractiveAnswer([memo, passage], questionTerms("FY2025 revenue"), [], {
    facts,
    tried: true,
  }).join("");
  assert.ok(text.indexOf("₹12,50,000") < text.indexOf("**memo.pdf**"), text);
  const none = extractiveAnswer([memo], questionTerms("FY2025 freight"), [], {
    facts: [],
    tried: true,
  }).join("");
  assert.match(none, /No cell of your tables matches/);
  const prompt =
    buildMessages({ question: "FY2025 revenue", passages: [passage], warnings: [], facts })
      .at(-1)!.content;
  assert.match(
    prompt,
    /FIGURES FROM THE CELLS[^\n]*\n(`{3,})text\n- Revenue from operations, FY 2024-25: ₹12,50,000[^\n]*\n\1\n/,
  );
});

Deno.test("typedRowsOfChunk() types the cells of a table chunk; tablesFromRows() reads them back", () => {
  const rows = typedRowsOfChunk(
    "Sheet: P&L\nParticulars | FY 2024-25 | Share\nRevenue | ₹12,50,000 | 11.5%\nFreight | - | Mar-25",
    { row_start: 4, row_end: 5, sheet: "P&L" },
  );
  assert.deepEqual(rows.map((r) => [r.sheet, r.row_number]), [["P&L", 4], ["P&L", 5]]);
  assert.deepEqual(rows[0]!.header, ["Particulars", "FY 2024-25", "Share"]);
  assert.deepEqual(rows[0]!.cells, [
    { v: "Revenue", t: "text" },
    { v: "₹12,50,000", t: "number", n: 1250000 },
    { v: "11.5%", t: "percent", n: 11.5 },
  ]);
  assert.deepEqual(rows[1]!.cells.map((c) => c.t), ["text", "number", "period"]);
  assert.deepEqual(typedRowsOfChunk("Some prose.", { page: 1 }), []);
  const tables = tablesFromRows([
    ...rows.map((r) => ({ ...r, file_name: "pnl.xlsx" })),
    { ...rows[0]!, row_number: 9, file_name: "pnl.xlsx" },
  ]);
  assert.deepEqual(tables.map((t) => [t.sheet, t.firstRow, t.rows.length]), [
    ["P&L", 4, 2],
    ["P&L", 9, 1],
  ]);
  assert.equal(answerFromCells("FY2025 revenue", tables)[0]!.cells[0]!.row, 4);
});

const months: SourceTable = {
  file: "monthly_pnl.csv",
  header: ["Line item", "Jan-2025", "Feb-2025", "Mar-2025", "Apr-2025", "May-2025", "Jun-2025"],
  rows: [
    ["Revenue", "100", "110", "120", "130", "140", "150"],
    ["Cost of sales", "(40)", "(44)", "(48)", "(52)", "(56)", "(60)"],
    ["Freight", "5", "5", "6", "6", "7", "7"],
    ["EBITDA", "20", "22", "24", "26", "28", "30"],
  ],
  firstRow: 2,
};
const perRow: SourceTable = {
  file: "by_month.csv",
  header: ["Month", "Revenue", "Gross profit", "Gross margin %"],
  rows: [["Jun-2024", "80", "20", "25%"], ["Jun-2025", "200", "90", "45%"]],
  firstRow: 2,
};

Deno.test("answerFromCells() matches 'freight cost' to a line called Freight", () => {
  assert.equal(answerFromCells("freight cost in FY25", [wide])[0]!.value, 25000);
  assert.equal(
    answerFromCells("What were freight expenses in Jun-2025?", [months])[0]!.figure,
    "7",
  );
  assert.deepEqual(answerFromCells("marketing cost in FY25", [wide]), []);
  const plans: SourceTable = {
    file: "plans.csv",
    header: ["Plan", "FY2024", "FY2025"],
    rows: [["Basic", "1200", "1500"], ["Deluxe", "4800", "5400"]],
    firstRow: 2,
  };
  assert.equal(answerFromCells("the Deluxe plan's price in FY2025?", [plans])[0]!.figure, "5400");
});

Deno.test("answerFromCells() sums a range from the months it is made of, only when all are there", () => {
  const [h1] = answerFromCells("total H1 2025 revenue", [months]);
  assert.deepEqual([h1!.operation, h1!.value, h1!.cells.length], ["sum", 750, 6]);
  assert.match(h1!.text, /^Revenue total of H1 2025 \(Jan-2025, .*Jun-2025\): 750 = 100 \+ 110/);
  assert.equal(answerFromCells("total H1 revenue", [months])[0]!.value, 750);
  assert.equal(answerFromCells("Q2 2025 revenue", [months])[0]!.value, 420);
  assert.equal(answerFromCells("Q1 FY26 revenue", [months])[0]!.value, 420);
  // April to September 2025 is not all there: no figure rather than a part of one.
  assert.deepEqual(answerFromCells("H1 FY26 revenue", [months]), []);
  assert.deepEqual(answerFromCells("H2 2025 revenue", [months]), []);
  const [growth] = answerFromCells("revenue growth from Q1 2025 to Q2 2025", [months]);
  assert.equal(growth!.figure, formatPercent(((420 - 330) / 330) * 100));
});

Deno.test("answerFromCells() reads a month with no year as that month of the latest year", () => {
  assert.deepEqual(answerFromCells("revenue in June", [perRow]).map((f) => f.figure), ["200"]);
  assert.equal(answerFromCells("What was revenue for May?", [months])[0]!.figure, "140");
});

Deno.test("answerFromCells() computes a margin as a profit line over revenue of the same period", () => {
  const [gross] = answerFromCells("gross margin in June 2025", [months]);
  assert.deepEqual([gross!.operation, gross!.figure], ["margin", formatPercent(90 / 150 * 100)]);
  assert.match(
    gross!.text,
    /^Gross margin, Jun-2025: 60\.0% = \(Revenue 150 − Cost of sales \(60\)\)/,
  );
  assert.equal(gross!.cells.length, 2);
  const [ebitda] = answerFromCells("EBITDA margin in H1 2025", [months]);
  assert.equal(ebitda!.figure, formatPercent(150 / 750 * 100));
  assert.equal(ebitda!.cells.length, 12);
  // A margin the file states is quoted, not recomputed.
  const [stated] = answerFromCells("gross margin in June", [perRow]);
  assert.deepEqual([stated!.operation, stated!.figure, stated!.cells[0]!.row], ["cell", "45%", 3]);
  assert.deepEqual(answerFromCells("net margin in June 2025", [months]), []);
});
