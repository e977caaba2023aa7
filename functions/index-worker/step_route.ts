/**
 * `POST /index-worker` (service role only): runs one indexing step of one queued file
 * (shared/indexing) and answers with what it did.
 */
import { serviceTaskRoute } from "../../shared/auth.ts";
import type { Route } from "../../shared/http.ts";
import { processNextFile } from "../../shared/indexing/mod.ts";
import type { IndexWorkerDeps } from "./deps.ts";

export function stepRoute(deps: IndexWorkerDeps): Route {
  return serviceTaskRoute("/", deps.verifier, () => processNextFile(deps), {
    summary: "Run one indexing step of one queued file",
  });
}
