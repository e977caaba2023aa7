/**
 * Platform administration and metrics end to end on the local platform: a user cannot make
 * themself admin by any route, table or RPC; the service role bootstraps a global admin, who
 * grants support_user; support reads tenants and failures but changes nothing and reads no
 * messages; suspension answers 403 `tenant_suspended` everywhere but the export (and is audited
 * with the admin as actor); plans and credits through the API. The `metrics` function refuses
 * users and anonymous callers, and its exposition parses strictly and moves with each event.
 */
import assert from "node:assert/strict";
import { requireUser } from "../../shared/auth.ts";
import { asUser, getDb, type Tx } from "../../shared/db.ts";
import { HttpError } from "../../shared/http.ts";
import { parsePrometheusText, sampleValue } from "../helpers/prometheus.ts";
import { signUpUser, startTestStack } from "../helpers/stack.ts";
import { assertDocumented } from "../api/documented.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };
const METRICS_TOKEN = "metrics-token-0123456789abcdef-0123456789";

// deno-lint-ignore no-explicit-any
type Json = any;

Deno.test("platform admins, suspension and metrics end to end", opts, async (t) => {
  const stack = await startTestStack({ autoWorker: false, functionEnv: { METRICS_TOKEN } });
  const sql = getDb();
  const api = async (token: string | undefined, method: string, path: string, body?: unknown) => {
    const res = await fetch(`${stack.apiUrl}/functions/v1/${path}`, {
      method,
      headers: {
        apikey: stack.anonKey,
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    let json: Json = text;
    try {
      json = JSON.parse(text);
    } catch { /* the metrics text */ }
    // Every admin answer is checked against docs/openapi.json.
    if (path.startsWith("admin/")) {
      await assertDocumented(method, path, {
        status: res.status,
        body: json,
        headers: res.headers,
      });
    }
    return { status: res.status, body: json };
  };
  const scrape = async () => {
    const res = await api(stack.serviceRoleKey, "GET", "metrics");
    assert.equal(res.status, 200, String(res.body));
    return parsePrometheusText(res.body);
  };
  try {
    const ada = await signUpUser(stack, "ada");
    const sue = await signUpUser(stack, "sue");
    const mallory = await signUpUser(stack, "mallory");

    await t.step("a user cannot make themself admin by any route, table or RPC", async () => {
      for (
        const [method, path, body] of [
          ["PUT", `admin/roles/${mallory.id}`, { role: "global_admin", reason: "me" }],
          ["GET", "admin/tenants", undefined],
          ["POST", `admin/tenants/${mallory.id}/credits`, {
            credits: 5,
            reference_id: "m",
            reason: "me",
          }],
          ["POST", "admin/plans", { id: "free-lunch", name: "Free", reason: "me" }],
        ] as const
      ) {
        const res = await api(mallory.token, method, path, body);
        assert.equal(res.status, 403, `${method} ${path}`);
        assert.equal(res.body.error.code, "platform_role_required");
      }
      // What the Data API would run as the user (PostgREST is not served locally): no grant.
      const asMallory = { sub: mallory.id, role: "authenticated" as const };
      for (
        const attempt of [
          (tx: Tx) =>
            tx`select private.set_platform_role(null, ${mallory.id}::uuid, 'global_admin', 'me')`,
          (tx: Tx) =>
            tx`insert into private.platform_roles (user_id, role, reason)
                         values (${mallory.id}, 'global_admin', 'me')`,
          (tx: Tx) =>
            tx`select private.set_tenant_suspension(null, ${mallory.id}::uuid, false, 'me')`,
        ]
      ) {
        await assert.rejects(
          () => asUser(sql, asMallory, attempt),
          (e: Json) => e.code === "42501",
        );
      }
      const [row] = await sql`select private.platform_role(${mallory.id}::uuid) as role`;
      assert.equal(row!.role, null);
    });

    await t.step("the service role makes the first admin, who grants support_user", async () => {
      const boot = await api(stack.serviceRoleKey, "PUT", `admin/roles/${ada.id}`, {
        role: "global_admin",
        reason: "bootstrap",
      });
      assert.equal(boot.status, 200, JSON.stringify(boot.body));
      const grant = await api(ada.token, "PUT", `admin/roles/${sue.id}`, {
        role: "support_user",
        reason: "helpdesk",
      });
      assert.equal(grant.status, 200, JSON.stringify(grant.body));
      const self = await api(sue.token, "PUT", `admin/roles/${sue.id}`, {
        role: "global_admin",
        reason: "promote me",
      });
      assert.equal(self.status, 403);
      assert.equal(self.body.error.code, "platform_admin_required");
    });

    await t.step("GET /admin/tenants pages companies and accounts, with search", async () => {
      await sql`insert into public.workbench (name, owner_user_id) values ('Books', ${mallory.id})`;
      const found = await api(sue.token, "GET", `admin/tenants?q=${mallory.email}`);
      assert.equal(found.status, 200, JSON.stringify(found.body));
      assert.equal(found.body.items.length, 1);
      const [tenant] = found.body.items;
      assert.equal(tenant.id, mallory.id);
      assert.equal(tenant.kind, "user");
      const wildcard = await api(sue.token, "GET", `admin/tenants?q=${encodeURIComponent("%")}`);
      assert.deepEqual(wildcard.body.items, [], "`%` is a character, not a wildcard");
      assert.equal(tenant.workbenches, 1);
      assert.equal(typeof tenant.balance, "number");
      assert.ok(
        "usage_month" in tenant && "storage_bytes" in tenant && "last_activity_at" in tenant,
      );
      const first = await api(ada.token, "GET", "admin/tenants?limit=1");
      assert.equal(first.body.items.length, 1);
      assert.equal(first.body.next_offset, 1);
      const failures = await api(sue.token, "GET", `admin/tenants/${mallory.id}/failures`);
      assert.equal(failures.status, 200);
      assert.deepEqual(Object.keys(failures.body).sort(), ["files", "reports"]);
    });

    await t.step("support_user changes nothing and reads no messages", async () => {
      const suspend = await api(sue.token, "POST", `admin/tenants/${mallory.id}/suspend`, {
        reason: "x",
      });
      assert.equal(suspend.status, 403);
      assert.equal(suspend.body.error.code, "platform_admin_required");
      const [wb] = await sql`select id from public.workbench where owner_user_id = ${mallory.id}`;
      const [session] = await sql`insert into public.chat_session (workbench_id, user_id)
        values (${wb!.id}, ${mallory.id}) returning id`;
      await sql`insert into public.message (session_id, role, content)
        values (${session!.id}, 'user', 'a private question')`;
      // As the Data API would read them for sue (RLS): none, nor any chunk of a document.
      const seen = await asUser(sql, { sub: sue.id, role: "authenticated" }, async (tx) => ({
        messages: (await tx`select content from public.message`).length,
        chunks: (await tx`select 1 from public.workbench_chunks`).length,
      }));
      assert.deepEqual(seen, { messages: 0, chunks: 0 });
    });

    await t.step("suspension blocks everything but the export, and is audited", async () => {
      const before = sampleValue(await scrape(), "aw_tenants_suspended", { kind: "user" }) ?? 0;
      const s = await api(ada.token, "POST", `admin/tenants/${mallory.id}/suspend`, {
        reason: "chargeback fraud",
      });
      assert.equal(s.status, 200, JSON.stringify(s.body));
      for (const path of ["wallet", "workbenches", "companies", "reports"]) {
        const res = await api(mallory.token, "GET", path);
        assert.equal(res.status, 403, path);
        assert.equal(res.body.error.code, "tenant_suspended", path);
      }
      const admin = await api(mallory.token, "GET", "admin/tenants");
      assert.equal(admin.body.error.code, "tenant_suspended");
      // The export (built in its own function) stays open: requireUser lets its path through.
      const verifier = {
        verify: () =>
          Promise.resolve({
            sub: mallory.id,
            role: "authenticated" as const,
            aud: "authenticated",
          }),
        isServiceKey: () => false,
        accountState: () => Promise.resolve({ deactivated: false, suspended: "chargeback fraud" }),
      };
      const exportReq = new Request(`${stack.apiUrl}/functions/v1/me/export`, {
        headers: { authorization: `Bearer ${mallory.token}` },
      });
      assert.equal((await requireUser(exportReq, verifier)).id, mallory.id);
      const other = new Request(`${stack.apiUrl}/functions/v1/me/exporter`, {
        headers: { authorization: `Bearer ${mallory.token}` },
      });
      await assert.rejects(
        () => requireUser(other, verifier),
        (e) => e instanceof HttpError && e.code === "tenant_suspended",
      );
      const [audit] = await sql`select actor, details from private.audit_log
        where action = 'admin.suspend' and entity_id = ${mallory.id}`;
      assert.equal(audit!.actor, ada.id);
      assert.equal(audit!.details.reason, "chargeback fraud");
      assert.equal(
        sampleValue(await scrape(), "aw_tenants_suspended", { kind: "user" }),
        before + 1,
      );
      const u = await api(ada.token, "POST", `admin/tenants/${mallory.id}/unsuspend`, {
        reason: "resolved",
      });
      assert.equal(u.status, 200);
      assert.equal((await api(mallory.token, "GET", "wallet")).status, 200);
    });

    await t.step(
      "plans and credits through the API, audited; the ledger series moves",
      async () => {
        const granted = () =>
          scrape().then((m) =>
            sampleValue(m, "aw_credits_granted_total", { reason: "admin_grant" }) ?? 0
          );
        const before = await granted();
        const created = await api(ada.token, "POST", "admin/plans", {
          id: "team",
          name: "Team",
          price_paise: 99900,
          credits: 300,
          seats: 5,
          reason: "launch",
        });
        assert.equal(created.status, 201, JSON.stringify(created.body));
        const changed = await api(ada.token, "PATCH", "admin/plans/team", {
          credits: 350,
          reason: "more",
        });
        assert.equal(changed.body.credits, 350);
        assert.equal(changed.body.price_paise, 99900);
        const plan = await api(ada.token, "POST", `admin/tenants/${mallory.id}/plan`, {
          plan_id: "team",
          seats: 5,
          reason: "upgrade",
        });
        assert.equal(plan.status, 200, JSON.stringify(plan.body));
        assert.equal(plan.body.plan_id, "team");
        const credits = await api(ada.token, "POST", `admin/tenants/${mallory.id}/credits`, {
          credits: 40,
          reference_id: "deal-1",
          reason: "goodwill",
        });
        assert.equal(credits.status, 200, JSON.stringify(credits.body));
        assert.equal(await granted(), before + 40);
        const missing = await api(
          ada.token,
          "POST",
          `admin/tenants/${crypto.randomUUID()}/credits`,
          {
            credits: 1,
            reference_id: "x",
            reason: "x",
          },
        );
        assert.equal(missing.status, 404);
      },
    );

    await t.step("the metrics function refuses users and anonymous callers", async () => {
      assert.equal((await api(undefined, "GET", "metrics")).status, 401);
      assert.equal((await api(mallory.token, "GET", "metrics")).status, 403);
      assert.equal(
        (await api(ada.token, "GET", "metrics")).status,
        403,
        "admins scrape with a key",
      );
      assert.equal((await api(stack.anonKey, "GET", "metrics")).status, 403);
      const token = await api(METRICS_TOKEN, "GET", "metrics");
      assert.equal(token.status, 200);
      parsePrometheusText(token.body);
    });

    await t.step("each series moves when its event happens", async () => {
      const before = await scrape();
      for (const q of ["file_index", "report_jobs", "storage_gc"]) {
        assert.notEqual(sampleValue(before, "aw_queue_depth", { queue: q }), undefined, q);
        assert.notEqual(
          sampleValue(before, "aw_queue_oldest_age_seconds", { queue: q }),
          undefined,
        );
      }
      const v = (m: typeof before, name: string, labels: Record<string, string> = {}) =>
        sampleValue(m, name, labels) ?? 0;
      const [wb] = await sql`select id from public.workbench where owner_user_id = ${mallory.id}`;
      await sql`insert into public.workbench_files (workbench_id, file_name, file_type, size_bytes,
                  content_hash, status, error_message, attempts)
                values (${wb!.id}, 'broken.pdf', 'pdf', 10, 'h-broken', 'error',
                        'unreadable_pdf: no pages', 3)`;
      await sql`insert into public.reports (workbench_id, user_id, report_type, title, status,
                  idempotency_key, error_message, attempts)
                values (${wb!.id}, ${mallory.id}, 'financial_summary', 'H1', 'failed', 'k-1',
                        'no_tables: nothing to read', 2)`;
      // A session of its own, so the question before the answer is the one 3 s earlier.
      const [session] = await sql`insert into public.chat_session (workbench_id, user_id, status)
        values (${wb!.id}, ${mallory.id}, 'archived') returning id`;
      await sql`insert into public.message (session_id, role, content, created_at)
                values (${session!.id}, 'user', 'q', now() - interval '3 seconds'),
                       (${session!.id}, 'assistant', 'a', now())`;
      await sql`insert into private.razorpay_events (event_id, event_type, payload, outcome)
                values ('evt_metrics_1', 'payment.captured', '{}', 'unknown_order')`;
      await sql`insert into private.stripe_events (event_id, event_type, payload, outcome)
                values ('evt_metrics_stripe_1', 'invoice.paid', '{}', 'credited')`;
      const refusals = v(before, "aw_rate_limit_refusals_total", { scope: "invitations" });
      for (let i = 0; i < 25; i++) {
        await sql`select private.check_rate_limit('invitations', ${mallory.id}::uuid, '198.51.100.7')`;
      }
      const after = await scrape();
      assert.equal(
        v(after, "aw_files", { status: "error" }),
        v(before, "aw_files", { status: "error" }) + 1,
      );
      assert.equal(v(after, "aw_file_bytes"), v(before, "aw_file_bytes") + 10);
      assert.equal(
        v(after, "aw_worker_failures", { worker: "index-worker", reason: "unreadable_pdf" }),
        v(before, "aw_worker_failures", { worker: "index-worker", reason: "unreadable_pdf" }) + 1,
      );
      assert.equal(
        v(after, "aw_worker_attempts_total", { worker: "index-worker" }),
        v(before, "aw_worker_attempts_total", { worker: "index-worker" }) + 3,
      );
      assert.equal(
        v(after, "aw_worker_failures", { worker: "report-worker", reason: "no_tables" }),
        v(before, "aw_worker_failures", { worker: "report-worker", reason: "no_tables" }) + 1,
      );
      assert.equal(
        v(after, "aw_reports", { status: "failed" }),
        v(before, "aw_reports", { status: "failed" }) + 1,
      );
      assert.equal(
        v(after, "aw_chat_answers_total", { status: "complete" }),
        v(before, "aw_chat_answers_total", { status: "complete" }) + 1,
      );
      assert.equal(
        v(after, "aw_chat_answer_seconds_count"),
        v(before, "aw_chat_answer_seconds_count") + 1,
      );
      assert.equal(
        v(after, "aw_chat_answer_seconds_bucket", { le: "5" }),
        v(before, "aw_chat_answer_seconds_bucket", { le: "5" }) + 1,
      );
      assert.equal(
        v(after, "aw_chat_answer_seconds_bucket", { le: "2" }),
        v(before, "aw_chat_answer_seconds_bucket", { le: "2" }),
        "a 3 s answer is not under 2 s",
      );
      assert.equal(
        v(after, "aw_webhook_events_total", { provider: "razorpay", outcome: "unknown_order" }),
        v(before, "aw_webhook_events_total", { provider: "razorpay", outcome: "unknown_order" }) +
          1,
      );
      assert.equal(
        v(after, "aw_webhook_events_total", { provider: "stripe", outcome: "credited" }),
        v(before, "aw_webhook_events_total", { provider: "stripe", outcome: "credited" }) + 1,
      );
      assert.ok(v(after, "aw_rate_limit_refusals_total", { scope: "invitations" }) >= refusals + 5);
    });
  } finally {
    await stack.stop();
  }
});
