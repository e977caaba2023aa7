/**
 * The `index-worker` function: called by the database (pg_net) with the service role key; runs one
 * indexing step of one queued file and answers with what it did.
 *
 * - step_route.ts: `POST /`
 * - vector_index_route.ts: `POST /vector-index` (a workbench's HNSW index, built concurrently)
 * - deps.ts: what the worker needs, and `indexWorkerDepsFromEnv()` for index.ts
 */
import { router } from "../../shared/http.ts";
import type { IndexWorkerDeps } from "./deps.ts";
import { stepRoute } from "./step_route.ts";
import { vectorIndexRoute } from "./vector_index_route.ts";

export function createIndexWorkerHandler(deps: IndexWorkerDeps) {
  return router([stepRoute(deps), vectorIndexRoute(deps)]);
}
