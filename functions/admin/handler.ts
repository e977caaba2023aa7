/**
 * The `admin` function: the platform's own staff (global_admin, support_user, held in the
 * database) and the service role run the platform here. Every change is an RPC that checks the
 * actor and writes the audit log; support users only read, and nothing here reads document
 * contents, chats or messages.
 *
 * - tenant_routes.ts: `GET /tenants`, `GET /tenants/:id/failures`, `POST /tenants/:id/credits`,
 *   `/plan`, `/suspend`, `/unsuspend`
 * - plan_routes.ts: `POST /plans`, `PATCH /plans/:id`
 * - role_routes.ts: `PUT /roles/:userId`, `DELETE /roles/:userId`
 *
 * access.ts decides who the caller is and runs the RPCs as them; deps.ts is what the routes need.
 */
import { router } from "../../shared/http.ts";
import type { AdminDeps } from "./deps.ts";
import { planRoutes } from "./plan_routes.ts";
import { roleRoutes } from "./role_routes.ts";
import { tenantRoutes } from "./tenant_routes.ts";

export function createAdminHandler(deps: AdminDeps) {
  return router([...tenantRoutes(deps), ...planRoutes(deps), ...roleRoutes(deps)]);
}
