import { verifierFromEnv } from "../../shared/auth.ts";
import { getDb } from "../../shared/db.ts";
import { embedderFromEnv } from "../../shared/embeddings.ts";
import { loadEnv } from "../../shared/env.ts";
import { serve } from "../../shared/http.ts";
import { stepConfigFromEnv } from "../../shared/indexing/step.ts";
import { DEFAULT_WORKER_CONFIG } from "../../shared/indexing/worker.ts";
import { createObjectStore } from "../../shared/storage.ts";
import { createIndexWorkerHandler } from "./handler.ts";

const env = loadEnv();
const vars = Deno.env.toObject();
const number = (name: string, fallback: number) => Number(vars[name] ?? fallback);

Deno.serve(serve(
  "index-worker",
  createIndexWorkerHandler({
    sql: getDb,
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
  }),
));
