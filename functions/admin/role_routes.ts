/**
 * Platform roles (global_admin): `PUT /roles/:userId` `{role, reason}` grants `global_admin` or
 * `support_user`, `DELETE /roles/:userId` `{reason}` takes it away; both audited. This is the only
 * way in besides the service role calling `private.set_platform_role` (the first admin).
 */
import { z } from "zod";
import { json, readJson, type Route } from "../../shared/http.ts";
import { asActor, pathId, Reason, requireActor } from "./access.ts";
import type { AdminDeps } from "./deps.ts";
import { PlatformRoleChange } from "./schemas.ts";

const GrantBody = z.object({ role: z.enum(["global_admin", "support_user"]), reason: Reason });
const RevokeBody = z.object({ reason: Reason });

export function roleRoutes(deps: AdminDeps): Route[] {
  return [
    {
      method: "PUT",
      pattern: "/roles/:userId",
      doc: {
        summary: "Grant a platform role (global_admin or support_user; audited)",
        description: "global_admin or the service key.",
        auth: "user_or_service",
        body: GrantBody,
        bodyExample: { role: "support_user", reason: "Joined support" },
        responses: { 200: { description: "The user's role now", schema: PlatformRoleChange } },
        errors: {
          400: ["invalid_request"],
          403: ["platform_role_required", "platform_admin_required"],
          404: ["not_found"],
        },
      },
      handler: async (req, ctx) => {
        const actor = await requireActor(deps, req, "global_admin");
        const id = pathId(ctx.params.userId, "user");
        const body = await readJson(req, GrantBody);
        const [row] = await asActor(deps, actor, (tx) =>
          tx<{ r: unknown }[]>`
            select private.set_platform_role(${actor.id}::uuid, ${id}::uuid, ${body.role},
                     ${body.reason}) as r`, "No such user.");
        return json(row?.r);
      },
    },
    {
      method: "DELETE",
      pattern: "/roles/:userId",
      doc: {
        summary: "Take a user's platform role away (audited)",
        description: "global_admin or the service key.",
        auth: "user_or_service",
        body: RevokeBody,
        bodyExample: { reason: "Left the team" },
        responses: {
          200: { description: "The user's role now (null)", schema: PlatformRoleChange },
        },
        errors: {
          400: ["invalid_request"],
          403: ["platform_role_required", "platform_admin_required"],
          404: ["not_found"],
        },
      },
      handler: async (req, ctx) => {
        const actor = await requireActor(deps, req, "global_admin");
        const id = pathId(ctx.params.userId, "user");
        const body = await readJson(req, RevokeBody);
        const [row] = await asActor(deps, actor, (tx) =>
          tx<{ r: unknown }[]>`
            select private.set_platform_role(${actor.id}::uuid, ${id}::uuid, null,
                     ${body.reason}) as r`, "No such user.");
        return json(row?.r);
      },
    },
  ];
}
