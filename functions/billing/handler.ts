/**
 * The `billing` function (a user's JWT):
 *
 * - `POST /billing/portal {company_id?}` → a Stripe billing portal link (portal_route.ts);
 * - `GET /billing/usage?from=&to=` → usage against each plan limit and credits spent per day and
 *   reason, from the ledger (usage_route.ts);
 * - `GET /billing/invoices?limit=&offset=` → captured payments of both providers, newest first,
 *   each with a receipt PDF made once and served by a signed URL (invoices_route.ts, receipt.ts).
 */
import { router } from "../../shared/http.ts";
import type { BillingDeps } from "./deps.ts";
import { invoicesRoute } from "./invoices_route.ts";
import { portalRoute } from "./portal_route.ts";
import { usageRoute } from "./usage_route.ts";

export function createBillingHandler(deps: BillingDeps) {
  return router([portalRoute(deps), usageRoute(deps), invoicesRoute(deps)]);
}
