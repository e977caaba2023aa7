/**
 * Plans (global_admin): `POST /plans` creates one, `PATCH /plans/:id` changes one; each with a
 * `reason`, audited. The fields are the columns `public.plans` has: price, credits and seats
 * granted, whether it is sold by a person (`contact_sales`), whether it is on sale (`active`), and
 * its place in the list. A plan is never deleted (payments name it): `active: false` retires it.
 */
import { z } from "zod";
import { json, readJson, type Route } from "../../shared/http.ts";
import { asActor, requireActor } from "./access.ts";
import type { AdminDeps } from "./deps.ts";
import { AdminPlan } from "./schemas.ts";

const PlanFields = z.object({
  name: z.string().trim().min(1).max(100),
  description: z.string().max(2000),
  price_paise: z.number().int().min(1).max(100_000_000).nullable(),
  currency: z.string().regex(/^[A-Z]{3}$/),
  credits: z.number().int().min(0).max(10_000_000),
  seats: z.number().int().min(0).max(100_000),
  contact_sales: z.boolean(),
  active: z.boolean(),
  sort_order: z.number().int().min(-10_000).max(10_000),
});
const CreatePlan = PlanFields.partial().extend({
  id: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/),
  name: PlanFields.shape.name,
  reason: z.string().trim().min(1).max(500),
}).strict();
const UpdatePlan = PlanFields.partial().extend({ reason: z.string().trim().min(1).max(500) })
  .strict();

export function planRoutes(deps: AdminDeps): Route[] {
  return [
    {
      method: "POST",
      pattern: "/plans",
      doc: {
        summary: "Create a plan (audited)",
        description: "global_admin or the service key. Unset fields take the column defaults.",
        auth: "user_or_service",
        body: CreatePlan,
        bodyExample: {
          id: "team",
          name: "Team",
          price_paise: 499900,
          credits: 5000,
          seats: 5,
          reason: "New tier",
        },
        responses: { 201: { description: "The plan", schema: AdminPlan } },
        errors: {
          400: ["invalid_request"],
          403: ["platform_role_required", "platform_admin_required"],
          409: ["conflict"],
        },
      },
      handler: async (req) => {
        const actor = await requireActor(deps, req, "global_admin");
        const { id, reason, ...fields } = await readJson(req, CreatePlan);
        const [row] = await asActor(deps, actor, (tx) =>
          tx<{ r: unknown }[]>`
            select private.admin_upsert_plan(${actor.id}::uuid, ${id}, true,
                     ${JSON.stringify(fields)}::text::jsonb, ${reason}) as r`, "No such plan.");
        return json(row?.r, 201);
      },
    },
    {
      method: "PATCH",
      pattern: "/plans/:id",
      doc: {
        summary: "Change a plan; `active: false` retires it (audited)",
        description: "global_admin or the service key. Only the fields sent change.",
        auth: "user_or_service",
        body: UpdatePlan,
        bodyExample: { active: false, reason: "Retired" },
        responses: { 200: { description: "The plan", schema: AdminPlan } },
        errors: {
          400: ["invalid_request"],
          403: ["platform_role_required", "platform_admin_required"],
          404: ["not_found"],
          409: ["conflict"],
        },
      },
      handler: async (req, ctx) => {
        const actor = await requireActor(deps, req, "global_admin");
        const { reason, ...fields } = await readJson(req, UpdatePlan);
        const [row] = await asActor(deps, actor, (tx) =>
          tx<{ r: unknown }[]>`
            select private.admin_upsert_plan(${actor.id}::uuid, ${ctx.params.id}, false,
                     ${JSON.stringify(fields)}::text::jsonb, ${reason}) as r`, "No such plan.");
        return json(row?.r);
      },
    },
  ];
}
