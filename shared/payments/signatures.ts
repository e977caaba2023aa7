/**
 * Razorpay's two signatures, checked in constant time:
 *
 * - webhooks: `X-Razorpay-Signature` is the hex HMAC-SHA256 of the raw request body with the
 *   webhook secret;
 * - Checkout: `razorpay_signature` is the hex HMAC-SHA256 of `order_id|payment_id` with the API key
 *   secret.
 *
 * The `razorpay` package's `validateWebhookSignature` / `validatePaymentVerification` compute the
 * same HMACs but compare them with `===` (not constant time) and need Node's crypto, so they serve
 * only as the reference these are tested against (tests/payments/payments_signatures_test.ts).
 */
import { timingSafeEqual } from "../auth.ts";

const encoder = new TextEncoder();

/** Lower-case hex HMAC-SHA256 of `data` with `secret`. */
export async function hmacSha256Hex(secret: string, data: Uint8Array | string): Promise<string> {
  const key = await crypto.subtle.importKey(
    "raw",
    encoder.encode(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const bytes = typeof data === "string" ? encoder.encode(data) : data;
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, bytes as BufferSource));
  return Array.from(mac, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Whether `signature` is the webhook signature of exactly these body bytes. */
export async function isValidWebhookSignature(
  body: Uint8Array,
  signature: string | null | undefined,
  secret: string,
): Promise<boolean> {
  if (!signature || !secret) return false;
  return timingSafeEqual(await hmacSha256Hex(secret, body), signature.trim().toLowerCase());
}

/** Whether `signature` is Checkout's signature of `orderId|paymentId` with the key secret. */
export async function isValidPaymentSignature(
  orderId: string,
  paymentId: string,
  signature: string,
  keySecret: string,
): Promise<boolean> {
  if (!signature || !keySecret) return false;
  return timingSafeEqual(
    await hmacSha256Hex(keySecret, `${orderId}|${paymentId}`),
    signature.trim().toLowerCase(),
  );
}
