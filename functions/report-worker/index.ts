import { verifierFromEnv } from "../../shared/auth.ts";
import { getDb } from "../../shared/db.ts";
import { loadEnv } from "../../shared/env.ts";
import { serve } from "../../shared/http.ts";
import { DEFAULT_REPORT_WORKER_CONFIG } from "../../shared/reports/worker.ts";
import { createObjectStore } from "../../shared/storage.ts";
import { createReportWorkerHandler } from "./handler.ts";

const env = loadEnv();
const vars = Deno.env.toObject();
const number = (name: string, fallback: number) => Number(vars[name] ?? fallback);
const d = DEFAULT_REPORT_WORKER_CONFIG;

Deno.serve(serve(
  "report-worker",
  createReportWorkerHandler({
    sql: getDb,
    verifier: verifierFromEnv(env),
    store: createObjectStore(env.SUPABASE_URL, env.serviceKey),
    config: {
      visibilityTimeoutSec: number("REPORT_VISIBILITY_TIMEOUT_SEC", d.visibilityTimeoutSec),
      maxAttempts: d.maxAttempts,
      retryBaseSec: number("REPORT_RETRY_BASE_SEC", d.retryBaseSec),
      maxFileBytes: d.maxFileBytes,
      maxFiles: d.maxFiles,
      varianceThresholdPct: number("REPORT_VARIANCE_THRESHOLD_PCT", d.varianceThresholdPct),
    },
  }),
));
