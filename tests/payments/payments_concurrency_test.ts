/**
 * Exactly-once crediting under real concurrency, on a native multi-connection PostgreSQL at READ
 * COMMITTED (PGlite serialises connections, so it cannot show races): 20 `/checkout/verify` calls
 * and 20 signed webhooks (`payment.captured` and `order.paid`, each its own event) for one payment,
 * all at once, credit once; the same refund and capture racing never take back more than was given;
 * the refund of one payment racing captures of the order's other payment lets that one credit once.
 *
 * The `checkout` and `webhooks` handlers run in-process (the same code the functions serve) on a
 * 40-connection pool, so every request has its own connection and transaction as on Supabase,
 * against a native PostgreSQL with every migration applied (tests/helpers/postgres.ts
 * `startMigratedPostgres()`), so the RPCs raced are the ones that ship. Users are told
 * apart by a test verifier (the token is the user id); everything after it — RLS through
 * `asCaller`, signatures, the RPCs — is the real path.
 */
import assert from "node:assert/strict";
import type { JwtVerifier } from "../../shared/auth.ts";
import { serve } from "../../shared/http.ts";
import { createCheckoutHandler } from "../../functions/checkout/handler.ts";
import { createWebhooksHandler } from "../../functions/webhooks/handler.ts";
import type { RazorpayClient } from "../../shared/payments/mod.ts";
import { startFakeRazorpay } from "../../local/fakes/razorpay.ts";
import { needsMigratedPostgres, withMigratedPostgres } from "../helpers/postgres.ts";

if (!Deno.env.get("LOG_LEVEL")) Deno.env.set("LOG_LEVEL", "warn");

const ignore = needsMigratedPostgres();

/** Test users: the bearer token is the user id. */
const testVerifier: JwtVerifier = {
  verify: (token) =>
    Promise.resolve({
      sub: token,
      role: "authenticated",
      aud: "authenticated",
      exp: Math.floor(Date.now() / 1000) + 3600,
    }),
  isServiceKey: () => false,
};

const unused: RazorpayClient = {
  createOrder: () => Promise.reject(new Error("not used")),
  orderPayments: () => Promise.reject(new Error("not used")),
};

Deno.test({
  name: "20 verify and 20 webhook calls for one payment, all at once, credit once",
  ignore,
  sanitizeOps: false,
  sanitizeResources: false,
}, async (t) => {
  await withMigratedPostgres(40, async ({ admin, pool }) => {
    const fake = startFakeRazorpay();
    try {
      const [{ isolation }] =
        await pool`select current_setting('transaction_isolation') as isolation`;
      assert.equal(isolation, "read committed");

      const checkout = serve(
        "checkout",
        createCheckoutHandler({
          sql: () => pool,
          verifier: testVerifier,
          payments: { client: unused, keyId: fake.keyId, keySecret: fake.keySecret },
        }),
      );
      const webhooks = serve(
        "webhooks",
        createWebhooksHandler({
          sql: () => pool,
          verifier: testVerifier,
          webhookSecret: fake.webhookSecret,
        }),
      );

      let serial = 0;
      /** A user with an order for `plan` recorded `created`, as /checkout/session leaves it. */
      const newOrder = async (plan: "lite" | "pro") => {
        const [{ id }] = await admin`insert into auth.users (id, email)
        values (gen_random_uuid(), ${`race-${++serial}@example.com`}) returning id`;
        const userId = id as string;
        const amount = plan === "lite" ? 49900 : 149900;
        const orderId = `order_Race${String(serial).padStart(10, "0")}`;
        fake.orders.set(orderId, {
          id: orderId,
          entity: "order",
          amount,
          amount_paid: 0,
          amount_due: amount,
          currency: "INR",
          receipt: `rcpt_race_${serial}`,
          offer_id: null,
          status: "created",
          attempts: 0,
          notes: { user_id: userId, plan_id: plan },
          created_at: 0,
        });
        await admin`insert into public.payments
          (user_id, plan_id, razorpay_order_id, amount_paise, currency, receipt)
        values (${userId}, ${plan}, ${orderId}, ${amount}, 'INR', ${`rcpt_race_${serial}`})`;
        return { userId, orderId };
      };
      const balance = async (userId: string) =>
        (await admin`select balance from public.wallet where user_id = ${userId}`)[0]!
          .balance as number;

      const verifyCall = async (userId: string, orderId: string, paymentId: string) => {
        const res = await checkout(
          new Request("http://local/functions/v1/checkout/verify", {
            method: "POST",
            headers: { authorization: `Bearer ${userId}`, "content-type": "application/json" },
            body: JSON.stringify({
              razorpay_order_id: orderId,
              razorpay_payment_id: paymentId,
              razorpay_signature: await fake.checkoutSignature(orderId, paymentId),
            }),
          }),
        );
        const body = await res.json();
        return { status: res.status, credited: body.credited === true, body };
      };
      const webhookCall = async (event: string, entities: Parameters<typeof fake.webhook>[1]) => {
        const wh = await fake.webhook(event, entities);
        const res = await webhooks(
          new Request("http://local/functions/v1/webhooks/razorpay", {
            method: "POST",
            headers: wh.headers,
            body: wh.body,
          }),
        );
        const body = await res.json();
        return { status: res.status, credited: body.outcome === "credited", body };
      };

      for (const plan of ["lite", "pro"] as const) {
        await t.step(`${plan}: 20 verify + 20 webhooks at once credit once`, async () => {
          for (let round = 0; round < 3; round++) {
            const { userId, orderId } = await newOrder(plan);
            const before = await balance(userId);
            const payment = fake.pay(orderId);
            const order = fake.orders.get(orderId)!;
            const calls = [
              ...Array.from({ length: 20 }, () => verifyCall(userId, orderId, payment.id)),
              ...Array.from(
                { length: 20 },
                (_, i) =>
                  webhookCall(i % 2 ? "order.paid" : "payment.captured", { payment, order }),
              ),
            ];
            const results = await Promise.all(calls);
            const failed = results.filter((r) => r.status !== 200);
            assert.deepEqual(failed, [], "every call is answered 200");
            assert.equal(results.filter((r) => r.credited).length, 1, "exactly one call credited");
            const credits = plan === "lite" ? 100 : 400;
            assert.equal(await balance(userId), before + credits);
            const [row] = await admin`select
              (select count(*)::int from public.wallet_usage
                where user_id = ${userId} and reason = 'purchase') as purchases,
              (select seats from public.wallet where user_id = ${userId}) as seats,
              (select status from public.payments where razorpay_order_id = ${orderId}) as status,
              (select count(*)::int from private.razorpay_events
                where order_id = ${orderId}) as events`;
            assert.deepEqual(row, {
              purchases: 1,
              seats: plan === "pro" ? 2 : 1,
              status: "paid",
              events: 20,
            });
          }
        });
      }

      await t.step(
        "one event delivered 10 times at once is recorded once and credits once",
        async () => {
          const { userId, orderId } = await newOrder("lite");
          const before = await balance(userId);
          const wh = await fake.webhook("payment.captured", { payment: fake.pay(orderId) });
          const results = await Promise.all(Array.from({ length: 10 }, async () => {
            const res = await webhooks(
              new Request("http://local/functions/v1/webhooks/razorpay", {
                method: "POST",
                headers: wh.headers,
                body: wh.body,
              }),
            );
            return { status: res.status, outcome: (await res.json()).outcome as string };
          }));
          assert.ok(results.every((r) => r.status === 200));
          const outcomes = results.map((r) => r.outcome).sort();
          assert.deepEqual(outcomes, ["credited", ...Array(9).fill("duplicate")]);
          assert.equal(await balance(userId), before + 100);
          const [{ n }] = await admin`select count(*)::int as n from private.razorpay_events
        where event_id = ${wh.eventId}`;
          assert.equal(n, 1);
        },
      );

      await t.step("a refund racing 10 captures never takes back more than was given", async () => {
        for (let round = 0; round < 3; round++) {
          const { userId, orderId } = await newOrder("lite");
          const before = await balance(userId);
          const payment = fake.pay(orderId);
          const refund = fake.refund(payment);
          const results = await Promise.all([
            ...Array.from({ length: 10 }, () => webhookCall("payment.captured", { payment })),
            ...Array.from(
              { length: 5 },
              () => webhookCall("refund.processed", { refund, payment }),
            ),
          ]);
          assert.ok(results.every((r) => r.status === 200));
          // Whichever came first, the purchase is undone exactly: the balance is back where it was.
          assert.equal(await balance(userId), before);
          const [row] = await admin`select status,
            (select coalesce(sum(amount), 0)::int from public.wallet_usage
              where user_id = ${userId} and reason in ('purchase', 'payment_refund')) as net
          from public.payments where razorpay_order_id = ${orderId}`;
          assert.deepEqual(row, { status: "refunded", net: 0 });
        }
      });

      await t.step(
        "a refund of one payment racing captures of the kept payment: the kept one credits once",
        async () => {
          for (let round = 0; round < 3; round++) {
            const { userId, orderId } = await newOrder("lite");
            const before = await balance(userId);
            const refunded = fake.pay(orderId);
            const kept = fake.pay(orderId);
            const refund = fake.refund(refunded);
            const results = await Promise.all([
              ...Array.from(
                { length: 5 },
                () => webhookCall("payment.captured", { payment: kept }),
              ),
              ...Array.from(
                { length: 5 },
                () => webhookCall("refund.processed", { refund, payment: refunded }),
              ),
            ]);
            assert.ok(results.every((r) => r.status === 200));
            assert.equal(await balance(userId), before + 100);
            const [row] = await admin`select status, razorpay_payment_id from public.payments
            where razorpay_order_id = ${orderId}`;
            assert.deepEqual(row, { status: "paid", razorpay_payment_id: kept.id });
          }
        },
      );
    } finally {
      await fake.stop();
    }
  });
});
