/**
 * Payments end to end on the local stack, against a fake Razorpay API on loopback: plans, checkout
 * sessions (amount from the plans table only, Razorpay down or slow), Checkout verification, signed
 * webhooks in every order and any number of times, refunds, failures, unknown orders and events,
 * and reconciliation by the pg_cron job's route. Users call through supabase-js; webhooks are
 * delivered with plain `fetch` and no Supabase key, exactly as Razorpay sends them.
 */
import assert from "node:assert/strict";
import type { SupabaseClient } from "@supabase/supabase-js";
import type { Stack } from "../../local/stack.ts";
import { getDb } from "../../shared/db.ts";
import { loadEnv } from "../../shared/env.ts";
import { serve } from "../../shared/http.ts";
import { checkoutDepsFromEnv } from "../../functions/checkout/deps.ts";
import { createCheckoutHandler } from "../../functions/checkout/handler.ts";
import { webhooksDepsFromEnv } from "../../functions/webhooks/deps.ts";
import { createWebhooksHandler } from "../../functions/webhooks/handler.ts";
import { hmacSha256Hex } from "../../shared/payments/mod.ts";
import {
  type FakePayment,
  type SignedWebhook,
  startFakeRazorpay,
} from "../../local/fakes/razorpay.ts";
import {
  anonClient,
  call as invoke,
  signUpUser,
  startTestStack,
  type TestUser,
} from "../helpers/stack.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };

// deno-lint-ignore no-explicit-any
type Json = any;

const call = (client: SupabaseClient, path: string, body?: unknown) =>
  invoke(client, path, { body });

interface WalletState {
  balance: number;
  plan_id: string | null;
  seats: number;
}

Deno.test("payments: plans, checkout, verify, webhooks and reconciliation", opts, async (t) => {
  const fake = startFakeRazorpay();
  const stack: Stack = await startTestStack({
    autoWorker: false,
    functionEnv: {
      RAZORPAY_KEY_ID: fake.keyId,
      RAZORPAY_KEY_SECRET: fake.keySecret,
      RAZORPAY_WEBHOOK_SECRET: fake.webhookSecret,
      RAZORPAY_API_BASE: fake.url,
      RAZORPAY_TIMEOUT_MS: "1000",
    },
  });
  const sql = getDb();

  const wallet = async (userId: string): Promise<WalletState> => {
    const [w] = await sql<WalletState[]>`
      select balance, plan_id, seats from public.wallet where user_id = ${userId}`;
    return w!;
  };
  const purchases = async (userId: string): Promise<number> => {
    const [{ n }] = await sql<{ n: number }[]>`select count(*)::int as n from public.wallet_usage
      where user_id = ${userId} and reason = 'purchase'`;
    return n;
  };
  const eventCount = async (): Promise<number> => {
    const [{ n }] = await sql<{ n: number }[]>`select count(*)::int as n
      from private.razorpay_events`;
    return n;
  };
  const paymentStatus = async (orderId: string): Promise<string | undefined> => {
    const [row] = await sql<{ status: string }[]>`
      select status from public.payments where razorpay_order_id = ${orderId}`;
    return row?.status;
  };

  /** Delivers a webhook as Razorpay does: a POST with the signed body and no Supabase key. */
  const deliver = async (
    wh: SignedWebhook,
    change: { body?: string; headers?: Record<string, string | null> } = {},
  ): Promise<{ status: number; body: Json }> => {
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries({ ...wh.headers, ...change.headers })) {
      if (v !== null) headers[k] = v;
    }
    const res = await fetch(`${stack.apiUrl}/functions/v1/webhooks/razorpay`, {
      method: "POST",
      headers,
      body: change.body ?? wh.body,
    });
    return { status: res.status, body: await res.json() };
  };

  /** A checkout session for `planId`, and the customer paying it at Razorpay. */
  const buy = async (
    user: TestUser,
    planId: string,
  ): Promise<{ orderId: string; payment: FakePayment }> => {
    const session = await call(user.client, "checkout/session", { plan_id: planId });
    assert.equal(session.status, 201, JSON.stringify(session.body));
    const orderId = session.body.order_id as string;
    return { orderId, payment: fake.pay(orderId) };
  };

  const verify = async (user: TestUser, orderId: string, paymentId: string, signature?: string) =>
    await call(user.client, "checkout/verify", {
      razorpay_order_id: orderId,
      razorpay_payment_id: paymentId,
      razorpay_signature: signature ?? await fake.checkoutSignature(orderId, paymentId),
    });

  try {
    await t.step(
      "GET /plans lists the plans without a login; enterprise is contact us",
      async () => {
        const res = await call(anonClient(stack), "plans");
        assert.equal(res.status, 200);
        const byId = Object.fromEntries(res.body.plans.map((p: Json) => [p.id, p]));
        assert.deepEqual(Object.keys(byId), ["lite", "pro", "enterprise"]);
        assert.deepEqual(
          [byId.lite.price_paise, byId.lite.currency, byId.lite.credits, byId.lite.seats],
          [49900, "INR", 100, 0],
        );
        assert.deepEqual([byId.pro.price_paise, byId.pro.credits, byId.pro.seats], [
          149900,
          400,
          1,
        ]);
        assert.equal(byId.enterprise.contact_sales, true);
        assert.equal(byId.enterprise.price_paise, null);
        assert.equal(byId.lite.contact_sales, false);
      },
    );

    await t.step(
      "a lite purchase through checkout and payment.captured adds 100 credits",
      async () => {
        const user = await signUpUser(stack, "lite");
        const before = await wallet(user.id);
        const session = await call(user.client, "checkout/session", { plan_id: "lite" });
        assert.equal(session.status, 201);
        assert.equal(session.body.amount, 49900);
        assert.equal(session.body.currency, "INR");
        assert.equal(session.body.key_id, fake.keyId);
        assert.equal(session.body.plan.id, "lite");
        const order = fake.orders.get(session.body.order_id)!;
        assert.ok(order, "the order was created at Razorpay");
        assert.equal(order.amount, 49900);
        assert.deepEqual(order.notes, { user_id: user.id, plan_id: "lite" });
        assert.equal(order.receipt, session.body.receipt);
        const orderRequest = fake.requests.find((r) =>
          r.path === "/v1/orders" && (r.body as Json)?.receipt === order.receipt
        )!;
        assert.equal(
          orderRequest.authorization,
          "Basic " + btoa(`${fake.keyId}:${fake.keySecret}`),
          "Basic auth with the key id and secret",
        );
        assert.equal(await paymentStatus(order.id), "created");

        const payment = fake.pay(order.id);
        const res = await deliver(await fake.webhook("payment.captured", { payment }));
        assert.equal(res.status, 200);
        assert.equal(res.body.outcome, "credited");
        assert.deepEqual(await wallet(user.id), {
          balance: before.balance + 100,
          plan_id: "lite",
          seats: 1,
        });
        assert.equal(await paymentStatus(order.id), "paid");
      },
    );

    await t.step("a pro purchase by order.paid adds 400 credits, a seat and plan pro", async () => {
      const user = await signUpUser(stack, "pro");
      const before = await wallet(user.id);
      const { orderId, payment } = await buy(user, "pro");
      const order = fake.orders.get(orderId)!;
      const res = await deliver(await fake.webhook("order.paid", { payment, order }));
      assert.equal(res.body.outcome, "credited");
      assert.deepEqual(await wallet(user.id), {
        balance: before.balance + 400,
        plan_id: "pro",
        seats: before.seats + 1,
      });
    });

    await t.step(
      "a company admin buys for the company: the company's wallet is credited, members may not buy",
      async () => {
        const admin = await signUpUser(stack, "rzp-co-admin");
        const member = await signUpUser(stack, "rzp-co-member");
        const created = await call(admin.client, "companies", { name: "Acme" });
        assert.equal(created.status, 201, JSON.stringify(created.body));
        const companyId: string = created.body.id;
        await sql`insert into public.company_members (company_id, user_id, role)
                  values (${companyId}, ${member.id}, 'member')`;
        const refused = await call(member.client, "checkout/session", {
          plan_id: "lite",
          company_id: companyId,
        });
        assert.equal(refused.status, 403, JSON.stringify(refused.body));
        const adminBefore = await wallet(admin.id);
        const session = await call(admin.client, "checkout/session", {
          plan_id: "lite",
          company_id: companyId,
        });
        assert.equal(session.status, 201, JSON.stringify(session.body));
        const order = fake.orders.get(session.body.order_id)!;
        assert.deepEqual(order.notes, {
          user_id: admin.id,
          plan_id: "lite",
          company_id: companyId,
        });
        const payment = fake.pay(order.id);
        const res = await deliver(await fake.webhook("payment.captured", { payment }));
        assert.equal(res.body.outcome, "credited");
        const verified = await verify(admin, order.id, payment.id);
        assert.equal(verified.status, 200, JSON.stringify(verified.body));
        assert.equal(verified.body.credited, false, "the webhook credited first");
        assert.equal(verified.body.wallet.balance, 100, "verify shows the company's wallet");
        assert.deepEqual(await wallet(companyId), { balance: 100, plan_id: "lite", seats: 1 });
        assert.deepEqual(await wallet(admin.id), adminBefore, "not the admin's wallet");
      },
    );

    await t.step("receipts are unique across sessions", async () => {
      const user = await signUpUser(stack, "receipts");
      const a = await call(user.client, "checkout/session", { plan_id: "lite" });
      const b = await call(user.client, "checkout/session", { plan_id: "lite" });
      assert.notEqual(a.body.receipt, b.body.receipt);
      assert.notEqual(a.body.order_id, b.body.order_id);
      assert.ok(a.body.receipt.length <= 40, "Razorpay's receipt limit");
    });

    await t.step("the same webhook 5 times in a row credits once", async () => {
      const user = await signUpUser(stack, "repeat");
      const before = await wallet(user.id);
      const { payment } = await buy(user, "lite");
      const wh = await fake.webhook("payment.captured", { payment });
      const outcomes = [];
      for (let i = 0; i < 5; i++) {
        const res = await deliver(wh);
        assert.equal(res.status, 200);
        outcomes.push(res.body.outcome);
      }
      assert.deepEqual(outcomes, ["credited", "duplicate", "duplicate", "duplicate", "duplicate"]);
      assert.equal((await wallet(user.id)).balance, before.balance + 100);
      assert.equal(await purchases(user.id), 1);
      const [{ n }] = await sql<{ n: number }[]>`select count(*)::int as n
        from private.razorpay_events where event_id = ${wh.eventId}`;
      assert.equal(n, 1, "the event is recorded once");
    });

    await t.step(
      "5 concurrent deliveries (same event, and distinct events) credit once",
      async () => {
        const user = await signUpUser(stack, "concurrent");
        const before = await wallet(user.id);
        const { payment } = await buy(user, "lite");
        const same = await fake.webhook("payment.captured", { payment });
        const distinct = await Promise.all(
          Array.from({ length: 5 }, () => fake.webhook("payment.captured", { payment })),
        );
        const results = await Promise.all([
          ...Array.from({ length: 5 }, () => deliver(same)),
          ...distinct.map((wh) => deliver(wh)),
        ]);
        assert.ok(results.every((r) => r.status === 200));
        assert.equal(results.filter((r) => r.body.outcome === "credited").length, 1);
        assert.equal((await wallet(user.id)).balance, before.balance + 100);
        assert.equal(await purchases(user.id), 1);
      },
    );

    await t.step("payment.captured before or after order.paid credits once", async () => {
      for (const first of ["payment.captured", "order.paid"]) {
        const user = await signUpUser(stack, "order");
        const before = await wallet(user.id);
        const { orderId, payment } = await buy(user, "lite");
        const order = fake.orders.get(orderId)!;
        const second = first === "order.paid" ? "payment.captured" : "order.paid";
        const a = await deliver(await fake.webhook(first, { payment, order }));
        const b = await deliver(await fake.webhook(second, { payment, order }));
        assert.deepEqual([a.body.outcome, b.body.outcome], ["credited", "already_credited"]);
        assert.equal((await wallet(user.id)).balance, before.balance + 100, first);
      }
    });

    await t.step("/checkout/verify before or after the webhook credits once", async () => {
      // verify first
      const u1 = await signUpUser(stack, "verify-first");
      const b1 = await wallet(u1.id);
      const p1 = await buy(u1, "pro");
      const v1 = await verify(u1, p1.orderId, p1.payment.id);
      assert.equal(v1.status, 200, JSON.stringify(v1.body));
      assert.equal(v1.body.credited, true);
      assert.deepEqual(
        [v1.body.wallet.balance, v1.body.wallet.plan_id, v1.body.wallet.seats],
        [b1.balance + 400, "pro", b1.seats + 1],
      );
      assert.equal(v1.body.status, "paid");
      const w1 = await deliver(await fake.webhook("payment.captured", { payment: p1.payment }));
      assert.equal(w1.body.outcome, "already_credited");
      const again = await verify(u1, p1.orderId, p1.payment.id);
      assert.equal(again.body.credited, false);
      assert.equal((await wallet(u1.id)).balance, b1.balance + 400);

      // webhook first
      const u2 = await signUpUser(stack, "webhook-first");
      const b2 = await wallet(u2.id);
      const p2 = await buy(u2, "lite");
      assert.equal(
        (await deliver(await fake.webhook("payment.captured", { payment: p2.payment }))).body
          .outcome,
        "credited",
      );
      const v2 = await verify(u2, p2.orderId, p2.payment.id);
      assert.equal(v2.status, 200);
      assert.equal(v2.body.credited, false);
      assert.equal(v2.body.wallet.balance, b2.balance + 100);
      assert.equal(await purchases(u2.id), 1);
    });

    await t.step("verify: a wrong signature is 400 and another user's order is 404", async () => {
      const user = await signUpUser(stack, "verify-bad");
      const other = await signUpUser(stack, "verify-other");
      const before = await wallet(user.id);
      const { orderId, payment } = await buy(user, "lite");
      const wrong = await verify(user, orderId, payment.id, "0".repeat(64));
      assert.equal(wrong.status, 400);
      assert.equal(wrong.body.error.code, "invalid_signature");
      // A signature for another payment id does not fit this one.
      const swapped = await verify(
        user,
        orderId,
        "pay_SomeoneElse0001",
        await fake.checkoutSignature(orderId, payment.id),
      );
      assert.equal(swapped.status, 400);
      const foreign = await verify(other, orderId, payment.id);
      assert.equal(foreign.status, 404);
      assert.equal(foreign.body.error.code, "not_found");
      assert.deepEqual(await wallet(user.id), before);
      assert.equal(await paymentStatus(orderId), "created");
      const missing = await call(user.client, "checkout/verify", { razorpay_order_id: orderId });
      assert.equal(missing.status, 400);
      assert.equal(missing.body.error.code, "validation_failed");
    });

    await t.step(
      "forged, modified, unsigned and empty webhooks are 400 and write nothing",
      async () => {
        const user = await signUpUser(stack, "forged");
        const before = await wallet(user.id);
        const eventsBefore = await eventCount();
        const { payment } = await buy(user, "pro");
        const wh = await fake.webhook("payment.captured", { payment });
        const forged = await deliver(wh, { headers: { "x-razorpay-signature": "f".repeat(64) } });
        const modified = await deliver(wh, {
          body: wh.body.replace(`"amount":${payment.amount}`, `"amount":${payment.amount + 1}`),
        });
        const unsigned = await deliver(wh, { headers: { "x-razorpay-signature": null } });
        const empty = await deliver(wh, { body: "" });
        const truncated = await deliver(wh, {
          headers: { "x-razorpay-signature": wh.headers["x-razorpay-signature"]!.slice(0, 63) },
        });
        for (
          const [name, res] of Object.entries({ forged, modified, unsigned, empty, truncated })
        ) {
          assert.equal(res.status, 400, name);
          assert.match(res.body.error.code, /signature/, name);
        }
        assert.equal(unsigned.body.error.code, "missing_signature");
        assert.equal(await eventCount(), eventsBefore, "no event recorded");
        assert.deepEqual(await wallet(user.id), before);
        // A signed empty body is still refused (not an event).
        const signedEmpty = await fake.webhook("payment.captured", { payment });
        const emptySigned = await deliver(signedEmpty, {
          body: "",
          headers: {
            "x-razorpay-signature": await hmacSha256Hex(fake.webhookSecret, ""),
          },
        });
        assert.equal(emptySigned.status, 400);
        assert.equal(emptySigned.body.error.code, "invalid_json");
        assert.equal(await eventCount(), eventsBefore);
      },
    );

    await t.step(
      "money the client sends is ignored; a webhook with another amount credits nothing",
      async () => {
        const user = await signUpUser(stack, "tamper");
        const before = await wallet(user.id);
        const session = await call(user.client, "checkout/session", {
          plan_id: "lite",
          amount: 100,
          price_paise: 100,
          currency: "USD",
          credits: 100000,
        });
        assert.equal(session.status, 201);
        assert.equal(session.body.amount, 49900);
        assert.equal(session.body.currency, "INR");
        const order = fake.orders.get(session.body.order_id)!;
        assert.deepEqual(
          [order.amount, order.currency],
          [49900, "INR"],
          "charged the plan's price",
        );
        // A payment of 1 rupee on that order (what a tampered Checkout page could pay) grants nothing.
        const cheap = fake.pay(order.id, { amount: 100 });
        const res = await deliver(await fake.webhook("payment.captured", { payment: cheap }));
        assert.equal(res.status, 200);
        assert.equal(res.body.outcome, "amount_mismatch");
        assert.deepEqual(await wallet(user.id), before);
        assert.equal(await paymentStatus(order.id), "created");
      },
    );

    await t.step("a refund after part was spent leaves 0 and records the shortfall", async () => {
      const user = await signUpUser(stack, "refund");
      const { payment } = await buy(user, "lite");
      await deliver(await fake.webhook("payment.captured", { payment }));
      const { balance } = await wallet(user.id);
      await sql`select private.spend_credits(${user.id}::uuid, ${
        balance - 5
      }, 'spend', ${`s-${user.id}`})`;
      const refund = fake.refund(payment);
      const res = await deliver(await fake.webhook("refund.processed", { refund, payment }));
      assert.equal(res.body.outcome, "clawed_back");
      const after = await wallet(user.id);
      assert.equal(after.balance, 0);
      assert.equal(after.plan_id, null);
      const [row] = await sql<{ amount: number; metadata: Json }[]>`select amount, metadata
        from public.wallet_usage where user_id = ${user.id} and reason = 'payment_refund'`;
      assert.equal(row!.amount, -5);
      assert.equal(row!.metadata.shortfall, 95);
      assert.equal(await paymentStatus(payment.order_id), "refunded");
      // refund.created for the same refund takes nothing more.
      const created = await deliver(await fake.webhook("refund.created", { refund, payment }));
      assert.equal(created.body.outcome, "already_clawed_back");
      assert.equal((await wallet(user.id)).balance, 0);
    });

    await t.step("a refund before the capture: the capture grants nothing", async () => {
      const user = await signUpUser(stack, "early-refund");
      const before = await wallet(user.id);
      const { payment } = await buy(user, "pro");
      const refund = fake.refund(payment);
      const r = await deliver(await fake.webhook("refund.processed", { refund, payment }));
      assert.equal(r.body.outcome, "clawed_back");
      const c = await deliver(await fake.webhook("payment.captured", { payment }));
      assert.equal(c.body.outcome, "refunded_before_capture");
      assert.deepEqual(await wallet(user.id), before);
      assert.equal(await purchases(user.id), 0);
    });

    await t.step(
      "refunding a duplicate payment of a paid order is 200, recorded, and takes nothing back",
      async () => {
        const user = await signUpUser(stack, "dup-refund");
        const { orderId, payment } = await buy(user, "lite");
        const first = await deliver(await fake.webhook("payment.captured", { payment }));
        assert.equal(first.body.outcome, "credited");
        const credited = await wallet(user.id);
        // The customer paid the same order twice; the second payment is refunded by staff.
        const second = fake.pay(orderId);
        const dup = await deliver(await fake.webhook("payment.captured", { payment: second }));
        assert.equal(dup.body.outcome, "paid_by_other_payment");
        const wh = await fake.webhook("refund.processed", {
          refund: fake.refund(second),
          payment: second,
        });
        const res = await deliver(wh);
        assert.equal(res.status, 200, JSON.stringify(res.body));
        assert.equal(res.body.outcome, "refund_of_other_payment");
        const [row] = await sql<{ outcome: string }[]>`
          select outcome from private.razorpay_events where event_id = ${wh.eventId}`;
        assert.equal(row?.outcome, "refund_of_other_payment", "the event is recorded");
        assert.equal((await deliver(wh)).body.outcome, "duplicate", "a retry changes nothing");
        assert.deepEqual(await wallet(user.id), credited, "the credited purchase is kept");
        assert.equal(await paymentStatus(orderId), "paid");
        assert.equal(await purchases(user.id), 1);
      },
    );

    await t.step(
      "a refund of one payment before any capture: the payment the customer kept credits once",
      async () => {
        const user = await signUpUser(stack, "refund-one");
        const before = await wallet(user.id);
        const { orderId, payment: refunded } = await buy(user, "lite");
        const kept = fake.pay(orderId);
        const r = await deliver(
          await fake.webhook("refund.processed", {
            refund: fake.refund(refunded),
            payment: refunded,
          }),
        );
        assert.equal(r.body.outcome, "clawed_back");
        const c = await deliver(await fake.webhook("payment.captured", { payment: kept }));
        assert.equal(c.body.outcome, "credited");
        const late = await deliver(await fake.webhook("payment.captured", { payment: refunded }));
        assert.equal(late.body.outcome, "paid_by_other_payment");
        assert.equal((await wallet(user.id)).balance, before.balance + 100);
        assert.equal(await purchases(user.id), 1);
        assert.equal(await paymentStatus(orderId), "paid");
      },
    );

    await t.step(
      "refund.failed after refund.created clawed back is recorded for a person; nothing more moves",
      async () => {
        const user = await signUpUser(stack, "refund-failed");
        const before = await wallet(user.id);
        const { payment } = await buy(user, "lite");
        await deliver(await fake.webhook("payment.captured", { payment }));
        const refund = fake.refund(payment);
        const created = await deliver(await fake.webhook("refund.created", { refund, payment }));
        assert.equal(created.body.outcome, "clawed_back");
        payment.amount_refunded = 0; // Razorpay gives the refunded amount back when it fails.
        const wh = await fake.webhook("refund.failed", {
          refund: { ...refund, status: "failed" },
          payment: { ...payment, status: "captured" },
        });
        const failed = await deliver(wh);
        assert.equal(failed.status, 200);
        assert.equal(failed.body.outcome, "refund_failed");
        const [row] = await sql<{ result: { taken: number; clawed_back: boolean } }[]>`
          select result from private.razorpay_events where event_id = ${wh.eventId}`;
        assert.deepEqual(
          [row?.result.clawed_back, row?.result.taken],
          [true, 100],
          "what was taken is recorded",
        );
        assert.deepEqual(await wallet(user.id), before, "nothing is restored automatically");
      },
    );

    await t.step("a partial refund is recorded and takes nothing back automatically", async () => {
      const user = await signUpUser(stack, "partial");
      const { payment } = await buy(user, "lite");
      await deliver(await fake.webhook("payment.captured", { payment }));
      const before = await wallet(user.id);
      const refund = fake.refund(payment, 10000);
      const res = await deliver(await fake.webhook("refund.processed", { refund, payment }));
      assert.equal(res.body.outcome, "partial_refund");
      assert.deepEqual(await wallet(user.id), before);
    });

    await t.step(
      "payment.failed marks the order failed and never moves a paid order back",
      async () => {
        const user = await signUpUser(stack, "failed");
        const session = await call(user.client, "checkout/session", { plan_id: "lite" });
        const failed = fake.pay(session.body.order_id, { status: "failed" });
        const f = await deliver(await fake.webhook("payment.failed", { payment: failed }));
        assert.equal(f.body.outcome, "marked_failed");
        assert.equal(await paymentStatus(session.body.order_id), "failed");
        // The customer retries on the same order and pays.
        const ok = fake.pay(session.body.order_id);
        assert.equal(
          (await deliver(await fake.webhook("payment.captured", { payment: ok }))).body
            .outcome,
          "credited",
        );
        const late = await deliver(await fake.webhook("payment.failed", { payment: failed }));
        assert.equal(late.body.outcome, "not_failed");
        assert.equal(await paymentStatus(session.body.order_id), "paid");
      },
    );

    await t.step(
      "unknown orders and unknown event types are 200, kept, and credit nothing",
      async () => {
        const stranger: FakePayment = {
          id: "pay_Unknown000000001",
          entity: "payment",
          amount: 49900,
          currency: "INR",
          status: "captured",
          order_id: "order_Unknown00000001",
          method: "upi",
          amount_refunded: 0,
          captured: true,
          email: "someone@example.com",
          contact: "+919000090001",
          notes: {},
          created_at: Math.floor(Date.now() / 1000),
        };
        const res = await deliver(await fake.webhook("payment.captured", { payment: stranger }));
        assert.equal(res.status, 200);
        assert.equal(res.body.outcome, "unknown_order");
        const [kept] = await sql<{ outcome: string; payload: Json }[]>`select outcome, payload
        from private.razorpay_events where event_id = ${res.body.event_id}`;
        assert.equal(kept!.outcome, "unknown_order");
        assert.equal(kept!.payload.payload.payment.entity.order_id, "order_Unknown00000001");
        const other = await deliver(await fake.webhook("invoice.paid", {}));
        assert.equal(other.status, 200);
        assert.equal(other.body.outcome, "ignored");
      },
    );

    await t.step("checkout refuses enterprise, unknown plans, and needs a user", async () => {
      const user = await signUpUser(stack, "plans");
      const ent = await call(user.client, "checkout/session", { plan_id: "enterprise" });
      assert.equal(ent.status, 400);
      assert.equal(ent.body.error.code, "contact_sales");
      const unknown = await call(user.client, "checkout/session", { plan_id: "platinum" });
      assert.equal(unknown.status, 400);
      assert.equal(unknown.body.error.code, "unknown_plan");
      const anon = await call(anonClient(stack), "checkout/session", { plan_id: "lite" });
      assert.equal(anon.status, 401);
    });

    await t.step("Razorpay down or slow: 502 and nothing recorded", async () => {
      const user = await signUpUser(stack, "down");
      for (const mode of ["down", "slow"] as const) {
        fake.mode = mode;
        fake.slowMs = 2500;
        try {
          const res = await call(user.client, "checkout/session", { plan_id: "lite" });
          assert.equal(res.status, 502, mode);
          assert.equal(res.body.error.code, "payment_provider_unavailable");
        } finally {
          fake.mode = "ok";
        }
      }
      const [{ n }] = await sql<{ n: number }[]>`select count(*)::int as n from public.payments
        where user_id = ${user.id}`;
      assert.equal(n, 0);
    });

    await t.step("reconciliation: the cron job's route credits a lost webhook once", async () => {
      const user = await signUpUser(stack, "reconcile");
      const before = await wallet(user.id);
      const { orderId, payment } = await buy(user, "pro");
      const unpaid = await buy(user, "lite");
      fake.payments.delete(unpaid.orderId); // this customer never paid
      const stale = await buy(user, "lite");
      fake.payments.delete(stale.orderId);
      // Only this step's orders are due (earlier steps' unpaid orders are made brand new).
      await sql`update public.payments set created_at = now()
        where status in ('created', 'failed') and user_id <> ${user.id}`;
      // Not yet due: younger than two minutes.
      const [{ kicked }] = await sql<{ kicked: boolean }[]>`
        select private.kick_payment_reconcile() as kicked`;
      assert.equal(kicked, false, "nothing is due yet");
      await sql`update public.payments set created_at = now() - interval '5 minutes'
        where razorpay_order_id in (${orderId}, ${unpaid.orderId})`;
      await sql`update public.payments set created_at = now() - interval '4 days'
        where razorpay_order_id = ${stale.orderId}`;
      await sql`delete from net._http_response`;

      const [job] = await sql<{ command: string; schedule: string }[]>`
        select command, schedule from cron.job where jobname = 'payments-reconcile'`;
      assert.ok(job, "the cron job exists");
      await sql.unsafe(job.command);
      // The local pg_net sends the kick; the tick may also run the job itself (it is due every
      // minute), so send whatever that queued too: however often the route runs, it credits once.
      for (let i = 0; i < 2; i++) {
        await stack.worker.tick();
        await stack.worker.settled();
      }
      const responses = await sql<{ status_code: number; content: string }[]>`
        select status_code, content from net._http_response order by id`;
      assert.ok(responses.length >= 1, "the route was called through pg_net");
      const total = { checked: 0, credited: 0, unpaid: 0, errors: 0 };
      for (const r of responses) {
        assert.equal(r.status_code, 200, r.content);
        const summary = JSON.parse(r.content) as typeof total;
        for (const k of Object.keys(total) as (keyof typeof total)[]) total[k] += summary[k];
      }
      assert.deepEqual(total, { checked: 2, credited: 1, unpaid: 1, errors: 0 });
      assert.equal((await wallet(user.id)).balance, before.balance + 400);
      assert.equal(await paymentStatus(orderId), "paid");
      assert.equal(await paymentStatus(unpaid.orderId), "created");
      assert.equal(await paymentStatus(stale.orderId), "expired");

      const late = await deliver(await fake.webhook("payment.captured", { payment }));
      assert.equal(late.body.outcome, "already_credited");
      assert.equal((await wallet(user.id)).balance, before.balance + 400);
      assert.equal(await purchases(user.id), 1);
    });

    await t.step("without Razorpay keys checkout is 503 payments_not_configured", async () => {
      // The functions as index.ts wires them, from an environment without any RAZORPAY_* (the
      // stack's gateway has one environment for all functions, so this runs in-process).
      const env = Object.fromEntries(
        Object.entries(stack.functionEnv).filter(([k]) => !k.startsWith("RAZORPAY_")),
      );
      const checkout = serve(
        "checkout",
        createCheckoutHandler(checkoutDepsFromEnv(loadEnv(env), getDb)),
      );
      const webhooks = serve(
        "webhooks",
        createWebhooksHandler(webhooksDepsFromEnv(loadEnv(env), getDb)),
      );
      const user = await signUpUser(stack, "unconfigured");
      for (const path of ["session", "verify"]) {
        const res = await checkout(
          new Request(`${stack.apiUrl}/functions/v1/checkout/${path}`, {
            method: "POST",
            headers: { authorization: `Bearer ${user.token}`, "content-type": "application/json" },
            body: JSON.stringify({ plan_id: "lite" }),
          }),
        );
        assert.equal(res.status, 503, path);
        assert.equal((await res.json()).error.code, "payments_not_configured");
      }
      const wh = await fake.webhook("payment.captured", {});
      const res = await webhooks(
        new Request(`${stack.apiUrl}/functions/v1/webhooks/razorpay`, {
          method: "POST",
          headers: wh.headers,
          body: wh.body,
        }),
      );
      assert.equal(res.status, 503, "Razorpay retries until the secret is set");
      assert.equal((await res.json()).error.code, "webhooks_not_configured");
      // The rest of the product answers as usual.
      const plans = await call(anonClient(stack), "plans");
      assert.equal(plans.status, 200);
    });

    await t.step("the reconcile route is for the service role only", async () => {
      const user = await signUpUser(stack, "not-service");
      const res = await call(user.client, "webhooks/reconcile", {});
      assert.equal(res.status, 403);
      const anon = await call(anonClient(stack), "webhooks/reconcile", {});
      assert.equal(anon.status, 403);
    });
  } finally {
    await stack.stop();
    await fake.stop();
  }
});
