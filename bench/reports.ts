/**
 * `deno task bench reports`: the report worker's steps on a 12-period P&L (CSV and XLSX) and a
 * 10,000-row bank statement: wall time and CPU time of each step (the process's user+system CPU,
 * which is what the Edge runtime's ~2 s limit counts), the first call in a fresh process (cold:
 * module evaluation and JIT included) and the median of the next five (warm), and the PDF's size.
 * Storage and database I/O are left out (they are not CPU and take milliseconds locally).
 */
import process from "node:process";
import { benchStart } from "./calibration.ts";
import { computeKpis, type KpiResult, type SourceTable } from "../shared/kpi/mod.ts";
import {
  readTables,
  renderReportPdf,
  templateNarrative,
  unknownNumbers,
} from "../shared/reports/mod.ts";
import { makeXlsx, type XlsxCell } from "../tests/fixtures/documents.ts";
import { bankCsv, bankTransactions, rupees } from "../tests/fixtures/reports/data.ts";

const MONTHS = ["Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec", "Jan", "Feb", "Mar"];
const PERIODS = MONTHS.map((m, i) => `${m}-${i < 9 ? 2025 : 2026}`);

function pnl12(): { rows: (string | number)[][] } {
  const revenue = PERIODS.map((_, i) => 1_200_000 + i * 65_000 + (i % 3) * 20_000);
  const cogs = revenue.map((r) => Math.round(r * 0.4));
  const opex = PERIODS.map((_, i) => 515_000 + i * 9_000);
  const da = PERIODS.map((_, i) => 42_000 + i * 500);
  const interest = PERIODS.map((_, i) => 18_000 - i * 400);
  const tax = revenue.map((r, i) =>
    Math.round((r - cogs[i]! - opex[i]! - da[i]! - interest[i]!) * 0.25)
  );
  const net = revenue.map((r, i) => r - cogs[i]! - opex[i]! - da[i]! - interest[i]! - tax[i]!);
  return {
    rows: [
      ["Particulars", ...PERIODS],
      ["Revenue", ...revenue],
      ["Cost of goods sold", ...cogs.map((n) => -n)],
      ["Operating expenses", ...opex.map((n) => -n)],
      ["Depreciation & amortisation", ...da.map((n) => -n)],
      ["Interest expense", ...interest.map((n) => -n)],
      ["Income tax", ...tax.map((n) => -n)],
      ["Net profit", ...net],
    ],
  };
}

function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

interface Sample {
  wall: number;
  cpu: number;
}

async function measure<T>(fn: () => Promise<T>): Promise<{ result: T; sample: Sample }> {
  const c = cpuMs();
  const t = performance.now();
  const result = await fn();
  return { result, sample: { wall: performance.now() - t, cpu: cpuMs() - c } };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function step(name: string, fn: () => Promise<unknown>): Promise<void> {
  const first = await measure(fn);
  const warm: Sample[] = [];
  for (let i = 0; i < 5; i++) warm.push((await measure(fn)).sample);
  console.log(
    `${name.padEnd(46)} cold ${first.sample.wall.toFixed(0).padStart(5)} ms wall ${
      first.sample.cpu.toFixed(0).padStart(5)
    } ms CPU | warm ${median(warm.map((s) => s.wall)).toFixed(0).padStart(5)} ms wall ${
      median(warm.map((s) => s.cpu)).toFixed(0).padStart(5)
    } ms CPU`,
  );
}

const enc = new TextEncoder();
const { rows } = pnl12();
const pnlCsv = enc.encode(
  rows.map((r) =>
    r.map((c, i) => (typeof c === "number" && i > 0 ? `"${rupees(c)}"` : c)).join(",")
  ).join("\n"),
);
const pnlXlsx = makeXlsx([{ name: "Cover", rows: [["FY26"]] }, {
  name: "P&L",
  rows: rows as XlsxCell[][],
}]);
const txns = bankTransactions(10_000, 12);
const bank = enc.encode(bankCsv(txns));
console.log(
  `inputs: 12-period P&L CSV ${pnlCsv.length} B, XLSX ${pnlXlsx.length} B; ` +
    `bank statement ${txns.length} rows, ${(bank.length / 1024).toFixed(0)} KiB`,
);

const cases: [string, "financial_summary" | "cash_flow", "csv" | "xlsx", Uint8Array][] = [
  ["financial_summary, 12-period P&L CSV", "financial_summary", "csv", pnlCsv],
  ["financial_summary, 12-period P&L XLSX", "financial_summary", "xlsx", pnlXlsx],
  ["cash_flow, 10,000-row bank statement CSV", "cash_flow", "csv", bank],
];
// No database here (Storage and database I/O are left out), so one engine is all there is.
const done = benchStart("reports");
for (const [label, type, fileType, bytes] of cases) {
  console.log(`\n${label}`);
  let tables: SourceTable[] = [];
  let kpis: KpiResult | undefined;
  await step("  kpis: read tables (indexing parsers)", async () => {
    tables = await readTables(`input.${fileType}`, fileType, bytes);
  });
  await step("  kpis: compute", () => Promise.resolve(kpis = computeKpis(type, tables)));
  let narrative = "";
  await step("  narrative: template + number check", () => {
    narrative = templateNarrative(kpis!);
    return Promise.resolve(unknownNumbers(narrative, kpis!));
  });
  let pdf: Uint8Array = new Uint8Array();
  await step("  render: PDF", async () => {
    pdf = await renderReportPdf({
      title: label,
      reportType: type,
      narrative,
      kpis: kpis!,
      generatedAt: new Date(),
    });
  });
  console.log(`  PDF: ${(pdf.length / 1024).toFixed(1)} KiB, ${kpis!.sources.length} source cells`);
}
done();
