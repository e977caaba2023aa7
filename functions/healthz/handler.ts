/**
 * The `healthz` function: `GET /healthz` (liveness_route.ts), public. Readiness (database, queues)
 * is the `readyz` function.
 */
import { router } from "../../shared/http.ts";
import type { HealthzDeps } from "./deps.ts";
import { livenessRoute } from "./liveness_route.ts";

export function createHealthzHandler(deps: HealthzDeps) {
  return router([livenessRoute(deps)]);
}
