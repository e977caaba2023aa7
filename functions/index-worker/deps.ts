/**
 * What the indexing worker needs, and how index.ts builds it from the environment. The step itself
 * (shared/indexing) is also run by bench/, so it lives in shared/.
 */
import { type JwtVerifier, verifierFromEnv } from "../../shared/auth.ts";
import type { Sql } from "../../shared/db.ts";
import { type Embedder, embedderFromEnv } from "../../shared/embeddings.ts";
import type { Env } from "../../shared/env.ts";
import {
  DEFAULT_WORKER_CONFIG,
  type StepConfig,
  stepConfigFromEnv,
  type WorkerConfig,
} from "../../shared/indexing/mod.ts";
import { createObjectStore, type ObjectStore } from "../../shared/storage.ts";

export interface IndexWorkerDeps {
  sql: () => Sql;
  verifier: JwtVerifier;
  store: ObjectStore;
  embedder: Embedder;
  config: StepConfig;
  worker: WorkerConfig;
}

/** The function's dependencies from its environment (index.ts). */
export function indexWorkerDepsFromEnv(
  env: Env,
  sql: () => Sql,
  vars: Record<string, string | undefined> = Deno.env.toObject(),
): IndexWorkerDeps {
  const number = (name: string, fallback: number) => Number(vars[name] ?? fallback);
  return {
    sql,
    verifier: verifierFromEnv(env),
    store: createObjectStore(env.SUPABASE_URL, env.serviceKey),
    embedder: embedderFromEnv(vars),
    config: stepConfigFromEnv(vars),
    worker: {
      ...DEFAULT_WORKER_CONFIG,
      retryBaseSec: number("INDEX_RETRY_BASE_SEC", DEFAULT_WORKER_CONFIG.retryBaseSec),
      visibilityTimeoutSec: number(
        "INDEX_VISIBILITY_TIMEOUT_SEC",
        DEFAULT_WORKER_CONFIG.visibilityTimeoutSec,
      ),
    },
  };
}
