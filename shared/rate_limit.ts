/**
 * Rate limits for routes that create things, take uploads or ask the chat: one token per request from the
 * caller's bucket and the client IP's bucket (database token buckets; the limits are the
 * `rate_limits` setting, see the operations migration). Past a limit: 429 `rate_limited` with
 * `Retry-After`.
 *
 * Creating a company, a workbench or an invitation takes its token in the database instead (a
 * trigger, so writes through the Data API are limited too): those routes call `forwardClientIp()`
 * in their transaction rather than `enforceRateLimit()`, and shared/db.ts turns the database's
 * refusal into the same 429.
 */
import type { Sql, Tx } from "./db.ts";
import { clientIp as requestIp, HttpError } from "./http.ts";

export type RateScope = "uploads" | "create" | "invitations" | "chat";

/**
 * The client's address as the platform's gateway forwards it (first `x-forwarded-for` hop; see
 * shared/http.ts), or "" when there is none.
 */
export function clientIp(req: Request): string {
  return requestIp(req) ?? "";
}

export async function enforceRateLimit(
  sql: Sql,
  scope: RateScope,
  req: Request,
  userId: string,
): Promise<void> {
  const [row] = await sql<{ result: { allowed: boolean; retry_after_seconds: number } }[]>`
    select private.check_rate_limit(${scope}, ${userId}::uuid, ${clientIp(req)}) as result`;
  if (row && !row.result.allowed) {
    const wait = Math.max(1, Math.ceil(Number(row.result.retry_after_seconds)));
    throw new HttpError(
      429,
      "rate_limited",
      `Too many requests; try again in ${wait} s.`,
      undefined,
      { "retry-after": String(wait) },
    );
  }
}

/**
 * Tells the database the client's address for this transaction, as PostgREST does
 * (`request.headers`), so the database's rate-limit trigger takes the IP's token too. Merged into
 * what shared/db.ts asUser set (the request id the audit trail reads stays).
 */
export async function forwardClientIp(tx: Tx, req: Request): Promise<void> {
  const headers = JSON.stringify({ "x-forwarded-for": clientIp(req) });
  await tx`select set_config('request.headers',
    (coalesce(nullif(current_setting('request.headers', true), ''), '{}')::jsonb
      || ${headers}::text::jsonb)::text, true)`;
}
