/**
 * The `reports` function:
 *   POST /reports {workbench_id, report_type, title, notes?} with an Idempotency-Key header
 *        (create_route.ts)
 *   GET  /reports?workbenchId=&limit=&offset=, GET /reports/{id} (read_routes.ts)
 *
 * access.ts checks the caller's role, report_rows.ts reads and presents rows, deps.ts is what the
 * routes need (`reportsDepsFromEnv()` for index.ts). Reads run as the caller (RLS: any role on the
 * workbench); other tenants' reports are 404.
 */
import { router } from "../../shared/http.ts";
import { createRoute } from "./create_route.ts";
import type { ReportsDeps } from "./deps.ts";
import { readRoutes } from "./read_routes.ts";

export function createReportsHandler(deps: ReportsDeps) {
  return router([createRoute(deps), ...readRoutes(deps)]);
}
