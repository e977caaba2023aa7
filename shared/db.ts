/**
 * Postgres access for functions: a postgres.js client and `asUser`, which runs a callback in one transaction as the calling user exactly as
 * PostgREST does (`set local role` + `request.jwt.claims`), so RLS policies apply.
 *
 * The client suits a transaction pooler (Supavisor on port 6543, the local platform's front): no
 * prepared statements (the pooler lends the server connection to another client after each
 * transaction, so a statement prepared on it would be gone or someone else's), few connections
 * per isolate (`DB_POOL_MAX`, default 1) and idle ones closed after `DB_IDLE_TIMEOUT_SEC`, so a
 * warm isolate that serves nothing holds no connection. The URL is `DB_POOLER_URL` when set (the
 * pooler; Supabase's own `SUPABASE_DB_URL` is the direct connection), else `SUPABASE_DB_URL`:
 * docs/deploying.md counts the connections.
 */
import postgres from "postgres";
import type { Claims } from "./auth.ts";
import { DB_IDLE_TIMEOUT_SEC, type DbConfig, loadDbConfig } from "./env.ts";
import { currentRequest, HttpError } from "./http.ts";

export type Sql = postgres.Sql;
export type Tx = postgres.TransactionSql;

export interface DbOptions {
  max?: number;
}

/** The postgres.js options every client here uses (exported for the tests that check them). */
export function dbClientOptions(opts: DbOptions = {}) {
  return {
    max: opts.max ?? 1,
    prepare: false,
    idle_timeout: DB_IDLE_TIMEOUT_SEC,
    connect_timeout: 10,
    onnotice: () => {},
    connection: { application_name: "analyst-workbench" },
  } satisfies postgres.Options<Record<string, never>>;
}

export function createDb(url: string, opts: DbOptions = {}): Sql {
  return postgres(url, dbClientOptions(opts));
}

/** The isolate-wide client's URL and size, from this isolate's environment. */
export function dbConfigFromEnv(
  get: (name: string) => string | undefined = (n) => Deno.env.get(n),
): DbConfig {
  return loadDbConfig({
    DB_POOLER_URL: get("DB_POOLER_URL"),
    SUPABASE_DB_URL: get("SUPABASE_DB_URL"),
    DB_POOL_MAX: get("DB_POOL_MAX"),
  });
}

let shared: Sql | undefined;

/**
 * The isolate-wide client built from DB_POOLER_URL, else SUPABASE_DB_URL (and DB_POOL_MAX),
 * created on first use.
 */
export function getDb(): Sql {
  if (!shared) {
    const config = dbConfigFromEnv();
    shared = createDb(config.url, { max: config.max });
  }
  return shared;
}

/** Closes the isolate-wide client (tests and graceful shutdown). */
export async function closeDb(): Promise<void> {
  const sql = shared;
  shared = undefined;
  await sql?.end({ timeout: 5 });
}

const ROLES = new Set(["anon", "authenticated", "service_role"]);

/**
 * Runs `fn` in one transaction with the role and claims of the caller, so row level security
 * applies. Rolls back when `fn` throws.
 *
 * The same first round trip sets `request.headers` (the request id and client IP of the request
 * being served, shared/http.ts `currentRequest()`), which the audit trail's defaults read, and
 * calls `private.open_request`: it refuses a user whose account is deactivated (erasure pending:
 * SQLSTATE PT401, answered 401 `account_deactivated`) and records the API sign-in once per session
 * and window (docs/privacy.md). Its EXECUTE is checked before the role changes (the connection's
 * own role runs it; it is SECURITY DEFINER).
 */
export function asUser<T>(sql: Sql, claims: Claims, fn: (tx: Tx) => Promise<T>): Promise<T> {
  if (!ROLES.has(claims.role)) throw new Error(`refusing to assume role ${claims.role}`);
  const request = currentRequest();
  const headers = JSON.stringify({
    "x-request-id": request?.requestId ?? null,
    "x-forwarded-for": request?.ip ?? null,
  });
  const claimsJson = JSON.stringify(claims);
  return sql.begin(async (tx) => {
    // One round trip: `set_config('role', …, true)` is `set local role …`.
    await tx`select set_config('request.headers', ${headers}, true),
                    set_config('request.jwt.claims', ${claimsJson}, true),
                    set_config('request.jwt.claim.sub', ${claims.sub ?? ""}, true),
                    set_config('request.jwt.claim.role', ${claims.role}, true),
                    private.open_request(${claimsJson}::text::jsonb),
                    set_config('role', ${claims.role}, true)`;
    return await fn(tx);
  }) as Promise<T>;
}

/**
 * Turns the Postgres errors that carry meaning for clients into HttpErrors; returns the original
 * error otherwise (an unexpected failure, answered with 500).
 */
export function httpErrorFromPostgres(
  err: unknown,
  notFound = "The resource was not found.",
): unknown {
  const e = err as { code?: string; message?: string; detail?: string };
  switch (e?.code) {
    case "PT401":
      return new HttpError(
        401,
        "account_deactivated",
        "This account is deactivated: its erasure is pending (POST /me/restore undoes it).",
      );
    case "PT402":
      return new HttpError(402, "insufficient_credits", "Not enough credits. Top up your wallet.", {
        detail: e.detail,
      });
    case "PT403":
      if (e.message === "plan_limit_reached") {
        // private.check_plan_limit: DETAIL is {limit, plan, usage, max}.
        let detail: Record<string, unknown> = {};
        try {
          detail = JSON.parse(e.detail ?? "{}");
        } catch { /* kept empty */ }
        return new HttpError(
          403,
          "plan_limit_reached",
          `Your plan's ${
            detail.limit ?? "usage"
          } limit is reached (${detail.usage} of ${detail.max}).`,
          detail,
        );
      }
      // Other refusals the database decides (the code in MESSAGE): a suspended tenant, an actor
      // who is no platform admin. Any other PT403 is left to the route (an invitation's token).
      if (e.message === "tenant_suspended") {
        return new HttpError(
          403,
          "tenant_suspended",
          "This account is suspended; only the data export is open.",
        );
      }
      if (e.message === "platform_admin_required") {
        return new HttpError(403, "forbidden", "You may not do this.");
      }
      return err;
    case "PT429": {
      // A rate limit the database holds (private.rate_limit_insert): DETAIL is the wait in s.
      const wait = Math.max(1, Math.ceil(Number(e.detail) || 1));
      return new HttpError(
        429,
        "rate_limited",
        `Too many requests; try again in ${wait} s.`,
        undefined,
        { "retry-after": String(wait) },
      );
    }
    case "23505":
      return new HttpError(409, "conflict", "That already exists.");
    case "23503":
      return new HttpError(404, "not_found", notFound);
    case "23514":
      return new HttpError(409, "conflict", e.message ?? "The change breaks a rule.");
    case "42501":
      return new HttpError(404, "not_found", notFound);
    default:
      return err;
  }
}

/**
 * `asUser` for request handlers: Postgres errors that mean something to clients become HttpErrors
 * (an RLS refusal is a 404 with `notFound`, as for another tenant's resource).
 */
export async function asCaller<T>(
  sql: Sql,
  claims: Claims,
  fn: (tx: Tx) => Promise<T>,
  notFound?: string,
): Promise<T> {
  try {
    return await asUser(sql, claims, fn);
  } catch (err) {
    throw httpErrorFromPostgres(err, notFound);
  }
}
