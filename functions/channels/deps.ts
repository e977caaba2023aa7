/** What the channels routes need, and how index.ts builds it from the environment. */
import { type JwtVerifier, verifierFromEnv } from "../../shared/auth.ts";
import type { Sql } from "../../shared/db.ts";
import type { Env } from "../../shared/env.ts";

export interface ChannelsDeps {
  sql: () => Sql;
  verifier: JwtVerifier;
}

/** The function's dependencies from its environment (index.ts). */
export function channelsDepsFromEnv(env: Env, sql: () => Sql): ChannelsDeps {
  return { sql, verifier: verifierFromEnv(env) };
}
