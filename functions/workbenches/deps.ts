/** What the workbenches routes need, and how index.ts builds it from the environment. */
import { type JwtVerifier, verifierFromEnv } from "../../shared/auth.ts";
import type { Sql } from "../../shared/db.ts";
import type { Env } from "../../shared/env.ts";
import { createObjectStore, type ObjectStore } from "../../shared/storage.ts";
import type { UploadLimits } from "./uploads/checks.ts";

export interface WorkbenchesDeps {
  sql: () => Sql;
  verifier: JwtVerifier;
  store: ObjectStore;
  /** Upload limits; `DEFAULT_LIMITS` (uploads/checks.ts) when left out. */
  limits?: UploadLimits;
}

/** The function's dependencies from its environment (index.ts). */
export function workbenchesDepsFromEnv(env: Env, sql: () => Sql): WorkbenchesDeps {
  return {
    sql,
    verifier: verifierFromEnv(env),
    store: createObjectStore(env.SUPABASE_URL, env.serviceKey),
  };
}
