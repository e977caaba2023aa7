/**
 * `GET /billing/usage?from=&to=&company_id=` (ISO dates; default: the current UTC month up to now)
 * → `{plan_id, period, limits: [{limit, max, usage}], credits: [{day, reason, credits}], spent}`:
 * the caller's personal wallet, or with `company_id` (for its members; anyone else 404) the
 * company's wallet, its workbenches and members.
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
  company_id: z.uuid().optional().describe(
    "A company the caller is a member of: the company wallet's usage instead of the caller's",
  ),
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
      errors: { 400: ["invalid_request"], 404: ["not_found"] },
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
      const sql = deps.sql();
      if (q.company_id) {
        const [member] = await sql`select 1 from public.company_members
          where company_id = ${q.company_id} and user_id = ${user.id}`;
        if (!member) throw new HttpError(404, "not_found", "No such company for this user.");
      }
      const [{ usage }] = await sql<{ usage: Record<string, unknown> }[]>`
        select private.billing_usage(${q.company_id ?? user.id}, ${from.toISOString()}::timestamptz,
                                     ${to.toISOString()}::timestamptz) as usage`;
      return json(usage);
    },
  };
}
