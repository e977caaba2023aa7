/**
 * Stripe webhooks and plan limits under real concurrency, on native PostgreSQL with every
 * migration (`withMigratedPostgres()`), through the `webhooks` handler with a pool of 40
 * connections: each event of a subscription and a pack delivered 20 times at once, and all of them
 * together in shuffled order, credit once each; a burst of workbench inserts at the plan limit
 * never ends above it.
 */
import assert from "node:assert/strict";
import type { JwtVerifier } from "../../shared/auth.ts";
import { serve } from "../../shared/http.ts";
import { createWebhooksHandler } from "../../functions/webhooks/handler.ts";
import { type SignedStripeEvent, startFakeStripe } from "../fakes/stripe.ts";
import { needsMigratedPostgres, withMigratedPostgres } from "../helpers/postgres.ts";

if (!Deno.env.get("LOG_LEVEL")) Deno.env.set("LOG_LEVEL", "warn");
const ignore = needsMigratedPostgres();

const noUsers: JwtVerifier = {
  verify: () => Promise.reject(new Error("not used")),
  isServiceKey: () => false,
};

Deno.test({
  name:
    "Stripe events 20 at once and out of order credit once each; a burst at a limit stays at it",
  ignore,
  sanitizeOps: false,
  sanitizeResources: false,
}, async () => {
  await withMigratedPostgres(40, async ({ admin, pool }) => {
    const fake = startFakeStripe();
    try {
      const webhooks = serve(
        "webhooks",
        createWebhooksHandler({
          sql: () => pool,
          verifier: noUsers,
          stripeWebhookSecret: fake.webhookSecret,
        }),
      );
      const deliver = async (e: SignedStripeEvent) => {
        const res = await webhooks(
          new Request("http://local/functions/v1/webhooks/stripe", {
            method: "POST",
            headers: e.headers,
            body: e.body,
          }),
        );
        const body = await res.json();
        assert.equal(res.status, 200, JSON.stringify(body));
        return body.outcome as string;
      };
      const [{ id: userId }] = await admin`insert into auth.users (id, email)
        values (gen_random_uuid(), 'stripe-race@example.com') returning id`;
      const customer = (await (await fetch(`${fake.url}/v1/customers`, {
        method: "POST",
        headers: { authorization: `Bearer ${fake.secretKey}` },
        body: new URLSearchParams({ email: "stripe-race@example.com" }),
      })).json()).id as string;
      await admin`insert into public.billing_customers (provider, customer_id, user_id)
        values ('stripe', ${customer}, ${userId})`;
      const session = async (form: Record<string, string>) =>
        (await (await fetch(`${fake.url}/v1/checkout/sessions`, {
          method: "POST",
          headers: { authorization: `Bearer ${fake.secretKey}` },
          body: new URLSearchParams({ customer, ...form }),
        })).json()).id as string;
      const sub = await session({
        mode: "subscription",
        "line_items[0][price_data][currency]": "usd",
        "line_items[0][price_data][unit_amount]": "900",
        "line_items[0][price_data][recurring][interval]": "month",
        "line_items[0][quantity]": "1",
        "subscription_data[metadata][price_id]": "lite-stripe-usd-month",
        "metadata[price_id]": "lite-stripe-usd-month",
      });
      const pack = await session({
        mode: "payment",
        "line_items[0][price_data][currency]": "usd",
        "line_items[0][price_data][unit_amount]": "1000",
        "line_items[0][quantity]": "1",
        "metadata[price_id]": "pack-100-stripe-usd",
      });
      const subEvents = await fake.complete(sub);
      const subId = subEvents[1].event.data.object.parent.subscription_details.subscription;
      const all = [
        ...subEvents,
        await fake.renew(subId),
        await fake.renew(subId),
        ...(await fake.complete(pack)),
      ];
      const [{ balance: start }] = await admin`select balance from public.wallet
        where user_id = ${userId}`;

      // Each event 20 times at once, all events at the same time, in shuffled order.
      const deliveries = all.flatMap((e) => Array.from({ length: 20 }, () => e));
      deliveries.sort(() => Math.random() - 0.5);
      const outcomes = await Promise.all(deliveries.map(deliver));
      assert.equal(outcomes.filter((o) => o === "credited").length, 4, outcomes.join());

      const [{ balance }] =
        await admin`select balance from public.wallet where user_id = ${userId}`;
      assert.equal(balance, start + 3 * 100 + 100);
      const [{ n }] = await admin`select count(*)::int as n from public.wallet_usage
        where user_id = ${userId} and reason = 'purchase'`;
      assert.equal(n, 4);
      const [{ e }] = await admin`select count(*)::int as e from private.stripe_events`;
      assert.equal(e, all.length);

      // A burst of 20 workbench inserts with a limit of 3 ends at 3.
      await admin`select public.admin_grant_enterprise(${userId}, 1, '{"workbenches": 3}')`;
      const results = await Promise.allSettled(
        Array.from({ length: 20 }, (_, i) =>
          pool.begin(async (tx) => {
            await tx`select set_config('role', 'authenticated', true),
                          set_config('request.jwt.claims',
                                     ${JSON.stringify({ sub: userId, role: "authenticated" })},
                                     true)`;
            await tx`insert into public.workbench (name) values (${`burst ${i}`})`;
          })),
      );
      const refused = results.filter((r) =>
        r.status === "rejected" &&
        (r.reason as { message?: string }).message === "plan_limit_reached"
      );
      assert.equal(refused.length, 17);
      const [{ w }] = await admin`select count(*)::int as w from public.workbench
        where owner_user_id = ${userId}`;
      assert.equal(w, 3);
    } finally {
      await fake.close();
    }
  });
});
