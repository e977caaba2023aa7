/** What the `me` routes need, and how index.ts builds it from the environment. */
import { type JwtVerifier, verifierFromEnv } from "../../shared/auth.ts";
import type { Sql } from "../../shared/db.ts";
import type { Env } from "../../shared/env.ts";
import { createObjectStore, type ObjectStore } from "../../shared/storage.ts";

/** The private bucket exports are built in (created by the privacy migration). */
export const EXPORTS_BUCKET = "exports";

/**
 * How long an export's signed download URL works (short: a signed URL cannot be revoked; reading
 * the export's status again gives a fresh one).
 */
export const EXPORT_URL_TTL_SECONDS = 600;

/**
 * How many bytes of the caller's own files one worker step copies into the ZIP (at least one
 * file per step). A step copies bytes without compressing them, so its CPU time stays far under
 * the Edge limit; this bounds its memory.
 */
export const EXPORT_STEP_BYTES = 32 * 1024 * 1024;

export interface MeDeps {
  sql: () => Sql;
  verifier: JwtVerifier;
  store: ObjectStore;
  exportUrlTtlSeconds: number;
  exportStepBytes: number;
}

/** The function's dependencies from its environment (index.ts). */
export function meDepsFromEnv(env: Env, sql: () => Sql): MeDeps {
  return {
    sql,
    verifier: verifierFromEnv(env),
    store: createObjectStore(env.SUPABASE_URL, env.serviceKey),
    exportUrlTtlSeconds: EXPORT_URL_TTL_SECONDS,
    exportStepBytes: EXPORT_STEP_BYTES,
  };
}

/** SHA-256 of a token, hex (the database keeps only this). */
export async function tokenHash(token: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(token));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** A random token for a link or a confirmation (32 bytes, base64url). */
export function newToken(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return btoa(String.fromCharCode(...bytes)).replaceAll("+", "-").replaceAll("/", "_")
    .replace(/=+$/, "");
}
