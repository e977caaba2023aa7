/**
 * Postgres access for functions: a postgres.js client (transaction-pooler friendly: no prepared
 * statements) and `asUser`, which runs a callback in one transaction as the calling user exactly as
 * PostgREST does (`set local role` + `request.jwt.claims`), so RLS policies apply.
 */
import postgres from "postgres";
import type { Claims } from "./auth.ts";
import { loadDbPoolMax } from "./env.ts";
import { HttpError } from "./http.ts";

export type Sql = postgres.Sql;
export type Tx = postgres.TransactionSql;

export interface DbOptions {
  max?: number;
}

export function createDb(url: string, opts: DbOptions = {}): Sql {
  return postgres(url, {
    max: opts.max ?? 1,
    prepare: false,
    idle_timeout: 0,
    connect_timeout: 10,
    onnotice: () => {},
    connection: { application_name: "analyst-workbench" },
  });
}

let shared: Sql | undefined;

/** The isolate-wide client built from SUPABASE_DB_URL (and DB_POOL_MAX), created on first use. */
export function getDb(): Sql {
  if (!shared) {
    const url = Deno.env.get("SUPABASE_DB_URL");
    if (!url) throw new Error("SUPABASE_DB_URL is not set");
    shared = createDb(url, { max: loadDbPoolMax({ DB_POOL_MAX: Deno.env.get("DB_POOL_MAX") }) });
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
 */
export function asUser<T>(sql: Sql, claims: Claims, fn: (tx: Tx) => Promise<T>): Promise<T> {
  if (!ROLES.has(claims.role)) throw new Error(`refusing to assume role ${claims.role}`);
  return sql.begin(async (tx) => {
    // One round trip: `set_config('role', …, true)` is `set local role …`.
    await tx`select set_config('role', ${claims.role}, true),
                    set_config('request.jwt.claims', ${JSON.stringify(claims)}, true),
                    set_config('request.jwt.claim.sub', ${claims.sub ?? ""}, true),
                    set_config('request.jwt.claim.role', ${claims.role}, true)`;
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
    case "PT402":
      return new HttpError(402, "insufficient_credits", "Not enough credits. Top up your wallet.", {
        detail: e.detail,
      });
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
