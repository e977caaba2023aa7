/**
 * `POST /checkout/session {provider?, plan_id | pack_id, ...}`. With `provider: "stripe"` a Stripe
 * Checkout Session (stripe_session.ts). Otherwise (`razorpay`, the default) `{plan_id,
 * company_id?}` → `{order_id, amount, currency, key_id, plan, receipt}`, what Razorpay Checkout
 * needs. The amount and currency come from the plans table; anything else the client sends is
 * ignored. The order's notes carry the user id and the plan; the receipt is unique. With
 * `company_id` (its owners and admins only, else 403) the order is the company's: its payment
 * credits the company's wallet (private.apply_payment). Razorpay down or slow → 502 and nothing
 * recorded.
 */
import { z } from "zod";
import { requireUser } from "../../shared/auth.ts";
import { HttpError, json, readJson, type Route, validate } from "../../shared/http.ts";
import { log } from "../../shared/log.ts";
import { RazorpayError, requireStripe } from "../../shared/payments/mod.ts";
import { enforceRateLimit } from "../../shared/rate_limit.ts";
import { type CheckoutDeps, requirePayments } from "./deps.ts";
import { createStripeSession, requireCompanyBuyer, StripeSessionBody } from "./stripe_session.ts";

const CheckoutSession = z.object({
  order_id: z.string(),
  amount: z.number().int().describe("In paise"),
  currency: z.string(),
  key_id: z.string().describe("Razorpay's key id for Checkout"),
  receipt: z.string(),
  plan: z.object({ id: z.string(), name: z.string(), credits: z.number(), seats: z.number() }),
});

const SessionBody = z.object({
  provider: z.literal("razorpay").default("razorpay"),
  plan_id: z.string().trim().min(1).max(64),
  company_id: z.uuid().optional().describe(
    "Buy for this company (its owners and admins): the company's wallet is credited",
  ),
});
const AnySession = z.discriminatedUnion("provider", [
  StripeSessionBody.extend({ provider: z.literal("stripe") }),
  SessionBody.loose().extend({ provider: z.literal("razorpay") }),
]);

const StripeCheckout = z.object({
  provider: z.literal("stripe"),
  session_id: z.string(),
  url: z.string().describe("Stripe Checkout's page: send the browser there"),
  mode: z.enum(["subscription", "payment"]),
  customer: z.string(),
  price: z.object({
    id: z.string(),
    amount: z.number().int().describe("In the currency's minor unit"),
    currency: z.string(),
    interval: z.string(),
    plan_id: z.string().nullable(),
    pack_id: z.string().nullable(),
  }),
});

interface PlanRow {
  id: string;
  name: string;
  credits: number;
  seats: number;
  price_paise: number | null;
  currency: string;
  contact_sales: boolean;
}

/** A receipt Razorpay accepts (at most 40 characters) that no other order has. */
export function newReceipt(): string {
  return `rcpt_${crypto.randomUUID().replaceAll("-", "")}`;
}

export function sessionRoute(deps: CheckoutDeps): Route {
  return {
    method: "POST",
    pattern: "/session",
    doc: {
      summary: "Open a Razorpay order for a plan, or a Stripe Checkout Session for a plan or pack",
      auth: "user",
      body: z.union([SessionBody, StripeSessionBody.extend({ provider: z.literal("stripe") })]),
      bodyExample: { plan_id: "starter" },
      responses: {
        201: {
          description: "What Razorpay Checkout needs, or Stripe Checkout's URL (provider stripe)",
          schema: z.union([CheckoutSession, StripeCheckout]),
        },
      },
      errors: {
        400: ["unknown_plan", "unknown_pack", "contact_sales", "invalid_request"],
        403: ["forbidden"],
        502: ["payment_provider_unavailable"],
        503: ["payments_not_configured"],
      },
    },
    handler: async (req, ctx) => {
      const user = await requireUser(req, deps.verifier);
      const raw = await readJson(req, z.object({ provider: z.string().optional() }).loose());
      const chosen = validate(AnySession, { ...raw, provider: raw.provider ?? "razorpay" }, "body");
      if (chosen.provider === "stripe") {
        const stripe = requireStripe(deps.stripe);
        const sql = deps.sql();
        await enforceRateLimit(sql, "create", req, user.id);
        return json(
          await createStripeSession(
            sql,
            stripe,
            user,
            chosen,
            deps.returnUrl ?? "http://localhost/billing",
            ctx.requestId,
          ),
          201,
        );
      }
      const payments = requirePayments(deps);
      const body = validate(SessionBody, chosen, "body");
      const sql = deps.sql();
      await enforceRateLimit(sql, "create", req, user.id);
      if (body.company_id) await requireCompanyBuyer(sql, user.id, body.company_id);

      const [plan] = await sql<PlanRow[]>`
        select id, name, credits, seats, price_paise, currency, contact_sales
          from public.plans where id = ${body.plan_id} and active`;
      if (!plan) {
        throw new HttpError(400, "unknown_plan", `There is no plan "${body.plan_id}".`);
      }
      if (plan.contact_sales || plan.price_paise === null) {
        throw new HttpError(
          400,
          "contact_sales",
          `The ${plan.name} plan is sold by our team: contact sales.`,
        );
      }

      const receipt = newReceipt();
      let order;
      try {
        order = await payments.client.createOrder({
          amount: plan.price_paise,
          currency: plan.currency,
          receipt,
          notes: body.company_id
            ? { user_id: user.id, plan_id: plan.id, company_id: body.company_id }
            : { user_id: user.id, plan_id: plan.id },
        });
      } catch (err) {
        if (!(err instanceof RazorpayError)) throw err;
        log.warn("razorpay order failed", { request_id: ctx.requestId, error: err.message });
        throw new HttpError(
          502,
          "payment_provider_unavailable",
          "The payment provider did not accept the order; nothing was charged. Try again.",
        );
      }
      if (order.amount !== plan.price_paise || order.currency !== plan.currency) {
        log.error("razorpay order amount differs", { request_id: ctx.requestId, order: order.id });
        throw new HttpError(
          502,
          "payment_provider_unavailable",
          "The payment provider answered an unexpected order; nothing was charged.",
        );
      }

      await sql`insert into public.payments
                  (user_id, company_id, plan_id, razorpay_order_id, amount_paise, currency, receipt)
                values (${user.id}, ${body.company_id ?? null}, ${plan.id}, ${order.id},
                        ${plan.price_paise}, ${plan.currency}, ${receipt})`;
      return json({
        order_id: order.id,
        amount: plan.price_paise,
        currency: plan.currency,
        key_id: payments.keyId,
        receipt,
        plan: { id: plan.id, name: plan.name, credits: plan.credits, seats: plan.seats },
      }, 201);
    },
  };
}
