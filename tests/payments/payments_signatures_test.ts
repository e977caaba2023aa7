/**
 * Razorpay signatures (shared/payments/signatures.ts) against a published HMAC test vector and
 * against the official `razorpay` package's own checks, which compute the same HMACs (but compare
 * with `===`, not in constant time, so the functions do not use them); the webhook event id.
 */
import assert from "node:assert/strict";
import Razorpay from "razorpay";
import { validatePaymentVerification } from "razorpay/dist/utils/razorpay-utils.js";
import {
  hmacSha256Hex,
  isValidPaymentSignature,
  isValidWebhookSignature,
} from "../../shared/payments/mod.ts";
import { webhookEventId } from "../../functions/webhooks/webhook_event.ts";

const enc = new TextEncoder();

Deno.test("hmacSha256Hex() matches RFC 4231 test case 2", async () => {
  assert.equal(
    await hmacSha256Hex("Jefe", "what do ya want for nothing?"),
    "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
  );
});

Deno.test("isValidWebhookSignature() agrees with razorpay.validateWebhookSignature", async () => {
  const secret = "whsec_" + crypto.randomUUID();
  const bodies = [
    '{"event":"payment.captured","payload":{}}',
    '{"a":"ünïcödé ₹"}',
    JSON.stringify({ big: "x".repeat(10_000) }),
  ];
  for (const body of bodies) {
    const sig = await hmacSha256Hex(secret, enc.encode(body));
    assert.equal(Razorpay.validateWebhookSignature(body, sig, secret), true, "the SDK agrees");
    assert.equal(await isValidWebhookSignature(enc.encode(body), sig, secret), true);
    assert.equal(await isValidWebhookSignature(enc.encode(body), sig.toUpperCase(), secret), true);
    const changed = body.replace("{", "{ ");
    assert.equal(Razorpay.validateWebhookSignature(changed, sig, secret), false);
    assert.equal(await isValidWebhookSignature(enc.encode(changed), sig, secret), false);
    assert.equal(await isValidWebhookSignature(enc.encode(body), sig, secret + "x"), false);
  }
});

Deno.test("isValidWebhookSignature() is false without a signature or a secret", async () => {
  const body = enc.encode("{}");
  const sig = await hmacSha256Hex("s", body);
  assert.equal(await isValidWebhookSignature(body, null, "s"), false);
  assert.equal(await isValidWebhookSignature(body, "", "s"), false);
  assert.equal(await isValidWebhookSignature(body, sig, ""), false);
  assert.equal(await isValidWebhookSignature(body, sig.slice(0, 63), "s"), false);
});

Deno.test("isValidPaymentSignature() agrees with razorpay's validatePaymentVerification", async () => {
  const secret = "key_secret_" + crypto.randomUUID();
  const orderId = "order_IluGWxBm9U8zJ8";
  const paymentId = "pay_IluGWxBm9U8zJ9";
  const sig = await hmacSha256Hex(secret, `${orderId}|${paymentId}`);
  assert.equal(
    validatePaymentVerification({ order_id: orderId, payment_id: paymentId }, sig, secret),
    true,
  );
  assert.equal(await isValidPaymentSignature(orderId, paymentId, sig, secret), true);
  assert.equal(await isValidPaymentSignature(orderId, "pay_other", sig, secret), false);
  assert.equal(await isValidPaymentSignature(paymentId, orderId, sig, secret), false);
  assert.equal(await isValidPaymentSignature(orderId, paymentId, sig, "other"), false);
});

Deno.test("webhookEventId() uses x-razorpay-event-id, else a hash of the body", async () => {
  const body = enc.encode('{"event":"x"}');
  assert.equal(await webhookEventId("evt_ABC123", body), "evt_ABC123");
  const hashed = await webhookEventId(null, body);
  assert.match(hashed, /^sha256:[0-9a-f]{64}$/);
  assert.equal(await webhookEventId("  ", body), hashed, "a blank header is no id");
  assert.equal(await webhookEventId("bad id; drop table", body), hashed, "nor is a strange one");
  assert.notEqual(await webhookEventId(null, enc.encode("{}")), hashed);
});
