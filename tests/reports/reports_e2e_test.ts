/**
 * Reports end to end through supabase-js: tables uploaded and indexed, POST /reports charged once
 * per Idempotency-Key, the report-worker kicked by the database, the PDF downloaded through its
 * signed URL and read back with unpdf, every KPI checked against figures computed here from the
 * fixture's own numbers; missing inputs, replays, conflicts, roles, tenants, a worker that keeps
 * failing (refunded once), and report PDFs collected with their workbench.
 */
import assert from "node:assert/strict";
import { downloadedPdfText } from "../helpers/pdf.ts";
import { getDb } from "../../shared/db.ts";
import { startFakeGroq } from "../../local/fakes/groq.ts";
import { formatValue } from "../../shared/kpi/mod.ts";
import {
  bankCsv,
  bankTransactions,
  BUDGET,
  budgetCsv,
  PERIODS,
  PNL,
  pnlCsv,
  pnlDerived,
  pnlXlsx,
} from "../fixtures/reports/data.ts";
import {
  call,
  eventuallyDispatched,
  invitationToken,
  signUpUser,
  startTestStack,
  type TestUser,
} from "../helpers/stack.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };
// deno-lint-ignore no-explicit-any
type Json = any;

const enc = (s: string) => new TextEncoder().encode(s);

async function upload(
  user: TestUser,
  workbenchId: string,
  files: [string, Uint8Array][],
): Promise<Json[]> {
  const fd = new FormData();
  for (const [name, bytes] of files) fd.append("file", new Blob([bytes as BlobPart]), name);
  const res = await call(user.client, `workbenches/${workbenchId}/files`, { body: fd });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  const ids = (res.body.files as Json[]).map((f) => f.id);
  return await eventuallyDispatched(
    async () => {
      const { body } = await call(user.client, `workbenches/${workbenchId}/files?limit=100`);
      const rows = (body.files as Json[]).filter((f) => ids.includes(f.id));
      return rows.every((f) => f.status === "indexed" || f.status === "error") ? rows : undefined;
    },
    "files indexed",
    90_000,
  );
}

async function waitForReport(user: TestUser, id: string, timeoutMs = 90_000): Promise<Json> {
  return await eventuallyDispatched(
    async () => {
      const r = await call(user.client, `reports/${id}`);
      return r.body.status === "ready" || r.body.status === "failed" ? r.body : undefined;
    },
    `report ${id}`,
    timeoutMs,
  );
}

function rowValues(report: Json, key: string): (number | null)[] {
  const row = report.kpis.rows.find((r: Json) => r.key === key);
  assert.ok(row, key);
  return row.cells.map((c: Json) => c?.value ?? null);
}

const near = (a: number | null, b: number) =>
  assert.ok(a !== null && Math.abs(a - b) < 0.005, `${a} ≈ ${b}`);

Deno.test(
  "reports end to end: KPIs, PDF, idempotent charge, roles, failure refund",
  opts,
  async (t) => {
    const groq = startFakeGroq();
    groq.setMode("invent"); // every narrative the model writes cites numbers that are not figures
    const stack = await startTestStack({
      functionEnv: {
        // Retries at once: no step here asserts a backoff.
        REPORT_RETRY_BASE_SEC: "0",
        INDEX_RETRY_BASE_SEC: "0",
        GROQ_API_KEY: "gsk_test_key",
        GROQ_BASE_URL: groq.url,
        GROQ_MAX_RETRIES: "0",
        REPORT_MAX_TABLE_BYTES: "20000", // the fixtures are smaller; one test table is larger
      },
    });
    const sql = getDb();
    // The reports are made on a company workbench: the company's wallet pays (docs/billing.md).
    const balance = async (walletId: string) =>
      (await sql<{ balance: number }[]>`
        select balance from public.wallet where user_id = ${walletId}`)[0]!.balance;
    const ledger = async (
      walletId: string,
    ) => (await sql<{ reason: string; amount: number; reference_id: string }[]>`
      select reason, amount, reference_id from public.wallet_usage
       where user_id = ${walletId} and reason in ('report', 'report_refund')
       order by created_at, id`);
    try {
      const alice = await signUpUser(stack, "alice");
      const bob = await signUpUser(stack, "bob");
      const carol = await signUpUser(stack, "carol");
      const company = await call(alice.client, "companies", { body: { name: "Ananya Café" } });
      const payer: string = company.body.id;
      await sql`select public.admin_grant_credits(${payer}, 10, 'reports-e2e', 'the company pays')`;
      const inv = await call(alice.client, `companies/${company.body.id}/invitations`, {
        body: { email: bob.email, role: "member" },
      });
      assert.equal(
        (await call(bob.client, `invitations/${inv.body.id}/accept`, {
          body: { token: await invitationToken(stack, bob.email, inv.body.id) },
        })).status,
        200,
      );
      const wb = (await call(alice.client, "workbenches", {
        body: { name: "FY26", company_id: company.body.id },
      })).body.id;
      const post = (user: TestUser, key: string | null, body: Json) =>
        call(user.client, "reports", {
          body,
          headers: key === null ? {} : { "Idempotency-Key": key },
        });
      const fs = {
        workbench_id: wb,
        report_type: "financial_summary",
        title: "FY26 H1 review — Zoë Müller",
        notes: "For the board",
      };

      await t.step("missing inputs → 422 naming what to upload, nothing charged", async () => {
        const before = await balance(payer);
        const r = await post(alice, "k-missing", fs);
        assert.equal(r.status, 422);
        assert.equal(r.body.error.code, "missing_inputs");
        assert.match(r.body.error.details.missing[0], /P&L \(income statement\) table/);
        assert.equal(await balance(payer), before);
        assert.equal((await post(alice, null, fs)).body.error.code, "idempotency_key_required");
      });

      const files = await upload(alice, wb, [
        ["pnl.csv", enc(pnlCsv())],
        ["bank_statement.csv", enc(bankCsv(bankTransactions(180)))],
        ["budget_vs_actual.csv", enc(budgetCsv())],
      ]);
      assert.ok(files.every((f) => f.status === "indexed"), JSON.stringify(files));

      let fsId = "";
      await t.step(
        "the same Idempotency-Key twice → one report, one charge; another body → 409",
        async () => {
          const before = await balance(payer);
          const first = await post(alice, "k-fs-1", fs);
          assert.equal(first.status, 202, JSON.stringify(first.body));
          assert.equal(first.body.status, "queued");
          fsId = first.body.id;
          const again = await post(alice, "k-fs-1", fs);
          assert.equal(again.status, 202);
          assert.equal(again.body.id, fsId);
          assert.equal(again.headers.get("idempotent-replayed"), "true");
          const other = await post(alice, "k-fs-1", { ...fs, title: "Another" });
          assert.equal(other.status, 409);
          assert.equal(other.body.error.code, "idempotency_key_reused");
          assert.equal(await balance(payer), before - 1);
        },
      );

      await t.step("concurrent duplicates → still one report and one charge", async () => {
        const before = await balance(payer);
        const body = { ...fs, report_type: "variance", title: "Budget vs actual H1" };
        const all = await Promise.all(
          Array.from({ length: 5 }, () => post(alice, "k-var-1", body)),
        );
        assert.deepEqual(all.map((r) => r.status), [202, 202, 202, 202, 202]);
        assert.equal(new Set(all.map((r) => r.body.id)).size, 1);
        assert.equal(await balance(payer), before - 1);
        assert.equal(
          (await ledger(payer)).filter((l) => l.reference_id === `${alice.id}:k-var-1`).length,
          1,
        );
      });

      await t.step(
        "financial_summary: the PDF holds every KPI as computed from the CSV's numbers",
        async () => {
          const report = await waitForReport(alice, fsId);
          assert.equal(report.status, "ready", report.error);
          // The model was asked, grounded in the KPI table, and invented numbers: template used.
          assert.equal(report.narrative_source, "template");
          const asked = groq.requests.find((r) =>
            r.messages.some((m) => m.content.includes("FY26 H1 review"))
          );
          assert.ok(asked, "the narrative was asked of the model");
          assert.match(
            asked.messages[1]!.content,
            /KPI table:\nRevenue: Apr-2025 12,00,000; May-2025 13,50,000/,
          );
          assert.match(report.narrative, /^In Sep-2025, revenue was 16,10,000/);
          assert.ok(!report.narrative.includes("999"));
          assert.ok(report.download_url);
          // Signed for DOWNLOAD_TTL_SECONDS (5 minutes), never the hour it used to be.
          const left = Date.parse(report.download_expires_at) - Date.now();
          assert.ok(left > 60_000 && left <= 300_000, `expires in ${left} ms`);
          const text = await downloadedPdfText(report.download_url);
          const money = (v: number) => formatValue(v, "money", "INR");
          const pct = (v: number) => formatValue(v, "percent", "INR");
          assert.ok(text.includes("Zoë Müller") && text.includes("INR (₹)"));
          PERIODS.forEach((period, i) => {
            const d = pnlDerived(i);
            const expected: [string, number, string][] = [
              ["revenue", PNL.revenue[i]!, money(PNL.revenue[i]!)],
              ["cogs", PNL.cogs[i]!, money(PNL.cogs[i]!)],
              ["gross_profit", d.grossProfit, money(d.grossProfit)],
              [
                "gross_margin",
                (d.grossProfit / PNL.revenue[i]!) * 100,
                pct((d.grossProfit / PNL.revenue[i]!) * 100),
              ],
              ["opex", d.opex, money(d.opex)],
              ["ebitda", d.ebitda, money(d.ebitda)],
              ["da", PNL.da[i]!, money(PNL.da[i]!)],
              ["interest", PNL.interest[i]!, money(PNL.interest[i]!)],
              ["tax", PNL.tax[i]!, money(PNL.tax[i]!)],
              ["net_income", d.netIncome, money(d.netIncome)],
            ];
            if (i > 0) {
              const prev = PNL.revenue[i - 1]!;
              const change = PNL.revenue[i]! - prev;
              expected.push(["revenue_change", change, money(change)]);
              expected.push([
                "revenue_change_pct",
                (change / prev) * 100,
                pct((change / prev) * 100),
              ]);
            }
            for (const [key, value, printed] of expected) {
              near(rowValues(report, key)[i]!, value);
              assert.ok(text.includes(printed), `${key} ${period}: ${printed} in the PDF`);
            }
          });
          assert.ok(text.includes("pnl.csv, row 2, column Apr-2025 (B) — Revenue from operations"));
        },
      );

      await t.step("variance and cash_flow: KPIs and PDF checked the same way", async () => {
        const listed = await call(alice.client, `reports?workbenchId=${wb}`);
        const varId = listed.body.items.find((r: Json) => r.report_type === "variance").id;
        const variance = await waitForReport(alice, varId);
        assert.equal(variance.status, "ready", variance.error);
        const vText = await downloadedPdfText(variance.download_url);
        BUDGET.forEach((b, i) => {
          const row = variance.kpis.rows[i];
          assert.equal(row.label, b.line);
          const pctValue = ((b.actual - b.budget) / b.budget) * 100;
          near(row.cells[2].value, b.actual - b.budget);
          near(row.cells[3].value, pctValue);
          assert.ok(vText.includes(formatValue(b.actual - b.budget, "money", "INR")));
          assert.ok(vText.includes(formatValue(pctValue, "percent", "INR")));
        });
        const flagged = BUDGET.filter((b) => Math.abs(b.actual - b.budget) / b.budget > 0.1).map((
          b,
        ) => b.line);
        assert.deepEqual(variance.kpis.scalars.map((s: Json) => s.label.split(":")[0]), flagged);

        const cf = await post(alice, "k-cf-1", {
          ...fs,
          report_type: "cash_flow",
          title: "Cash H1",
        });
        assert.equal(cf.status, 202);
        const cash = await waitForReport(alice, cf.body.id);
        assert.equal(cash.status, "ready", cash.error);
        const cText = await downloadedPdfText(cash.download_url);
        const txns = bankTransactions(180);
        const months = [...new Set(txns.map((x) => `${x.date.slice(6)}-${x.date.slice(3, 5)}`))]
          .sort();
        assert.deepEqual(cash.kpis.columns, months);
        const nets = months.map((m, i) => {
          const inMonth = txns.filter((x) => `${x.date.slice(6)}-${x.date.slice(3, 5)}` === m);
          const inflow = inMonth.reduce((s, x) => s + x.credit, 0);
          const outflow = inMonth.reduce((s, x) => s + x.debit, 0);
          near(rowValues(cash, "inflows")[i]!, inflow);
          near(rowValues(cash, "outflows")[i]!, outflow);
          for (const v of [inflow, outflow, inflow - outflow]) {
            assert.ok(cText.includes(formatValue(v, "money", "INR")), String(v));
          }
          return inflow - outflow;
        });
        const burn = Math.round((-nets.reduce((a, b) => a + b, 0) / nets.length) * 100) / 100;
        const runway = Math.round((txns.at(-1)!.balance / burn) * 10) / 10;
        const scalar = (k: string) => cash.kpis.scalars.find((s: Json) => s.key === k).figure.value;
        near(scalar("average_monthly_burn"), burn);
        near(scalar("runway_months"), runway);
        assert.ok(cText.includes(`Runway: ${formatValue(runway, "months", "INR")}`));
      });

      await t.step(
        "a viewer reads (200) but cannot create (403); another tenant gets 404",
        async () => {
          const denied = await post(bob, "k-bob", fs);
          assert.equal(denied.status, 403);
          assert.equal((await call(bob.client, `reports/${fsId}`)).status, 200);
          const list = await call(bob.client, `reports?workbenchId=${wb}&limit=1`);
          assert.equal(list.status, 200);
          assert.equal(list.body.items.length, 1);
          assert.ok(list.body.next_offset);
          assert.equal((await call(carol.client, `reports/${fsId}`)).status, 404);
          assert.equal((await call(carol.client, `reports?workbenchId=${wb}`)).status, 404);
          assert.equal((await post(carol, "k-carol", fs)).status, 404);
        },
      );

      await t.step(
        "the same data as an XLSX with the P&L on its second sheet gives the same KPIs",
        async () => {
          const wb2 = (await call(alice.client, "workbenches", { body: { name: "XLSX" } })).body.id;
          await upload(alice, wb2, [["pnl.xlsx", pnlXlsx()]]);
          const r = await post(alice, "k-xlsx", { ...fs, workbench_id: wb2 });
          assert.equal(r.status, 202, JSON.stringify(r.body));
          const xlsx = await waitForReport(alice, r.body.id);
          const csv = (await call(alice.client, `reports/${fsId}`)).body;
          assert.equal(xlsx.status, "ready", xlsx.error);
          for (
            const key of [
              "revenue",
              "cogs",
              "gross_profit",
              "gross_margin",
              "opex",
              "ebitda",
              "net_income",
              "revenue_change_pct",
            ]
          ) {
            assert.deepEqual(rowValues(xlsx, key), rowValues(csv, key), key);
          }
          assert.equal(xlsx.kpis.rows[0].cells[0].source.sheet, "P&L FY26");

          // Deleting the workbench collects its report PDFs too.
          const path = (await sql<
            { storage_path: string }[]
          >`select storage_path from public.reports where id = ${r.body.id}`)[0]!.storage_path;
          await Deno.stat(`${stack.storageDir}/reports/${path}`);
          assert.equal(
            (await call(alice.client, `workbenches/${wb2}`, { method: "DELETE" })).status,
            204,
          );
          await eventuallyDispatched(
            () =>
              Deno.stat(`${stack.storageDir}/reports/${path}`).then(() => undefined, () => true),
            "the report PDF removed",
            60_000,
          );
        },
      );

      await t.step(
        "a worker that fails three times → failed with a reason, refunded once",
        async () => {
          // A personal workbench: Alice's own wallet pays.
          const wb3 =
            (await call(alice.client, "workbenches", { body: { name: "Broken" } })).body.id;
          const [file] = await upload(alice, wb3, [[
            "bank.csv",
            enc(bankCsv(bankTransactions(40))),
          ]]);
          const path = (await sql<
            { storage_path: string }[]
          >`select storage_path from public.workbench_files where id = ${file.id}`)[0]!
            .storage_path;
          await Deno.remove(`${stack.storageDir}/workbench/${path}`); // Storage now answers 404 for it
          const before = await balance(alice.id);
          const r = await post(alice, "k-broken", {
            ...fs,
            workbench_id: wb3,
            report_type: "cash_flow",
          });
          assert.equal(r.status, 202);
          const failed = await waitForReport(alice, r.body.id, 120_000);
          assert.equal(failed.status, "failed");
          assert.equal(
            failed.error,
            "report failed after 3 attempts: the file bank.csv could not be read from storage",
          );
          assert.equal(failed.download_url, undefined);
          assert.equal(await balance(alice.id), before);
          const rows = (await ledger(alice.id)).filter((l) =>
            l.reference_id === `${alice.id}:k-broken`
          );
          assert.deepEqual(rows.map((l) => [l.reason, l.amount]), [["report", -1], [
            "report_refund",
            1,
          ]]);
        },
      );

      await t.step(
        "the language model failing three times → failed with its reason, refunded once",
        async () => {
          groq.setMode("fail");
          const before = await balance(payer);
          const r = await post(alice, "k-llm-down", { ...fs, title: "When the model is down" });
          assert.equal(r.status, 202);
          const failed = await waitForReport(alice, r.body.id, 120_000);
          assert.equal(failed.status, "failed");
          assert.equal(
            failed.error,
            "report failed after 3 attempts: the language model failed (HTTP 500)",
          );
          assert.ok(failed.kpis, "the KPIs computed before the narrative step are kept");
          assert.equal(await balance(payer), before);
          const rows = (await ledger(payer)).filter((l) =>
            l.reference_id === `${alice.id}:k-llm-down`
          );
          assert.deepEqual(rows.map((l) => [l.reason, l.amount]), [["report", -1], [
            "report_refund",
            1,
          ]]);
          groq.setMode("invent");
        },
      );

      await t.step(
        "a table over REPORT_MAX_TABLE_BYTES → failed at once with the reason, refunded",
        async () => {
          const wb4 = (await call(alice.client, "workbenches", { body: { name: "Big" } })).body.id;
          const big = enc(bankCsv(bankTransactions(600)));
          assert.ok(big.length > 20000);
          await upload(alice, wb4, [["big_statement.csv", big]]);
          const before = await balance(payer);
          const r = await post(alice, "k-big", {
            ...fs,
            workbench_id: wb4,
            report_type: "cash_flow",
          });
          assert.equal(r.status, 202);
          const failed = await waitForReport(alice, r.body.id);
          assert.equal(failed.status, "failed");
          assert.equal(
            failed.error,
            `the tables are too large: big_statement.csv (${
              Math.ceil(big.length / 1024)
            } KB); a report reads tables of at most 20 KB`,
          );
          assert.equal(failed.attempts, 1, "a permanent failure is not retried");
          assert.equal(await balance(payer), before);
        },
      );

      await t.step("no credit → 402", async () => {
        const left = await balance(payer);
        await sql`select private.charge_report(${alice.id}, 'drain', ${left}, '{}', ${wb})`;
        const r = await post(alice, "k-poor", fs);
        assert.equal(r.status, 402);
        assert.equal(r.body.error.code, "insufficient_credits");
        // Nothing was kept for the key: after a top-up the same key works.
        assert.equal(
          (await sql`select 1 from private.idempotency_keys where key = 'k-poor'`).length,
          0,
        );
      });
    } finally {
      await stack.stop();
      await groq.stop();
    }
  },
);
