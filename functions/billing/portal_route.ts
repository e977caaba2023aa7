/**
 * `POST /billing/portal {company_id?}` → `{url}`: a Stripe billing portal session for the caller's
 * Stripe customer (the company's, for a company owner or admin). 404 `no_customer` before a first
 * Stripe checkout; 503 `payments_not_configured` without STRIPE_SECRET_KEY.
 */
import { z } from "zod";
import { requireUser } from "../../shared/auth.ts";
import { HttpError, json, readJson, type Route } from "../../shared/http.ts";
import { log } from "../../shared/log.ts";
import { requireStripe, StripeError } from "../../shared/payments/mod.ts";
import type { BillingDeps } from "./deps.ts";
import { Portal } from "./schemas.ts";

const PortalBody = z.object({ company_id: z.uuid().optional() });

export function portalRoute(deps: BillingDeps): Route {
  return {
    method: "POST",
    pattern: "/portal",
    doc: {
      summary: "A Stripe billing portal link for the caller's (or the company's) customer",
      auth: "user",
      body: PortalBody,
      bodyExample: {},
      responses: { 200: { description: "The portal's URL", schema: Portal } },
      errors: {
        404: ["no_customer"],
        502: ["payment_provider_unavailable"],
        503: ["payments_not_configured"],
      },
    },
    handler: async (req, ctx) => {
      const user = await requireUser(req, deps.verifier);
      const stripe = requireStripe(deps.stripe);
      const body = await readJson(req, PortalBody);
      const companyId = body.company_id ?? null;
      const [row] = await deps.sql()<{ customer_id: string }[]>`
        select c.customer_id from public.billing_customers c
         where c.provider = 'stripe'
           and (case when ${companyId}::uuid is null
                     then c.user_id = ${user.id} and c.company_id is null
                     else c.company_id = ${companyId}::uuid and exists (
                       select 1 from public.company_members m
                        where m.company_id = c.company_id and m.user_id = ${user.id}
                          and m.role in ('owner', 'admin')) end)`;
      if (!row) {
        throw new HttpError(404, "no_customer", "There is no Stripe billing account yet.");
      }
      try {
        const portal = await stripe.createPortalSession({
          customer: row.customer_id,
          returnUrl: deps.returnUrl,
        });
        return json({ url: portal.url, customer: row.customer_id });
      } catch (err) {
        if (!(err instanceof StripeError)) throw err;
        log.warn("stripe portal failed", { request_id: ctx.requestId, error: err.message });
        throw new HttpError(
          502,
          "payment_provider_unavailable",
          "The payment provider did not answer. Try again.",
        );
      }
    },
  };
}
