/**
 * `POST /index-worker`: called by the database (pg_net) with the service role key; runs one
 * indexing step of one queued file and answers with what it did.
 */
import { type JwtVerifier, serviceTaskRoute } from "../../shared/auth.ts";
import type { Sql } from "../../shared/db.ts";
import type { Embedder } from "../../shared/embeddings.ts";
import { router } from "../../shared/http.ts";
import type { StepConfig } from "../../shared/indexing/step.ts";
import { processNextFile, type WorkerConfig } from "../../shared/indexing/worker.ts";
import type { ObjectStore } from "../../shared/storage.ts";

export interface IndexWorkerDeps {
  sql: () => Sql;
  verifier: JwtVerifier;
  store: ObjectStore;
  embedder: Embedder;
  config: StepConfig;
  worker: WorkerConfig;
}

export function createIndexWorkerHandler(deps: IndexWorkerDeps) {
  return router([serviceTaskRoute("/", deps.verifier, () => processNextFile(deps))]);
}
