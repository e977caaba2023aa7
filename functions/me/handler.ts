/**
 * The `me` function: the caller's own account (docs/privacy.md).
 *
 * - erase_routes.ts: `DELETE /me` (first call: a confirmation token; second call with it: the
 *   account is deactivated at once and erased after the retention window), `POST /me/restore`
 *   (with the restore token, no sign-in needed: a deactivated account cannot sign in);
 * - export_routes.ts: `GET /me/export` (starts an export, or answers the one under way),
 *   `GET /me/exports/:id` (its status and, once ready, a signed URL that expires);
 * - export_step_route.ts: `POST /me/export-step`, the worker step the database kicks (service
 *   role), which export_builder.ts carries out (zip_parts.ts writes the ZIP's records).
 */
import { router } from "../../shared/http.ts";
import type { MeDeps } from "./deps.ts";
import { eraseRoutes } from "./erase_routes.ts";
import { exportRoutes } from "./export_routes.ts";
import { exportStepRoute } from "./export_step_route.ts";

export function createMeHandler(deps: MeDeps) {
  return router([...eraseRoutes(deps), ...exportRoutes(deps), exportStepRoute(deps)]);
}
