/** What the metrics route needs, and how index.ts builds it from the environment. */
import { type JwtVerifier, verifierFromEnv } from "../../shared/auth.ts";
import type { Sql } from "../../shared/db.ts";
import type { Env } from "../../shared/env.ts";

export interface MetricsDeps {
  sql: () => Sql;
  verifier: JwtVerifier;
  /** A scrape token accepted besides the service keys (METRICS_TOKEN); none when unset. */
  metricsToken?: string;
}

/** The function's dependencies from its environment (index.ts). */
export function metricsDepsFromEnv(env: Env, sql: () => Sql): MetricsDeps {
  return { sql, verifier: verifierFromEnv(env, sql), metricsToken: env.METRICS_TOKEN };
}
