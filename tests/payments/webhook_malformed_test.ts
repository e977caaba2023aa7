/**
 * A signed webhook whose amounts are not whole paise (a fraction, a word) is answered 400
 * `malformed_event` and recorded once as `malformed_amount`, changing nothing: before, the casts
 * in `private.handle_razorpay_event` failed and the route answered 500, which Razorpay retries for
 * days. The `webhooks` handler runs in-process on a native PostgreSQL with every migration applied.
 */
import assert from "node:assert/strict";
import type { JwtVerifier } from "../../shared/auth.ts";
import { serve } from "../../shared/http.ts";
import { createWebhooksHandler } from "../../functions/webhooks/handler.ts";
import { type FakePayment, razorpayId, startFakeRazorpay } from "../../local/fakes/razorpay.ts";
import { needsMigratedPostgres, withMigratedPostgres } from "../helpers/postgres.ts";

if (!Deno.env.get("LOG_LEVEL")) Deno.env.set("LOG_LEVEL", "warn");

const ignore = needsMigratedPostgres();

const noUsers: JwtVerifier = {
  verify: () => Promise.reject(new Error("not used")),
  isServiceKey: () => false,
};

Deno.test({
  name:
    "`POST /webhooks/razorpay` answers 400 and records an event whose amount is not whole paise",
  ignore,
  sanitizeOps: false,
  sanitizeResources: false,
}, async (t) => {
  await withMigratedPostgres(1, async ({ admin }) => {
    const fake = startFakeRazorpay();
    try {
      const webhooks = serve(
        "webhooks",
        createWebhooksHandler({
          sql: () => admin,
          verifier: noUsers,
          webhookSecret: fake.webhookSecret,
        }),
      );
      const [{ id: userId }] = await admin`insert into auth.users (id, email)
      values (gen_random_uuid(), 'payer@example.com') returning id`;
      const orderId = razorpayId("order");
      await admin`insert into public.payments
        (user_id, plan_id, razorpay_order_id, amount_paise, currency, receipt)
      values (${userId}, 'lite', ${orderId}, 49900, 'INR', 'rcpt_malformed')`;
      const payment: FakePayment = {
        id: razorpayId("pay"),
        entity: "payment",
        amount: 49900,
        currency: "INR",
        status: "captured",
        order_id: orderId,
        method: "upi",
        amount_refunded: 0,
        captured: true,
        email: "payer@example.com",
        contact: "+919999999999",
        notes: {},
        created_at: 0,
      };
      const balance = async () =>
        (await admin`select balance from public.wallet where user_id = ${userId}`)[0]!.balance;
      const deliver = async (event: string, entities: Parameters<typeof fake.webhook>[1]) => {
        const wh = await fake.webhook(event, entities);
        const post = () =>
          webhooks(
            new Request("http://local/functions/v1/webhooks/razorpay", {
              method: "POST",
              headers: wh.headers,
              body: wh.body,
            }),
          );
        const res = await post();
        return { wh, status: res.status, body: await res.json(), post };
      };

      const before = await balance();
      const cases: [string, string, Parameters<typeof fake.webhook>[1]][] = [
        ["a fractional amount", "payment.captured", {
          payment: { ...payment, amount: 49900.5 },
        }],
        ["an amount in words", "payment.captured", {
          payment: { ...payment, amount: "lots" as unknown as number },
        }],
        ["a fractional refund", "refund.processed", {
          payment,
          refund: { id: razorpayId("rfnd"), payment_id: payment.id, amount: 1.5 },
        }],
      ];
      for (const [what, event, entities] of cases) {
        await t.step(`${what}: 400, recorded once, nothing changed`, async () => {
          const { wh, status, body, post } = await deliver(event, entities);
          assert.equal(status, 400, JSON.stringify(body));
          assert.equal(body.error.code, "malformed_event");
          const rows = await admin`select outcome from private.razorpay_events
                                  where event_id = ${wh.eventId}`;
          assert.deepEqual(rows.map((r) => r.outcome), ["malformed_amount"]);
          assert.equal(await balance(), before);
          // Razorpay's retry of it is a duplicate: answered 200, so the retries stop.
          const again = await post();
          assert.equal(again.status, 200);
          assert.equal((await again.json()).outcome, "duplicate");
        });
      }

      await t.step("the same payment with its whole amount still credits", async () => {
        const { status, body } = await deliver("payment.captured", { payment });
        assert.equal(status, 200);
        assert.equal(body.outcome, "credited");
        assert.equal(await balance(), before + 100);
      });
    } finally {
      await fake.stop();
    }
  });
});
