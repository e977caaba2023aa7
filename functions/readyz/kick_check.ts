/**
 * Whether a kick from the database would be accepted: `private.kick_worker` POSTs to
 * `<project_url>/functions/v1/<worker>` with the Vault secret `service_role_key` as its bearer,
 * and a worker accepts it only when that key is one of the service keys Supabase injects into the
 * functions (compared in constant time, shared/auth.ts). So this reads both secrets and asks the
 * same question the worker would: is the key one of ours (the functions share the project's keys),
 * and does `project_url` reach the functions (its `healthz` answers)? Missing or wrong secrets
 * otherwise leave files `pending` without a word.
 *
 * - `ok`: both set, the key is a service key, `project_url` reaches `healthz`.
 * - `missing`: a secret is absent or empty (kick_worker warns and kicks nothing).
 * - `rejected`: the key is not a service key of this project (rotated or disabled), or
 *   `project_url` does not reach the functions.
 */
import type { Sql } from "../../shared/db.ts";
import type { ReadyzDeps } from "./deps.ts";

export type KickState = "ok" | "missing" | "rejected";

export interface KickResult {
  kick: KickState;
  /** Why, when not `ok` (never a secret's value). */
  reason?: string;
}

export async function checkKick(
  sql: () => Sql,
  verifier: ReadyzDeps["verifier"],
  fetchFn: typeof fetch,
  timeoutMs: number,
): Promise<KickResult> {
  const rows = await sql()<{ name: string; value: string | null }[]>`
    select name, decrypted_secret as value from vault.decrypted_secrets
     where name in ('project_url', 'service_role_key')`;
  const secret = (name: string) => rows.find((r) => r.name === name)?.value || undefined;
  const url = secret("project_url");
  const key = secret("service_role_key");
  const absent = [url ? "" : "project_url", key ? "" : "service_role_key"].filter(Boolean);
  if (!url || !key) {
    return {
      kick: "missing",
      reason: `vault secrets missing: ${absent.join(", ")}; workers cannot be kicked`,
    };
  }
  if (!verifier.isServiceKey(key)) {
    return {
      kick: "rejected",
      reason: "vault secret service_role_key is not a service key of this project " +
        "(rotated or disabled?): workers would answer 401",
    };
  }
  let target: URL;
  try {
    target = new URL(`${url.replace(/\/+$/, "")}/functions/v1/healthz`);
  } catch {
    return { kick: "rejected", reason: "vault secret project_url is not a URL" };
  }
  try {
    const res = await fetchFn(target, { signal: AbortSignal.timeout(timeoutMs) });
    await res.body?.cancel();
    if (!res.ok) {
      return {
        kick: "rejected",
        reason: `vault secret project_url does not reach the functions (healthz ${res.status})`,
      };
    }
  } catch (err) {
    return {
      kick: "rejected",
      reason: `vault secret project_url does not reach the functions (${
        err instanceof Error ? err.message : String(err)
      })`,
    };
  }
  return { kick: "ok" };
}
