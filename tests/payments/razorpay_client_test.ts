/**
 * The Razorpay client (shared/payments/razorpay.ts) against the fake Razorpay API: orders with
 * Basic auth, payments of an order, Razorpay's error bodies, down and slow; reconciliation's choice
 * of payments (functions/webhooks/reconcile.ts).
 */
import assert from "node:assert/strict";
import {
  createRazorpayClient,
  type RazorpayConfig,
  razorpayConfigFromEnv,
  RazorpayError,
  type RazorpayPayment,
} from "../../shared/payments/mod.ts";
import { capturedPaymentsOf, forEachLimited } from "../../functions/webhooks/reconcile.ts";
import { startFakeRazorpay } from "../../local/fakes/razorpay.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };

Deno.test("createRazorpayClient() creates orders and lists their payments", opts, async () => {
  const fake = startFakeRazorpay();
  try {
    const config: RazorpayConfig = {
      keyId: fake.keyId,
      keySecret: fake.keySecret,
      apiBase: fake.url + "/",
      timeoutMs: 2000,
    };
    const client = createRazorpayClient(config);
    const order = await client.createOrder({
      amount: 49900,
      currency: "INR",
      receipt: "rcpt_1",
      notes: { user_id: "u", plan_id: "lite" },
    });
    assert.match(order.id, /^order_/);
    assert.deepEqual([order.amount, order.currency, order.status], [49900, "INR", "created"]);
    assert.equal(
      fake.requests[0]!.authorization,
      "Basic " + btoa(`${fake.keyId}:${fake.keySecret}`),
    );
    assert.deepEqual(await client.orderPayments(order.id), []);
    const paid = fake.pay(order.id);
    assert.deepEqual((await client.orderPayments(order.id)).map((p) => p.id), [paid.id]);
  } finally {
    await fake.stop();
  }
});

Deno.test("createRazorpayClient() turns every failure into a RazorpayError", opts, async () => {
  const fake = startFakeRazorpay();
  const base = { keyId: fake.keyId, keySecret: fake.keySecret, apiBase: fake.url, timeoutMs: 300 };
  const order = { amount: 49900, currency: "INR", receipt: "r", notes: {} };
  try {
    const wrongKey = createRazorpayClient({ ...base, keySecret: "wrong" });
    await assert.rejects(wrongKey.createOrder(order), (err: RazorpayError) => {
      assert.ok(err instanceof RazorpayError);
      assert.equal(err.status, 401);
      assert.equal(err.code, "BAD_REQUEST_ERROR");
      assert.match(err.message, /Authentication failed/);
      return true;
    });
    const client = createRazorpayClient(base);
    await assert.rejects(client.createOrder({ ...order, amount: 5 }), /atleast INR 1.00/);
    await assert.rejects(client.orderPayments("order_Missing"), /does not exist/);
    fake.mode = "down";
    await assert.rejects(client.createOrder(order), (err: RazorpayError) => err.status === 503);
    fake.mode = "slow";
    fake.slowMs = 1000;
    await assert.rejects(client.createOrder(order), /did not answer within 300 ms/);
    fake.mode = "ok";
    const unreachable = createRazorpayClient({ ...base, apiBase: "http://127.0.0.1:9" });
    await assert.rejects(unreachable.createOrder(order), /unreachable/);
  } finally {
    await fake.stop();
  }
});

Deno.test("razorpayConfigFromEnv() needs both keys", () => {
  const env = { RAZORPAY_API_BASE: "https://api.razorpay.com", RAZORPAY_TIMEOUT_MS: 10_000 };
  assert.equal(razorpayConfigFromEnv(env), undefined);
  assert.equal(razorpayConfigFromEnv({ ...env, RAZORPAY_KEY_ID: "rzp_test_x" }), undefined);
  assert.deepEqual(
    razorpayConfigFromEnv({ ...env, RAZORPAY_KEY_ID: "rzp_test_x", RAZORPAY_KEY_SECRET: "s" }),
    { keyId: "rzp_test_x", keySecret: "s", apiBase: env.RAZORPAY_API_BASE, timeoutMs: 10_000 },
  );
});

Deno.test("capturedPaymentsOf() keeps captured payments of the order's exact amount", () => {
  const order = { razorpay_order_id: "order_1", amount_paise: 49900, currency: "INR" };
  const p = (id: string, extra: Partial<RazorpayPayment>): RazorpayPayment => ({
    id,
    entity: "payment",
    amount: 49900,
    currency: "INR",
    status: "captured",
    order_id: "order_1",
    ...extra,
  });
  const payments = [
    p("ok", {}),
    p("failed", { status: "failed" }),
    p("authorized", { status: "authorized" }),
    p("cheap", { amount: 100 }),
    p("usd", { currency: "USD" }),
    p("other-order", { order_id: "order_2" }),
  ];
  assert.deepEqual(capturedPaymentsOf(order, payments).map((x) => x.id), ["ok"]);
});

Deno.test("forEachLimited() runs everything with at most `limit` at once", async () => {
  let running = 0;
  let peak = 0;
  const seen: number[] = [];
  await forEachLimited([1, 2, 3, 4, 5, 6, 7], 3, async (n) => {
    running++;
    peak = Math.max(peak, running);
    await new Promise((r) => setTimeout(r, 5));
    seen.push(n);
    running--;
  });
  assert.equal(peak, 3);
  assert.deepEqual(seen.sort(), [1, 2, 3, 4, 5, 6, 7]);
  await forEachLimited([], 3, () => Promise.reject(new Error("never called")));
});
