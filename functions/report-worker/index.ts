import { verifierFromEnv } from "../../shared/auth.ts";
import { getDb } from "../../shared/db.ts";
import { embedderFromEnv } from "../../shared/embeddings.ts";
import { loadEnv } from "../../shared/env.ts";
import { serve } from "../../shared/http.ts";
import { llmFromEnv } from "../../shared/llm/groq.ts";
import { narrativeGenerator, narrativePassages } from "../../shared/reports/grounding.ts";
import { DEFAULT_REPORT_WORKER_CONFIG } from "../../shared/reports/worker.ts";
import { retrievalSettingsFromEnv } from "../../shared/retrieval/search.ts";
import { createObjectStore } from "../../shared/storage.ts";
import { createReportWorkerHandler } from "./handler.ts";

const env = loadEnv();
const vars = Deno.env.toObject();
const d = DEFAULT_REPORT_WORKER_CONFIG;
const llm = llmFromEnv(vars);

Deno.serve(serve(
  "report-worker",
  createReportWorkerHandler({
    sql: getDb,
    verifier: verifierFromEnv(env),
    store: createObjectStore(env.SUPABASE_URL, env.serviceKey),
    // Without GROQ_API_KEY the narrative is the deterministic template.
    ...(llm
      ? {
        generate: narrativeGenerator(llm),
        passages: narrativePassages(getDb, embedderFromEnv(vars), retrievalSettingsFromEnv(vars)),
      }
      : {}),
    config: {
      visibilityTimeoutSec: env.REPORT_VISIBILITY_TIMEOUT_SEC ?? d.visibilityTimeoutSec,
      maxAttempts: d.maxAttempts,
      retryBaseSec: env.REPORT_RETRY_BASE_SEC ?? d.retryBaseSec,
      maxFileBytes: env.REPORT_MAX_TABLE_BYTES ?? d.maxFileBytes,
      maxFiles: d.maxFiles,
      varianceThresholdPct: env.REPORT_VARIANCE_THRESHOLD_PCT ?? d.varianceThresholdPct,
    },
  }),
));
