/** The `plans` function: `GET /plans` (list_route.ts), public. */
import { router } from "../../shared/http.ts";
import type { PlansDeps } from "./deps.ts";
import { listRoute } from "./list_route.ts";

export function createPlansHandler(deps: PlansDeps) {
  return router([listRoute(deps)]);
}
