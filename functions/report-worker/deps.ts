/**
 * What the report worker needs, and how index.ts builds it from the environment: the database, the
 * Storage bucket, the step limits and, with GROQ_API_KEY, the model that writes the narrative and
 * the retrieval that grounds it (without it the narrative is the deterministic template).
 */
import { type JwtVerifier, verifierFromEnv } from "../../shared/auth.ts";
import type { Sql } from "../../shared/db.ts";
import { embedderFromEnv } from "../../shared/embeddings.ts";
import type { Env } from "../../shared/env.ts";
import { llmFromEnv } from "../../shared/llm/mod.ts";
import type { GenerateText, NarrativePassage } from "../../shared/reports/mod.ts";
import { retrievalSettingsFromEnv } from "../../shared/retrieval/mod.ts";
import { createObjectStore, type ObjectStore } from "../../shared/storage.ts";
import { narrativeGenerator, narrativePassages } from "./grounding.ts";
import type { ReportRowForWorker } from "./job.ts";

export interface ReportWorkerConfig {
  visibilityTimeoutSec: number;
  maxAttempts: number;
  /** Seconds before retry n (1-based) is visible: base * 4^(n-1). */
  retryBaseSec: number;
  /**
   * Tables larger than this are not read (bytes): the kpis step parses whole files, ~0.7 ms of CPU
   * per KiB for a bank statement (bench/reports.ts), so 2 MiB stays well inside one step's budget.
   */
  maxFileBytes: number;
  /** At most this many candidate files are read. */
  maxFiles: number;
  varianceThresholdPct: number;
}

export const DEFAULT_REPORT_WORKER_CONFIG: ReportWorkerConfig = {
  visibilityTimeoutSec: 160,
  maxAttempts: 3,
  retryBaseSec: 5,
  maxFileBytes: 2 * 1024 * 1024,
  maxFiles: 5,
  varianceThresholdPct: 10,
};

export interface ReportWorkerDeps {
  sql: () => Sql;
  /** Recognises the service key the database calls with. */
  verifier: JwtVerifier;
  store: ObjectStore;
  config: ReportWorkerConfig;
  /** The LLM; without it the narrative is the template. */
  generate?: GenerateText;
  /** Passages to ground the narrative (retrieval); none without it. */
  passages?: (report: ReportRowForWorker) => Promise<NarrativePassage[]>;
  now?: () => Date;
}

/** The function's dependencies from its environment (index.ts). */
export function reportWorkerDepsFromEnv(
  env: Env,
  sql: () => Sql,
  vars: Record<string, string | undefined> = Deno.env.toObject(),
): ReportWorkerDeps {
  const d = DEFAULT_REPORT_WORKER_CONFIG;
  const llm = llmFromEnv(vars);
  return {
    sql,
    verifier: verifierFromEnv(env),
    store: createObjectStore(env.SUPABASE_URL, env.serviceKey),
    // Without GROQ_API_KEY the narrative is the deterministic template.
    ...(llm
      ? {
        generate: narrativeGenerator(llm),
        passages: narrativePassages(sql, embedderFromEnv(vars), retrievalSettingsFromEnv(vars)),
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
  };
}
