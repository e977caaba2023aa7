/**
 * Reports end to end through supabase-js on files as people keep them (tests/fixtures/reports/
 * kept.ts): a Schedule III workbook behind a cover sheet and title rows, a P&L with one row per
 * month, a P&L with a line the synonyms do not know ("Cloud hosting": counted as an operating
 * expense, EBITDA right, the line warned about with its cell), a bank statement under its bank's
 * title rows (period totals), a budget with two quarters (favourable or not), and a table that is
 * no input: 422 before any credit moves, naming what was found and what is lacking.
 */
import assert from "node:assert/strict";
import { downloadedPdfText } from "../helpers/pdf.ts";
import { getDb } from "../../shared/db.ts";
import { formatValue } from "../../shared/kpi/mod.ts";
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
  SCHEDULE_III,
  scheduleIIIDerived,
  scheduleIIIXlsx,
  titledBankCsv,
  titledBankTransactions,
} from "../fixtures/reports/kept.ts";
import {
  call,
  eventuallyDispatched,
  signUpUser,
  startTestStack,
  type TestUser,
} from "../helpers/stack.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };
// deno-lint-ignore no-explicit-any
type Json = any;

const enc = (s: string) => new TextEncoder().encode(s);

async function upload(user: TestUser, workbenchId: string, name: string, bytes: Uint8Array) {
  const fd = new FormData();
  fd.append("file", new Blob([bytes as BlobPart]), name);
  const res = await call(user.client, `workbenches/${workbenchId}/files`, { body: fd });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  const id = res.body.files[0].id;
  const file = await eventuallyDispatched(
    async () => {
      const { body } = await call(user.client, `workbenches/${workbenchId}/files?limit=100`);
      const f = (body.files as Json[]).find((x) => x.id === id);
      return f && (f.status === "indexed" || f.status === "error") ? f : undefined;
    },
    `${name} indexed`,
    90_000,
  );
  assert.equal(file.status, "indexed", JSON.stringify(file));
}

async function waitForReport(user: TestUser, id: string): Promise<Json> {
  return await eventuallyDispatched(
    async () => {
      const r = await call(user.client, `reports/${id}`);
      return r.body.status === "ready" || r.body.status === "failed" ? r.body : undefined;
    },
    `report ${id}`,
    90_000,
  );
}

function rowValues(report: Json, key: string): (number | null)[] {
  const row = report.kpis.rows.find((r: Json) => r.key === key);
  assert.ok(row, key);
  return row.cells.map((c: Json) => c?.value ?? null);
}

Deno.test(
  "reports end to end from the files people keep: layouts, unknown lines, totals, 422 before charging",
  opts,
  async (t) => {
    const stack = await startTestStack({
      functionEnv: { REPORT_RETRY_BASE_SEC: "0", INDEX_RETRY_BASE_SEC: "0" },
    });
    const sql = getDb();
    const balance = async (u: TestUser) =>
      (await sql<{ balance: number }[]>`select balance from public.wallet where user_id = ${u.id}`)[
        0
      ]!.balance;
    try {
      const alice = await signUpUser(stack, "alice");
      const files: [string, Uint8Array][] = [
        ["schedule_iii.xlsx", scheduleIIIXlsx()],
        ["pnl_by_month.csv", enc(byMonthCsv())],
        ["pnl_cloud_hosting.csv", enc(cloudCsv())],
        ["bank_statement_titled.csv", enc(titledBankCsv())],
        ["budget_quarters.csv", enc(KEPT_FILES["budget_quarters.csv"]!())],
        ["contacts.csv", enc(contactsCsv())],
      ];
      const wb: Record<string, string> = {};
      for (const [name] of files) {
        wb[name] = (await call(alice.client, "workbenches", { body: { name } })).body.id;
      }
      await Promise.all(files.map(([name, bytes]) => upload(alice, wb[name]!, name, bytes)));
      const create = async (file: string, report_type: string) => {
        const r = await call(alice.client, "reports", {
          body: { workbench_id: wb[file], report_type, title: `${report_type} of ${file}` },
          headers: { "Idempotency-Key": `k-${file}-${report_type}` },
        });
        return r;
      };
      const made = async (file: string, report_type: string) => {
        const r = await create(file, report_type);
        assert.equal(r.status, 202, JSON.stringify(r.body));
        const report = await waitForReport(alice, r.body.id);
        assert.equal(report.status, "ready", report.error);
        return { report, text: await downloadedPdfText(report.download_url) };
      };
      const inr = (v: number) => formatValue(v, "money", "INR");

      await t.step(
        "an unusable table → 422 with what was found and lacking, no charge",
        async () => {
          const before = await balance(alice);
          const r = await create("contacts.csv", "financial_summary");
          assert.equal(r.status, 422);
          assert.equal(r.body.error.code, "missing_inputs");
          assert.deepEqual(r.body.error.details.found, [
            "contacts.csv (header at row 1: Name, Email, City)",
          ]);
          assert.deepEqual(r.body.error.details.lacks, ["a P&L table"]);
          assert.match(r.body.error.details.missing[0], /P&L \(income statement\) table/);
          const cf = await create("contacts.csv", "cash_flow");
          assert.equal(cf.status, 422);
          // A P&L is no budget: refused too, before any credit moves.
          assert.equal((await create("pnl_by_month.csv", "variance")).status, 422);
          assert.equal(await balance(alice), before, "the wallet is unchanged");
          const rows = await sql`select 1 from public.reports where user_id = ${alice.id}`;
          assert.equal(rows.length, 0, "no report was made");
        },
      );

      await t.step("a Schedule III workbook behind a cover sheet and title rows", async () => {
        const { report, text } = await made("schedule_iii.xlsx", "financial_summary");
        assert.deepEqual(report.kpis.columns, SCHEDULE_III.years);
        [0, 1].forEach((i) => {
          const d = scheduleIIIDerived(i);
          assert.equal(rowValues(report, "revenue")[i], SCHEDULE_III.revenue[i]);
          assert.equal(rowValues(report, "cogs")[i], d.cogs);
          assert.equal(rowValues(report, "ebitda")[i], d.ebitda);
          assert.equal(rowValues(report, "net_income")[i], d.netIncome);
          for (const v of [d.cogs, d.ebitda, d.netIncome]) assert.ok(text.includes(inr(v)), `${v}`);
        });
        assert.deepEqual(report.kpis.warnings, []);
        assert.equal(report.kpis.rows[0].cells[1].source.sheet, "Statement of P&L");
      });

      await t.step("a P&L with one row per month passes the check and is made", async () => {
        const { report, text } = await made("pnl_by_month.csv", "financial_summary");
        assert.deepEqual(report.kpis.columns, MONTHS);
        const b = BY_MONTH;
        const ebitda = MONTHS.map((_, i) =>
          b.revenue[i]! - b.cogs[i]! - b.salaries[i]! - b.rent[i]! - b.marketing[i]!
        );
        assert.deepEqual(rowValues(report, "ebitda"), ebitda);
        const total = ebitda.reduce((s, x) => s + x, 0);
        assert.equal(report.kpis.rows.find((r: Json) => r.key === "ebitda").total.value, total);
        assert.ok(text.includes(inr(total)), "the total column is in the PDF");
      });

      await t.step(
        "an unknown expense line is counted as opex and named, EBITDA right",
        async () => {
          const { report, text } = await made("pnl_cloud_hosting.csv", "financial_summary");
          CLOUD.months.forEach((_, i) => {
            assert.equal(rowValues(report, "opex")[i], cloudDerived(i).opex);
            assert.equal(rowValues(report, "ebitda")[i], cloudDerived(i).ebitda);
          });
          assert.deepEqual(rowValues(report, "ebitda"), [7500, 9250, 10300]);
          const usd = (v: number) => formatValue(v, "money", "USD");
          assert.ok(text.includes(usd(7500)) && text.includes(usd(10300)));
          const cloud = report.kpis.lines.find((l: Json) => l.label === "Cloud hosting");
          assert.equal(cloud.used_as, "operating expense");
          assert.ok(text.includes('"Cloud hosting" (pnl_cloud_hosting.csv, row 5'));
          assert.ok(text.includes('"Headcount" (pnl_cloud_hosting.csv, row 9'));
        },
      );

      await t.step(
        "a bank statement under title rows: months and the period's totals",
        async () => {
          const { report, text } = await made("bank_statement_titled.csv", "cash_flow");
          const txns = titledBankTransactions();
          const inflow = txns.reduce((s, x) => s + x.credit, 0);
          const outflow = txns.reduce((s, x) => s + x.debit, 0);
          const scalar = (k: string) =>
            report.kpis.scalars.find((s: Json) => s.key === k).figure.value;
          assert.equal(scalar("total_inflows"), inflow);
          assert.equal(scalar("total_outflows"), outflow);
          assert.equal(scalar("net_flow_total"), inflow - outflow);
          assert.ok(text.includes(`Total inflows for the period: ${inr(inflow)}`));
          assert.ok(text.includes(`Total outflows for the period: ${inr(outflow)}`));
          assert.ok(text.includes(`Net flow for the period: ${inr(inflow - outflow)}`));
        },
      );

      await t.step("a budget with two quarters: each variance favourable or not", async () => {
        const { report, text } = await made("budget_quarters.csv", "variance");
        assert.equal(report.kpis.rows.length, BUDGET_QUARTERS.length * 2);
        const byLabel = new Map(report.kpis.rows.map((r: Json) => [r.label, r.favourable]));
        assert.equal(byLabel.get("Revenue · Q1 FY26"), true, "revenue above budget");
        assert.equal(byLabel.get("Revenue · Q2 FY26"), false, "revenue below budget");
        assert.equal(byLabel.get("Cost of sales · Q1 FY26"), true, "cost below budget");
        assert.equal(byLabel.get("Cost of sales · Q2 FY26"), false, "cost above budget");
        assert.ok(text.includes("Marketing · Q1 FY26: 15.0% over budget (unfavourable)"));
        assert.ok(text.includes("unfavourable") && text.includes("favourable"));
      });
    } finally {
      await stack.stop();
    }
  },
);
