/**
 * Stripe's webhook signature: `Stripe-Signature: t=<unix seconds>,v1=<hex>[,v1=<hex>…][,v0=…]`,
 * each `v1` the hex HMAC-SHA256 of `<t>.<raw body>` with the endpoint's signing secret. Accepted
 * when `t` is within the tolerance (5 minutes, either side) of now and any `v1` matches, compared
 * in constant time (several `v1` are sent while a secret is rolled). Other schemes are ignored.
 * Checked against the `stripe` package's own helpers in tests/payments/stripe_signature_test.ts.
 */
import { timingSafeEqual } from "../auth.ts";
import { hmacSha256Hex } from "./signatures.ts";

export const STRIPE_TOLERANCE_SECONDS = 300;

const encoder = new TextEncoder();

/** Why a signature was refused, or null when it is valid. */
export async function stripeSignatureProblem(
  body: Uint8Array,
  header: string | null | undefined,
  secret: string,
  nowSeconds = Math.floor(Date.now() / 1000),
  toleranceSeconds = STRIPE_TOLERANCE_SECONDS,
): Promise<"missing_signature" | "invalid_signature" | "stale_signature" | null> {
  if (!header) return "missing_signature";
  let t: string | undefined;
  const v1: string[] = [];
  for (const part of header.split(",")) {
    const eq = part.indexOf("=");
    if (eq < 0) continue;
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (key === "t") t = value;
    else if (key === "v1") v1.push(value.toLowerCase());
  }
  if (!t || !/^\d{1,12}$/.test(t) || v1.length === 0 || !secret) return "invalid_signature";
  const signed = new Uint8Array([...encoder.encode(`${t}.`), ...body]);
  const expected = await hmacSha256Hex(secret, signed);
  let match = false;
  for (const candidate of v1) match = timingSafeEqual(expected, candidate) || match;
  if (!match) return "invalid_signature";
  if (Math.abs(nowSeconds - Number(t)) > toleranceSeconds) return "stale_signature";
  return null;
}

/** A `Stripe-Signature` header for `body` (the fake Stripe and the benches sign with it). */
export async function stripeSignatureHeader(
  body: string | Uint8Array,
  secret: string,
  timestamp = Math.floor(Date.now() / 1000),
): Promise<string> {
  const bytes = typeof body === "string" ? encoder.encode(body) : body;
  const signed = new Uint8Array([...encoder.encode(`${timestamp}.`), ...bytes]);
  return `t=${timestamp},v1=${await hmacSha256Hex(secret, signed)}`;
}
