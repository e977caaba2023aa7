/**
 * The `webhooks` function:
 *
 * - `POST /webhooks/razorpay` (no JWT; Razorpay signs the body): razorpay_route.ts;
 * - `POST /webhooks/stripe` (no JWT; Stripe signs the body): stripe_route.ts;
 * - `POST /webhooks/reconcile-stripe` (service role; the pg_cron job `stripe-reconcile`):
 *   stripe_reconcile_route.ts;
 * - `POST /webhooks/reconcile` (service role only; the pg_cron job `payments-reconcile` calls it
 *   through pg_net): reconcile_route.ts.
 *
 * webhook_event.ts reads a verified delivery's envelope and id; reconcile.ts is reconciliation's
 * rule for one order; deps.ts is what the routes need (`webhooksDepsFromEnv()` for index.ts).
 */
import { router } from "../../shared/http.ts";
import type { WebhooksDeps } from "./deps.ts";
import { razorpayRoute } from "./razorpay_route.ts";
import { reconcileRoute } from "./reconcile_route.ts";
import { stripeReconcileRoute } from "./stripe_reconcile_route.ts";
import { stripeRoute } from "./stripe_route.ts";

export function createWebhooksHandler(deps: WebhooksDeps) {
  return router([
    razorpayRoute(deps),
    stripeRoute(deps),
    reconcileRoute(deps),
    stripeReconcileRoute(deps),
  ]);
}
