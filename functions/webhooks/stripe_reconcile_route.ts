/**
 * `POST /webhooks/reconcile-stripe` (service role only; the pg_cron job `stripe-reconcile` calls it
 * through pg_net): subscriptions whose invoice was paid at Stripe but whose `invoice.paid` never
 * arrived. Takes a batch (`private.take_stripe_subscriptions_to_reconcile`), asks Stripe for each
 * one's latest invoices (`GET /v1/invoices?subscription=`, four at a time) and applies the paid
 * ones through `private.handle_stripe_event` as `invoice.paid` under the id
 * `reconcile:<invoice id>`: the ledger key is the invoice, so each is credited once whichever of
 * the webhook and this comes first.
 */
import { z } from "zod";
import { serviceTaskRoute } from "../../shared/auth.ts";
import type { Route } from "../../shared/http.ts";
import { log } from "../../shared/log.ts";
import { requireStripe } from "../../shared/payments/mod.ts";
import { forEachLimited } from "./reconcile.ts";
import type { WebhooksDeps } from "./deps.ts";

const CONCURRENCY = 4;
const Summary = z.object({
  checked: z.number().int(),
  credited: z.number().int(),
  errors: z.number().int(),
});

export function stripeReconcileRoute(deps: WebhooksDeps): Route {
  return serviceTaskRoute("/reconcile-stripe", deps.verifier, async (ctx) => {
    const stripe = requireStripe(deps.stripe);
    const sql = deps.sql();
    const subs = await sql<{ provider_subscription_id: string }[]>`
      select provider_subscription_id from private.take_stripe_subscriptions_to_reconcile(
               private.setting_int('payment_reconcile_batch', 20))`;
    const summary = { checked: subs.length, credited: 0, errors: 0 };
    await forEachLimited(subs, CONCURRENCY, async ({ provider_subscription_id: id }) => {
      try {
        for (const invoice of await stripe.subscriptionInvoices(id)) {
          if (invoice.status !== "paid") continue;
          const event = {
            id: `reconcile:${invoice.id}`,
            object: "event",
            type: "invoice.paid",
            created: 0,
            data: { object: invoice },
          };
          const [{ outcome }] = await sql<{ outcome: string }[]>`
            select private.handle_stripe_event(${event.id}, 'invoice.paid',
                     ${JSON.stringify(event)}::text::jsonb) ->> 'outcome' as outcome`;
          if (outcome === "credited") summary.credited++;
        }
      } catch (err) {
        summary.errors++;
        log.warn("stripe reconcile failed", {
          request_id: ctx.requestId,
          subscription: id,
          error: err instanceof Error ? err.message : String(err),
        });
      }
    });
    log.info("stripe reconciled", { request_id: ctx.requestId, ...summary });
    return summary;
  }, { summary: "Credit Stripe invoices paid but never delivered by webhook", result: Summary });
}
