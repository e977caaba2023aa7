/**
 * The `checkout` function (a signed-in user's token, checked in code):
 *
 * - session_route.ts: `POST /checkout/session {plan_id}` creates the Razorpay order for a plan
 *   (amount and currency from the plans table only) and records the payment `created`;
 * - verify_route.ts: `POST /checkout/verify` checks Checkout's signature for the caller's order and
 *   credits through the same idempotent RPC as the webhook.
 *
 * Without Razorpay keys both answer 503 `payments_not_configured` (deps.ts).
 */
import { router } from "../../shared/http.ts";
import type { CheckoutDeps } from "./deps.ts";
import { sessionRoute } from "./session_route.ts";
import { verifyRoute } from "./verify_route.ts";

export function createCheckoutHandler(deps: CheckoutDeps) {
  return router([sessionRoute(deps), verifyRoute(deps)]);
}
