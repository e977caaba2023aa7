/**
 * The Stripe client (the `stripe` package on its fetch client, aimed at the fake on loopback) and
 * what the routes answer without Stripe keys: customers idempotent by key, Stripe's errors and an
 * outage as `StripeError`, and `503 payments_not_configured` from checkout, the portal and the
 * webhook while the rest keeps working.
 */
import assert from "node:assert/strict";
import type { JwtVerifier } from "../../shared/auth.ts";
import type { Sql } from "../../shared/db.ts";
import { serve } from "../../shared/http.ts";
import { createStripeClient, StripeError } from "../../shared/payments/mod.ts";
import { createBillingHandler } from "../../functions/billing/handler.ts";
import { createCheckoutHandler } from "../../functions/checkout/handler.ts";
import { createWebhooksHandler } from "../../functions/webhooks/handler.ts";
import type { ObjectStore } from "../../shared/storage.ts";
import { startFakeStripe } from "../fakes/stripe.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };

Deno.test(
  "`createStripeClient()` speaks Stripe's wire format to the fake, idempotent by key",
  opts,
  async () => {
    const fake = startFakeStripe();
    try {
      const client = createStripeClient({
        secretKey: fake.secretKey,
        apiBase: fake.url,
        timeoutMs: 2000,
      });
      const a = await client.createCustomer({
        email: "a@example.com",
        metadata: { user_id: "u1" },
        idempotencyKey: "customer:u1",
      });
      const b = await client.createCustomer({
        email: "a@example.com",
        metadata: { user_id: "u1" },
        idempotencyKey: "customer:u1",
      });
      assert.equal(a.id, b.id);
      assert.equal(fake.customers.size, 1);
      const session = await client.createCheckoutSession({
        customer: a.id,
        mode: "subscription",
        price: { amount: 2900, currency: "USD", interval: "year", name: "Pro" },
        successUrl: "http://localhost/ok",
        cancelUrl: "http://localhost/no",
        metadata: { user_id: "u1", price_id: "pro-stripe-usd-year" },
        idempotencyKey: "s1",
      });
      assert.equal(session.mode, "subscription");
      const form = fake.requests.find((r) => r.path === "/v1/checkout/sessions")!.form;
      assert.deepEqual(form.line_items[0].price_data, {
        currency: "usd",
        unit_amount: "2900",
        product_data: { name: "Pro" },
        recurring: { interval: "year" },
      });
      assert.equal(form.subscription_data.metadata.price_id, "pro-stripe-usd-year");
      const portal = await client.createPortalSession({ customer: a.id, returnUrl: "http://x/" });
      assert.match(portal.url, /^https:\/\/billing\.stripe\.com\//);

      const wrongKey = createStripeClient({
        secretKey: "sk_test_wrong",
        apiBase: fake.url,
        timeoutMs: 2000,
      });
      await assert.rejects(
        wrongKey.createPortalSession({ customer: a.id, returnUrl: "http://x/" }),
        (e) => e instanceof StripeError && e.status === 401,
      );
      fake.mode = "down";
      await assert.rejects(
        client.createPortalSession({ customer: a.id, returnUrl: "http://x/" }),
        (e) => e instanceof StripeError,
      );
    } finally {
      await fake.close();
    }
  },
);

Deno.test("without Stripe keys checkout, the portal and the webhook answer 503 payments_not_configured", async () => {
  const verifier: JwtVerifier = {
    verify: (token) =>
      Promise.resolve({ sub: token, role: "authenticated", aud: "authenticated", exp: 9e9 }),
    isServiceKey: () => false,
  };
  const sql = (() => {
    throw new Error("no database in this test");
  }) as unknown as () => Sql;
  const user = "00000000-0000-4000-8000-000000000001";
  const post = (path: string, body: unknown) =>
    new Request(`http://local/functions/v1/${path}`, {
      method: "POST",
      headers: { authorization: `Bearer ${user}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    });
  const checkout = serve("checkout", createCheckoutHandler({ sql, verifier }));
  const billing = serve(
    "billing",
    createBillingHandler({
      sql,
      verifier,
      store: {} as ObjectStore,
      returnUrl: "http://x/",
      seller: { name: "s", address: "a" },
    }),
  );
  const webhooks = serve("webhooks", createWebhooksHandler({ sql, verifier }));
  for (
    const res of [
      await checkout(post("checkout/session", { provider: "stripe", plan_id: "lite" })),
      await billing(post("billing/portal", {})),
      await webhooks(post("webhooks/stripe", { id: "evt_1" })),
    ]
  ) {
    assert.equal(res.status, 503);
    assert.equal((await res.json()).error.code, "payments_not_configured");
  }
});
