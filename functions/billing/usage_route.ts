/**
 * `GET /billing/usage?from=&to=` (ISO dates; default: the current UTC month up to now) →
 * `{plan_id, period, limits: [{limit, max, usage}], credits: [{day, reason, credits}], spent}`.
 * `max` -1 is unlimited. Computed in one statement by `private.billing_usage` from the ledger, so
 * the credits equal `wallet_usage`.
 */
import { z } from "zod";
import { requireUser } from "../../shared/auth.ts";
import { HttpError, json, readQuery, type Route } from "../../shared/http.ts";
import type { BillingDeps } from "./deps.ts";
import { Usage } from "./schemas.ts";

const UsageQuery = z.object({
  from: z.iso.date().or(z.iso.datetime({ offset: true })).optional(),
  to: z.iso.date().or(z.iso.datetime({ offset: true })).optional(),
});

export function usageRoute(deps: BillingDeps): Route {
  return {
    method: "GET",
    pattern: "/usage",
    doc: {
      summary: "Usage against each plan limit, and credits spent per day and reason",
      auth: "user",
      query: UsageQuery,
      responses: { 200: { description: "Usage of the period", schema: Usage } },
      errors: { 400: ["invalid_request"] },
    },
    handler: async (req, ctx) => {
      const user = await requireUser(req, deps.verifier);
      const q = readQuery(ctx.url, UsageQuery);
      const now = new Date();
      const from = q.from
        ? new Date(q.from)
        : new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
      const to = q.to ? new Date(q.to) : new Date(now.getTime() + 1000);
      if (!(from < to)) throw new HttpError(400, "invalid_request", "`from` must be before `to`.");
      const [{ usage }] = await deps.sql()<{ usage: Record<string, unknown> }[]>`
        select private.billing_usage(${user.id}, ${from.toISOString()}::timestamptz,
                                     ${to.toISOString()}::timestamptz) as usage`;
      return json(usage);
    },
  };
}
