/**
 * `POST /index-worker/vector-index` (service role only): builds the vector index of the largest
 * workbench that needs one (shared/indexing/vector_index.ts), kicked by the pg_cron job
 * `workbench-vector-indexes`, and answers with the build, or `{ "status": "idle" }`.
 */
import { serviceTaskRoute } from "../../shared/auth.ts";
import type { Route } from "../../shared/http.ts";
import { buildVectorIndex } from "../../shared/indexing/mod.ts";
import type { IndexWorkerDeps } from "./deps.ts";

export function vectorIndexRoute(deps: IndexWorkerDeps): Route {
  return serviceTaskRoute("/vector-index", deps.verifier, async () => {
    const build = await buildVectorIndex(deps.sql());
    return build ? { status: "built", ...build } : { status: "idle" };
  }, { summary: "Build the vector index of the largest workbench that needs one" });
}
