/**
 * The Stripe half of `POST /checkout/session {provider: "stripe", plan_id | pack_id, currency?,
 * interval?, company_id?}` → `{provider, session_id, url, mode, price}`: a Checkout Session in
 * `subscription` mode for a plan (monthly or annual), `payment` mode for a token pack. The amount,
 * currency and interval come from `public.prices` only. The Stripe customer is created once per
 * user (or per company, when a company admin buys for it) and reused; the session's metadata (and
 * the subscription's, so every invoice carries it) names our user and price, which is how
 * `private.handle_stripe_event` knows what was bought.
 */
import { z } from "zod";
import type { AuthenticatedUser as AuthUser } from "../../shared/auth.ts";
import type { Sql } from "../../shared/db.ts";
import { HttpError } from "../../shared/http.ts";
import { log } from "../../shared/log.ts";
import { type StripeClient, StripeError } from "../../shared/payments/mod.ts";

export const StripeSessionBody = z.object({
  plan_id: z.string().trim().min(1).max(64).optional(),
  pack_id: z.string().trim().min(1).max(64).optional(),
  currency: z.enum(["USD", "INR"]).default("USD"),
  interval: z.enum(["month", "year"]).default("month"),
  company_id: z.uuid().optional(),
});
export type StripeSessionBody = z.infer<typeof StripeSessionBody>;

interface PriceRow {
  id: string;
  plan_id: string | null;
  pack_id: string | null;
  currency: string;
  billing_interval: "month" | "year" | "once";
  amount_minor: number;
  stripe_price_id: string | null;
  name: string;
}

function unavailable(requestId: string, err: unknown): never {
  if (!(err instanceof StripeError)) throw err;
  log.warn("stripe call failed", { request_id: requestId, error: err.message });
  throw new HttpError(
    502,
    "payment_provider_unavailable",
    "The payment provider did not answer; nothing was charged. Try again.",
  );
}

/** 403 unless the user is an owner or admin of the company (who may buy for it). */
export async function requireCompanyBuyer(sql: Sql, userId: string, companyId: string) {
  const [admin] = await sql<{ ok: boolean }[]>`
    select true as ok from public.company_members
     where company_id = ${companyId} and user_id = ${userId} and role in ('owner', 'admin')`;
  if (!admin) {
    throw new HttpError(403, "forbidden", "Only a company's owners and admins buy for it.");
  }
}

/** The caller's Stripe customer (the company's when company_id is given), created once. */
export async function stripeCustomerFor(
  sql: Sql,
  stripe: StripeClient,
  user: AuthUser,
  companyId: string | undefined,
  requestId: string,
): Promise<string> {
  if (companyId) await requireCompanyBuyer(sql, user.id, companyId);
  const find = async () =>
    (await sql<{ customer_id: string }[]>`
      select customer_id from public.billing_customers
       where provider = 'stripe'
         and (case when ${companyId ?? null}::uuid is null
                   then user_id = ${user.id} and company_id is null
                   else company_id = ${companyId ?? null}::uuid end)`)[0]?.customer_id;
  const existing = await find();
  if (existing) return existing;
  let customer;
  try {
    customer = await stripe.createCustomer({
      email: user.email ?? undefined,
      metadata: companyId ? { user_id: user.id, company_id: companyId } : { user_id: user.id },
      // Two concurrent first checkouts get the same customer from Stripe.
      idempotencyKey: `customer:${companyId ?? user.id}`,
    });
  } catch (err) {
    unavailable(requestId, err);
  }
  await sql`insert into public.billing_customers (provider, customer_id, user_id, company_id)
            values ('stripe', ${customer.id}, ${user.id}, ${companyId ?? null})
            on conflict do nothing`;
  return (await find()) ?? customer.id;
}

export async function createStripeSession(
  sql: Sql,
  stripe: StripeClient,
  user: AuthUser,
  body: StripeSessionBody,
  returnUrl: string,
  requestId: string,
) {
  if (!body.plan_id === !body.pack_id) {
    throw new HttpError(400, "invalid_request", "Give exactly one of plan_id and pack_id.");
  }
  const interval = body.pack_id ? "once" : body.interval;
  const [price] = await sql<PriceRow[]>`
    select pr.id, pr.plan_id, pr.pack_id, pr.currency, pr.billing_interval, pr.amount_minor,
           pr.stripe_price_id, coalesce(pl.name, tp.name) as name
      from public.prices pr
      left join public.plans pl on pl.id = pr.plan_id and pl.active
      left join public.token_packs tp on tp.id = pr.pack_id and tp.active
     where pr.provider = 'stripe' and pr.active and pr.currency = ${body.currency}
       and pr.billing_interval = ${interval}
       and (pr.plan_id = ${body.plan_id ?? null} or pr.pack_id = ${body.pack_id ?? null})
       and coalesce(pl.id, tp.id) is not null`;
  if (!price) {
    throw new HttpError(
      400,
      body.plan_id ? "unknown_plan" : "unknown_pack",
      `There is no Stripe price for ${body.plan_id ?? body.pack_id} in ${body.currency}` +
        (body.plan_id ? ` billed per ${interval}.` : "."),
    );
  }
  const customer = await stripeCustomerFor(sql, stripe, user, body.company_id, requestId);
  const metadata: Record<string, string> = { user_id: user.id, price_id: price.id };
  if (price.plan_id) metadata.plan_id = price.plan_id;
  if (price.pack_id) metadata.pack_id = price.pack_id;
  if (body.company_id) metadata.company_id = body.company_id;
  const mode = price.pack_id ? "payment" : "subscription";
  let session;
  try {
    session = await stripe.createCheckoutSession({
      customer,
      mode,
      price: {
        stripePriceId: price.stripe_price_id,
        amount: price.amount_minor,
        currency: price.currency,
        interval: price.billing_interval === "once" ? undefined : price.billing_interval,
        name: price.name,
      },
      successUrl: `${returnUrl}?checkout=success&session_id={CHECKOUT_SESSION_ID}`,
      cancelUrl: `${returnUrl}?checkout=cancelled`,
      metadata,
      idempotencyKey: crypto.randomUUID(),
    });
  } catch (err) {
    unavailable(requestId, err);
  }
  return {
    provider: "stripe",
    session_id: session.id,
    url: session.url,
    mode,
    customer,
    price: {
      id: price.id,
      amount: price.amount_minor,
      currency: price.currency,
      interval: price.billing_interval,
      plan_id: price.plan_id,
      pack_id: price.pack_id,
    },
  };
}
