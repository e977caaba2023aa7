/**
 * The `openapi` function: `GET /openapi` (document_route.ts), public: the API reference that
 * `deno task openapi` writes to docs/openapi.json (see docs/openapi.md).
 */
import { router } from "../../shared/http.ts";
import type { OpenapiDeps } from "./deps.ts";
import { documentRoute } from "./document_route.ts";

export function createOpenapiHandler(deps: OpenapiDeps) {
  return router([documentRoute(deps)]);
}
