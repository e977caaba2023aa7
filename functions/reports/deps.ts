/** What the reports routes need, and how index.ts builds it from the environment. */
import { type JwtVerifier, verifierFromEnv } from "../../shared/auth.ts";
import type { Sql } from "../../shared/db.ts";
import type { Env } from "../../shared/env.ts";
import { createObjectStore, type ObjectStore } from "../../shared/storage.ts";

/**
 * How long a report's signed download URL works unless REPORT_DOWNLOAD_TTL_SEC says otherwise
 * (at most an hour). Short on purpose: a signed URL cannot be revoked, so someone removed from the
 * workbench can use a URL they already hold until it expires; clients read the report again for a
 * fresh one.
 */
export const DOWNLOAD_TTL_SECONDS = 300;

export interface ReportsDeps {
  sql: () => Sql;
  verifier: JwtVerifier;
  store: ObjectStore;
  /** Lifetime of download URLs (REPORT_DOWNLOAD_TTL_SEC, default DOWNLOAD_TTL_SECONDS). */
  downloadTtlSeconds: number;
}

/** The function's dependencies from its environment (index.ts). */
export function reportsDepsFromEnv(env: Env, sql: () => Sql): ReportsDeps {
  return {
    sql,
    verifier: verifierFromEnv(env),
    store: createObjectStore(env.SUPABASE_URL, env.serviceKey),
    downloadTtlSeconds: env.REPORT_DOWNLOAD_TTL_SEC ?? DOWNLOAD_TTL_SECONDS,
  };
}
