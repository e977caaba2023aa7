/**
 * Stripe billing end to end on the local stack, against a fake Stripe on loopback (its wire
 * format and signed events): a monthly subscription bought, renewed twice, failed once, upgraded
 * and cancelled at period end; a token pack bought and refunded after part was spent; every event
 * 5 times in sequence, 5 at once and out of order (one credit each); forged, stale, modified and
 * unsigned deliveries (400, nothing written); reconciliation of a lost invoice.paid; the portal;
 * usage equal to the ledger; invoices of both kinds with a receipt PDF read back; a plan limit
 * answered 403 before anything is written.
 */
import assert from "node:assert/strict";
import type { Stack } from "../../local/stack.ts";
import { getDb } from "../../shared/db.ts";
import { type SignedStripeEvent, startFakeStripe } from "../fakes/stripe.ts";
import { call, signUpUser, startTestStack } from "../helpers/stack.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };

Deno.test(
  "stripe billing: subscriptions, packs, refunds, webhooks, portal, usage, invoices",
  opts,
  async (t) => {
    const fake = startFakeStripe();
    const stack: Stack = await startTestStack({
      autoWorker: false,
      functionEnv: {
        STRIPE_SECRET_KEY: fake.secretKey,
        STRIPE_WEBHOOK_SECRET: fake.webhookSecret,
        STRIPE_API_URL: fake.url,
        STRIPE_TIMEOUT_MS: "2000",
      },
    });
    const sql = getDb();
    const balance = async (userId: string) =>
      (await sql<
        { balance: number }[]
      >`select balance from public.wallet where user_id = ${userId}`)[0]
        .balance;
    const plan = async (userId: string) =>
      (await sql<{ plan_id: string | null }[]>`
      select plan_id from public.wallet where user_id = ${userId}`)[0].plan_id;
    const events = async () =>
      (await sql<{ n: number }[]>`select count(*)::int as n from private.stripe_events`)[0].n;
    const ledgerRows = async (userId: string) =>
      (await sql<{ n: number }[]>`select count(*)::int as n from public.wallet_usage
      where user_id = ${userId}`)[0].n;
    const deliver = async (
      e: SignedStripeEvent,
      change: { body?: string; headers?: object } = {},
    ) => {
      const res = await fetch(`${stack.apiUrl}/functions/v1/webhooks/stripe`, {
        method: "POST",
        headers: { ...e.headers, ...change.headers } as Record<string, string>,
        body: change.body ?? e.body,
      });
      return { status: res.status, body: await res.json() };
    };
    /** 5 times in sequence, then 5 at once: every answer 200. */
    const hammer = async (e: SignedStripeEvent) => {
      for (let i = 0; i < 5; i++) assert.equal((await deliver(e)).status, 200);
      const all = await Promise.all(Array.from({ length: 5 }, () => deliver(e)));
      for (const r of all) assert.equal(r.status, 200, JSON.stringify(r.body));
    };

    try {
      const alice = await signUpUser(stack, "stripe-alice");
      const start = await balance(alice.id);
      let subId = "";

      await t.step(
        "a monthly subscription: Checkout Session in subscription mode, customer once",
        async () => {
          const s1 = await call(alice.client, "checkout/session", {
            body: { provider: "stripe", plan_id: "lite" },
          });
          assert.equal(s1.status, 201, JSON.stringify(s1.body));
          assert.equal(s1.body.mode, "subscription");
          assert.match(s1.body.url, /^https:\/\/checkout\.stripe\.com\//);
          const form = fake.requests.find((r) => r.path === "/v1/checkout/sessions")!.form;
          assert.equal(form.line_items[0].price_data.unit_amount, "900");
          assert.equal(form.line_items[0].price_data.recurring.interval, "month");
          assert.equal(form.subscription_data.metadata.price_id, "lite-stripe-usd-month");
          const s2 = await call(alice.client, "checkout/session", {
            body: { provider: "stripe", plan_id: "lite", amount: 1 },
          });
          assert.equal(s2.body.customer, s1.body.customer, "the customer is reused");
          assert.equal(fake.requests.filter((r) => r.path === "/v1/customers").length, 1);

          const [completed, paid] = await fake.complete(s1.body.session_id);
          subId = paid.event.data.object.parent.subscription_details.subscription;
          // Out of order: the invoice before the session; each 5x in sequence and 5x at once.
          await hammer(paid);
          await hammer(completed);
          assert.equal(await balance(alice.id), start + 100);
          assert.equal(await plan(alice.id), "lite");
        },
      );

      await t.step(
        "renewed twice, failed once (past_due, credits stay), in any order",
        async () => {
          const r1 = await fake.renew(subId);
          const r2 = await fake.renew(subId);
          const failed = await fake.renew(subId, { fail: true });
          await Promise.all([hammer(r2), hammer(r1)]);
          await hammer(failed);
          assert.equal(await balance(alice.id), start + 300);
          const [sub] = await sql<{ status: string }[]>`
        select status from public.subscriptions where provider_subscription_id = ${subId}`;
          assert.equal(sub.status, "past_due");
        },
      );

      await t.step("upgraded at the next period, then cancelled at period end", async () => {
        await hammer(await fake.update(subId, { price_id: "pro-stripe-usd-month" }));
        let [sub] = await sql<{ pending_plan_id: string | null }[]>`
        select pending_plan_id from public.subscriptions where provider_subscription_id = ${subId}`;
        assert.equal(sub.pending_plan_id, "pro");
        await hammer(await fake.renew(subId));
        assert.equal(await balance(alice.id), start + 700, "the pro renewal grants 400");
        assert.equal(await plan(alice.id), "pro");
        await hammer(await fake.update(subId, { cancel_at_period_end: true }));
        [sub] = await sql`select cancel_at_period_end, status from public.subscriptions
        where provider_subscription_id = ${subId}`;
        assert.deepEqual({ ...sub }, { cancel_at_period_end: true, status: "active" });
        await hammer(await fake.remove(subId));
        assert.equal(await plan(alice.id), null, "back to the free plan");
        assert.equal(await balance(alice.id), start + 700, "credits granted stay");
      });

      await t.step(
        "reconciliation credits a paid invoice whose webhook was lost, once",
        async () => {
          const sub2 = await call(alice.client, "checkout/session", {
            body: { provider: "stripe", plan_id: "lite", interval: "year" },
          });
          assert.equal(sub2.body.price.amount, 9000);
          const [completed, paid] = await fake.complete(sub2.body.session_id);
          await deliver(completed); // the invoice.paid webhook never comes
          const before = await balance(alice.id);
          const res = await fetch(`${stack.apiUrl}/functions/v1/webhooks/reconcile-stripe`, {
            method: "POST",
            headers: { authorization: `Bearer ${stack.serviceRoleKey}` },
          });
          const summary = await res.json();
          assert.equal(res.status, 200, JSON.stringify(summary));
          assert.equal(summary.credited, 1);
          assert.equal(await balance(alice.id), before + 100);
          assert.equal((await deliver(paid)).body.outcome, "already_credited");
          assert.equal(await balance(alice.id), before + 100);
          const user = await call(alice.client, "webhooks/reconcile-stripe", { body: {} });
          assert.equal(user.status, 403);
        },
      );

      let piPack = "";
      await t.step("a token pack, refunded after part was spent: never below zero", async () => {
        const s = await call(alice.client, "checkout/session", {
          body: { provider: "stripe", pack_id: "pack-100" },
        });
        assert.equal(s.status, 201, JSON.stringify(s.body));
        assert.equal(s.body.mode, "payment");
        const [completed] = await fake.complete(s.body.session_id);
        piPack = completed.event.data.object.payment_intent;
        await hammer(completed);
        const before = await balance(alice.id);
        assert.equal(before, start + 900);
        await sql`select private.spend_credits(${alice.id}, ${before - 30}, 'spend', 'stripe-e2e')`;
        await hammer(await fake.refund(piPack));
        assert.equal(await balance(alice.id), 0);
        const [row] = await sql<{ metadata: { shortfall: number } }[]>`
        select metadata from public.wallet_usage
         where reason = 'payment_refund' and reference_id = ${"stripe:" + piPack}`;
        assert.equal(row.metadata.shortfall, 70);
      });

      await t.step(
        "forged, stale, modified and unsigned events → 400, nothing written",
        async () => {
          const n = await events();
          const rows = await ledgerRows(alice.id);
          const real = await fake.renew(subId);
          const forged = await fake.sign("invoice.paid", real.event.data.object, {
            secret: "whsec_forged",
          });
          const stale = await fake.sign("invoice.paid", real.event.data.object, {
            timestamp: Math.floor(Date.now() / 1000) - 301,
          });
          for (
            const [name, r] of [
              ["forged", await deliver(forged)],
              ["stale", await deliver(stale)],
              ["modified", await deliver(real, { body: real.body.replace('"paid"', '"void"') })],
              ["unsigned", await deliver(real, { headers: { "stripe-signature": "" } })],
            ] as const
          ) {
            assert.equal(r.status, 400, name);
          }
          assert.equal(await events(), n);
          assert.equal(await ledgerRows(alice.id), rows);
          const unknown = await deliver(await fake.sign("customer.created", { id: "cus_x" }));
          assert.deepEqual([unknown.status, unknown.body.outcome], [200, "ignored"]);
        },
      );

      await t.step("the billing portal link is for the caller's customer", async () => {
        const r = await call(alice.client, "billing/portal", { body: {} });
        assert.equal(r.status, 200, JSON.stringify(r.body));
        assert.match(r.body.url, /^https:\/\/billing\.stripe\.com\//);
        const bob = await signUpUser(stack, "stripe-bob");
        assert.equal((await call(bob.client, "billing/portal", { body: {} })).status, 404);
      });

      await t.step("usage: credits per day and reason equal the ledger", async () => {
        const r = await call(alice.client, "billing/usage?from=2020-01-01");
        assert.equal(r.status, 200, JSON.stringify(r.body));
        const [{ spent }] = await sql<{ spent: number }[]>`
        select coalesce(sum(-amount), 0)::int as spent from public.wallet_usage
         where user_id = ${alice.id} and amount < 0`;
        assert.equal(r.body.spent, spent);
        assert.equal(
          r.body.credits.reduce((a: number, c: { credits: number }) => a + Number(c.credits), 0),
          spent,
        );
        assert.ok(r.body.limits.some((l: { limit: string }) => l.limit === "workbenches"));
      });

      await t.step("invoices: newest first, paged, each with a receipt made once", async () => {
        const r = await call(alice.client, "billing/invoices?limit=2");
        assert.equal(r.status, 200, JSON.stringify(r.body));
        assert.equal(r.body.items.length, 2);
        assert.equal(r.body.next_offset, 2);
        const all = await call(alice.client, "billing/invoices?limit=50");
        const items = all.body.items as { paid_at: string; receipt_url: string; amount: number }[];
        assert.equal(items.length, 6, "3 lite monthly, 1 pro, 1 lite annual invoices, 1 pack");
        const times = items.map((i) => i.paid_at);
        assert.deepEqual([...times].sort().reverse(), times);
        const [{ n }] = await sql<{ n: number }[]>`select count(*)::int as n from private.receipts
        where user_id = ${alice.id}`;
        assert.equal(n, 6);
        const again = await call(alice.client, "billing/invoices?limit=50");
        assert.equal(again.body.items.length, 6);
        assert.equal(
          (await sql<{ n: number }[]>`select count(*)::int as n from private.receipts`)[0].n,
          n,
          "made once",
        );
        const hosted = (all.body.items as { hosted_invoice_url: string | null }[])
          .filter((i) => i.hosted_invoice_url?.startsWith("https://invoice.stripe.com/"));
        assert.equal(hosted.length, 5, "every subscription invoice links Stripe's hosted invoice");
        const pdf = new Uint8Array(await (await fetch(items[0].receipt_url)).arrayBuffer());
        assert.equal(new TextDecoder().decode(pdf.slice(0, 5)), "%PDF-");
        const text = await pdfText(pdf);
        if (text !== null) {
          assert.match(text, /Total: \$10\.00/, text);
          assert.match(text, new RegExp(piPack));
        }
      });

      await t.step("a plan limit: 403 plan_limit_reached before anything is written", async () => {
        const carol = await signUpUser(stack, "stripe-carol");
        await sql`select public.admin_grant_enterprise(${carol.id}, 1, '{"workbenches": 1}')`;
        assert.equal(
          (await call(carol.client, "workbenches", { body: { name: "one" } })).status,
          201,
        );
        const r = await call(carol.client, "workbenches", { body: { name: "two" } });
        assert.equal(r.status, 403, JSON.stringify(r.body));
        assert.equal(r.body.error.code, "plan_limit_reached");
        assert.equal(r.body.error.details.limit, "workbenches");
        const [{ n }] = await sql<{ n: number }[]>`select count(*)::int as n from public.workbench
        where owner_user_id = ${carol.id}`;
        assert.equal(n, 1);
      });

      await t.step("a file past files_per_workbench: 403, no row, its object removed", async () => {
        const dave = await signUpUser(stack, "stripe-dave");
        await sql`select public.admin_grant_enterprise(${dave.id}, 1, '{"files_per_workbench": 1}')`;
        const wb = (await call(dave.client, "workbenches", { body: { name: "files" } })).body.id;
        const upload = (name: string, content: string) => {
          const fd = new FormData();
          fd.append("file", new Blob([content]), name);
          return call(dave.client, `workbenches/${wb}/files`, { body: fd });
        };
        assert.equal((await upload("a.csv", "a,b\n1,2\n")).status, 201);
        const r = await upload("b.csv", "c,d\n3,4\n");
        assert.equal(r.status, 403, JSON.stringify(r.body));
        assert.equal(r.body.error.code, "plan_limit_reached");
        assert.equal(r.body.error.details.limit, "files_per_workbench");
        const [{ files }] = await sql<{ files: number }[]>`
          select count(*)::int as files from public.workbench_files where workbench_id = ${wb}`;
        assert.equal(files, 1);
        const [{ objects }] = await sql<{ objects: number }[]>`
          select count(*)::int as objects from storage.objects where name like ${wb + "/%"}`;
        assert.equal(objects, 1, "the refused file's object is removed");
      });
    } finally {
      await stack.stop();
      await fake.close();
    }
  },
);

/** The PDF's text through poppler's pdftotext, or null when it is not installed. */
async function pdfText(pdf: Uint8Array): Promise<string | null> {
  const file = await Deno.makeTempFile({ suffix: ".pdf" });
  try {
    await Deno.writeFile(file, pdf);
    const out = await new Deno.Command("pdftotext", { args: [file, "-"], stdout: "piped" })
      .output();
    return new TextDecoder().decode(out.stdout);
  } catch {
    return null;
  } finally {
    await Deno.remove(file);
  }
}
