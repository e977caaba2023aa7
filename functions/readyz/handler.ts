/**
 * The `readyz` function: `GET /readyz` (readiness_route.ts), public status, details with the
 * service key. Liveness alone is the `healthz` function.
 */
import { router } from "../../shared/http.ts";
import type { ReadyzDeps } from "./deps.ts";
import { readinessRoute } from "./readiness_route.ts";

export function createReadyzHandler(deps: ReadyzDeps) {
  return router([readinessRoute(deps)]);
}
