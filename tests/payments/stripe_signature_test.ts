/**
 * Our Stripe-Signature check (shared/payments/stripe_signature.ts) against the `stripe`
 * package's own helpers: headers it generates verify here, headers we make verify there, and
 * forged, stale, modified and unsigned deliveries are refused by both.
 */
import assert from "node:assert/strict";
import Stripe from "stripe";
import {
  STRIPE_TOLERANCE_SECONDS,
  stripeSignatureHeader,
  stripeSignatureProblem,
} from "../../shared/payments/mod.ts";

const secret = "whsec_test_signature_secret";
const stripe = new Stripe("sk_test_unused", { httpClient: Stripe.createFetchHttpClient() });
const crypto = Stripe.createSubtleCryptoProvider();
const payload = JSON.stringify({ id: "evt_test_1", object: "event", type: "invoice.paid" });
const bytes = new TextEncoder().encode(payload);
const now = Math.floor(Date.now() / 1000);

Deno.test("`stripeSignatureProblem()` accepts a header the stripe package generates", async () => {
  const header = await stripe.webhooks.generateTestHeaderStringAsync({
    payload,
    secret,
    timestamp: now,
    cryptoProvider: crypto,
  });
  assert.equal(await stripeSignatureProblem(bytes, header, secret, now), null);
});

Deno.test("`stripeSignatureHeader()` makes a header the stripe package accepts", async () => {
  const header = await stripeSignatureHeader(payload, secret, now);
  const event = await stripe.webhooks.constructEventAsync(
    payload,
    header,
    secret,
    STRIPE_TOLERANCE_SECONDS,
    crypto,
  );
  assert.equal(event.id, "evt_test_1");
});

Deno.test("`stripeSignatureProblem()` accepts any of several v1 values (a secret being rolled)", async () => {
  const good = await stripeSignatureHeader(payload, secret, now);
  const v1 = good.split("v1=")[1];
  const header = `t=${now},v1=${"0".repeat(64)},v0=abc,v1=${v1}`;
  assert.equal(await stripeSignatureProblem(bytes, header, secret, now), null);
});

Deno.test("`stripeSignatureProblem()` refuses forged, stale, modified and unsigned deliveries as the stripe package does", async () => {
  const good = await stripeSignatureHeader(payload, secret, now);
  const cases: [string, Uint8Array, string | null, string][] = [
    [
      "forged",
      bytes,
      await stripeSignatureHeader(payload, "whsec_other", now),
      "invalid_signature",
    ],
    [
      "stale",
      bytes,
      await stripeSignatureHeader(payload, secret, now - STRIPE_TOLERANCE_SECONDS - 1),
      "stale_signature",
    ],
    [
      "future",
      bytes,
      await stripeSignatureHeader(payload, secret, now + STRIPE_TOLERANCE_SECONDS + 1),
      "stale_signature",
    ],
    [
      "modified",
      new TextEncoder().encode(payload.replace("paid", "void")),
      good,
      "invalid_signature",
    ],
    ["unsigned", bytes, null, "missing_signature"],
    ["no v1", bytes, `t=${now},v0=${good.split("v1=")[1]}`, "invalid_signature"],
    ["no t", bytes, `v1=${good.split("v1=")[1]}`, "invalid_signature"],
  ];
  for (const [name, body, header, problem] of cases) {
    assert.equal(await stripeSignatureProblem(body, header, secret, now), problem, name);
    // The package accepts a timestamp from the future; we refuse it too (clock skew either way).
    if (name === "future") continue;
    await assert.rejects(
      stripe.webhooks.constructEventAsync(
        new TextDecoder().decode(body),
        header ?? "",
        secret,
        STRIPE_TOLERANCE_SECONDS,
        crypto,
      ),
      name,
    );
  }
});
