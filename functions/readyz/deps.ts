/** What the readiness route needs, and how index.ts builds it from the environment. */
import { type JwtVerifier, verifierFromEnv } from "../../shared/auth.ts";
import type { Sql } from "../../shared/db.ts";
import type { Env } from "../../shared/env.ts";
import { describeRuntimeConfig, type RuntimeConfig } from "../../shared/runtime_config.ts";

export interface ReadyzDeps {
  sql: () => Sql;
  /** Recognises the service key, which unlocks the details. */
  verifier: Pick<JwtVerifier, "isServiceKey">;
  /** Active embedder, LLM and payment configuration (no secrets). */
  config: RuntimeConfig;
  timeoutMs?: number;
  /** For the kick check's request to `<project_url>/functions/v1/healthz` (tests pass a fake). */
  fetch?: typeof fetch;
  /** The clock the kick check's reuse is timed by (tests pass a fake). */
  now?: () => number;
}

/** The function's dependencies from its environment (index.ts). */
export function readyzDepsFromEnv(
  env: Env,
  sql: () => Sql,
  vars: Record<string, string | undefined> = Deno.env.toObject(),
): ReadyzDeps {
  return { sql, verifier: verifierFromEnv(env), config: describeRuntimeConfig(vars) };
}
