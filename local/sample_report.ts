/**
 * Writes docs/sample-report.pdf: a financial_summary of the test fixture P&L
 * (tests/fixtures/reports/pnl.csv), rendered exactly as the report worker renders it.
 *   npx -y deno@2.9.6 run -A local/sample_report.ts
 */
import { computeKpis } from "../shared/kpi/mod.ts";
import { readTables, renderReportPdf, templateNarrative } from "../shared/reports/mod.ts";

const csv = await Deno.readFile(new URL("../tests/fixtures/reports/pnl.csv", import.meta.url));
const kpis = computeKpis("financial_summary", await readTables("pnl.csv", "csv", csv));
const pdf = await renderReportPdf({
  title: "Ananya Café Pvt. Ltd. — H1 FY26 review",
  reportType: "financial_summary",
  notes: "Prepared for Zoë Müller and the board.",
  narrative: templateNarrative(kpis),
  kpis,
  generatedAt: new Date("2026-11-26T00:00:00Z"),
});
await Deno.writeFile(new URL("../docs/sample-report.pdf", import.meta.url), pdf);
console.log(`docs/sample-report.pdf: ${pdf.length} bytes`);
