/**
 * Rate limits for routes that create things, take uploads or ask the chat: one token per request from the
 * caller's bucket and the client IP's bucket (database token buckets; the limits are the
 * `rate_limits` setting, see the operations migration). Past a limit: 429 `rate_limited` with
 * `Retry-After`.
 */
import type { Sql } from "./db.ts";
import { HttpError } from "./http.ts";

export type RateScope = "uploads" | "create" | "invitations" | "chat";

/** The client's address as the platform's gateway forwards it (first `x-forwarded-for` hop). */
export function clientIp(req: Request): string {
  const forwarded = req.headers.get("x-forwarded-for")?.split(",")[0]?.trim();
  return forwarded || req.headers.get("x-real-ip") || "";
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
