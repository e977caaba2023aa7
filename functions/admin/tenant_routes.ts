/**
 * Tenants (companies and personal accounts):
 *
 * - `GET /tenants?q=&limit=&offset=` (support_user or global_admin): one page of tenants with
 *   plan, balance, seats, this month's usage, files, storage and last activity.
 * - `GET /tenants/:id/failures` (support_user or global_admin): failed files and report jobs,
 *   names and errors only; no document contents, chats or messages.
 * - `POST /tenants/:id/credits | /plan | /suspend | /unsuspend` (global_admin): each with a
 *   `reason`, each one audited by the RPC that does it.
 */
import { z } from "zod";
import { HttpError, json, readJson, readQuery, type Route } from "../../shared/http.ts";
import { paged, PageQuery } from "../../shared/pagination.ts";
import { asActor, pathId, Reason, requireActor } from "./access.ts";
import type { AdminDeps } from "./deps.ts";
import { listOf } from "../../shared/route_doc.ts";
import { CreditGrant, Suspension, Tenant, TenantFailures, TenantPlan } from "./schemas.ts";

const TenantsQuery = PageQuery.extend({ q: z.string().trim().max(200).optional() });
const CreditsBody = z.object({
  credits: z.number().int().min(1).max(1_000_000),
  /** Makes the grant idempotent: a retry with the same reference grants nothing more. */
  reference_id: z.string().trim().min(1).max(200),
  reason: Reason,
});
const PlanBody = z.object({
  plan_id: z.string().trim().min(1).max(100),
  seats: z.number().int().min(1).max(100_000),
  reason: Reason,
});
const ReasonBody = z.object({ reason: Reason });

export function tenantRoutes(deps: AdminDeps): Route[] {
  return [
    {
      method: "GET",
      pattern: "/tenants",
      doc: {
        summary: "Tenants (companies and personal accounts) with plan, usage and activity",
        description: "support_user or global_admin, or the service key. `q` matches a name, " +
          "an email or an exact id.",
        auth: "user_or_service",
        query: TenantsQuery,
        responses: {
          200: { description: "A page of tenants, newest first", schema: listOf(Tenant) },
        },
        errors: { 403: ["platform_role_required"] },
      },
      handler: async (req, ctx) => {
        const actor = await requireActor(deps, req, "support_user");
        const q = readQuery(ctx.url, TenantsQuery);
        const rows = await asActor(deps, actor, (tx) =>
          tx<{ t: Record<string, unknown> }[]>`
            select private.admin_tenants(${q.q ?? ""}, ${q.limit + 1}, ${q.offset}) as t`);
        return json(paged(rows.map((r) => r.t), q));
      },
    },
    {
      method: "GET",
      pattern: "/tenants/:id/failures",
      doc: {
        summary: "A tenant's failed files and report jobs (names and errors, no contents)",
        description: "support_user or global_admin, or the service key.",
        auth: "user_or_service",
        responses: { 200: { description: "The failures", schema: TenantFailures } },
        errors: { 403: ["platform_role_required"], 404: ["not_found"] },
      },
      handler: async (req, ctx) => {
        const actor = await requireActor(deps, req, "support_user");
        const id = pathId(ctx.params.id, "tenant");
        const [row] = await asActor(deps, actor, (tx) =>
          tx<{ f: unknown; kind: string | null }[]>`
            select private.admin_tenant_failures(${id}::uuid, 100) as f,
                   private.tenant_kind(${id}::uuid) as kind`);
        if (!row?.kind) throw new HttpError(404, "not_found", "No such tenant.");
        return json(row.f);
      },
    },
    {
      method: "POST",
      pattern: "/tenants/:id/credits",
      doc: {
        summary: "Grant credits to a tenant's wallet (idempotent per reference_id, audited)",
        description: "global_admin or the service key.",
        auth: "user_or_service",
        body: CreditsBody,
        bodyExample: { credits: 500, reference_id: "deal-2026-12", reason: "Enterprise deal" },
        responses: { 200: { description: "The grant", schema: CreditGrant } },
        errors: {
          400: ["invalid_request"],
          403: ["platform_role_required", "platform_admin_required"],
          404: ["not_found"],
        },
      },
      handler: async (req, ctx) => {
        const actor = await requireActor(deps, req, "global_admin");
        const id = pathId(ctx.params.id, "tenant");
        const body = await readJson(req, CreditsBody);
        const [row] = await asActor(deps, actor, (tx) =>
          tx<{ r: unknown }[]>`
            select private.admin_tenant_credits(${actor.id}::uuid, ${id}::uuid, ${body.credits},
                     ${body.reference_id}, ${body.reason}) as r`);
        return json(row?.r);
      },
    },
    {
      method: "POST",
      pattern: "/tenants/:id/plan",
      doc: {
        summary: "Set a tenant's plan and seats (audited)",
        description: "global_admin or the service key.",
        auth: "user_or_service",
        body: PlanBody,
        bodyExample: { plan_id: "enterprise", seats: 25, reason: "Signed contract" },
        responses: { 200: { description: "The tenant's wallet now", schema: TenantPlan } },
        errors: {
          400: ["invalid_request"],
          403: ["platform_role_required", "platform_admin_required"],
          404: ["not_found"],
        },
      },
      handler: async (req, ctx) => {
        const actor = await requireActor(deps, req, "global_admin");
        const id = pathId(ctx.params.id, "tenant");
        const body = await readJson(req, PlanBody);
        const [row] = await asActor(deps, actor, (tx) =>
          tx<{ r: unknown }[]>`
            select private.admin_tenant_plan(${actor.id}::uuid, ${id}::uuid, ${body.plan_id},
                     ${body.seats}, ${body.reason}) as r`, "No such tenant or plan.");
        return json(row?.r);
      },
    },
    ...(["suspend", "unsuspend"] as const).map((what): Route => ({
      method: "POST",
      pattern: `/tenants/:id/${what}`,
      doc: {
        summary: what === "suspend"
          ? "Suspend a tenant (only the data export stays open; audited)"
          : "Lift a tenant's suspension (audited)",
        description: "global_admin or the service key.",
        auth: "user_or_service",
        body: ReasonBody,
        bodyExample: { reason: "Chargeback under review" },
        responses: { 200: { description: "The suspension now", schema: Suspension } },
        errors: {
          400: ["invalid_request"],
          403: ["platform_role_required", "platform_admin_required"],
          404: ["not_found"],
        },
      },
      handler: async (req, ctx) => {
        const actor = await requireActor(deps, req, "global_admin");
        const id = pathId(ctx.params.id, "tenant");
        const body = await readJson(req, ReasonBody);
        const [row] = await asActor(deps, actor, (tx) =>
          tx<{ r: unknown }[]>`
            select private.set_tenant_suspension(${actor.id}::uuid, ${id}::uuid,
                     ${what === "suspend"}, ${body.reason}) as r`);
        return json(row?.r);
      },
    })),
  ];
}
