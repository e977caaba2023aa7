/** What the reports routes need, and how index.ts builds it from the environment. */
import { type JwtVerifier, verifierFromEnv } from "../../shared/auth.ts";
import type { Sql } from "../../shared/db.ts";
import type { Env } from "../../shared/env.ts";
import { createObjectStore, type ObjectStore } from "../../shared/storage.ts";

export interface ReportsDeps {
  sql: () => Sql;
  verifier: JwtVerifier;
  store: ObjectStore;
  /** Lifetime of download URLs (REPORT_DOWNLOAD_TTL_SEC, default 3600). */
  downloadTtlSeconds: number;
}

/** The function's dependencies from its environment (index.ts). */
export function reportsDepsFromEnv(env: Env, sql: () => Sql): ReportsDeps {
  return {
    sql,
    verifier: verifierFromEnv(env),
    store: createObjectStore(env.SUPABASE_URL, env.serviceKey),
    downloadTtlSeconds: env.REPORT_DOWNLOAD_TTL_SEC ?? 3600,
  };
}
