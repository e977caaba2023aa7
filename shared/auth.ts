/**
 * Who is calling, checked in code as Supabase documents for Edge Functions (the functions run with
 * `verify_jwt = false`, so this works with every key mode a project can have):
 *
 * - Users: `auth.getClaims(token)` from supabase-js's Auth client. It verifies asymmetric tokens
 *   (ES256/RS256) against the project's JWKS (the injected `SUPABASE_JWKS`, else the JWKS
 *   endpoint) and asks Auth (`GET /auth/v1/user`) about the others (legacy HS256 tokens), so no
 *   JWT secret is needed. Then the claims must say: role `authenticated`, a UUID subject, audience
 *   `authenticated`, an `exp`, and this project's issuer: `<SUPABASE_URL>/auth/v1`, or one listed in
 *   `AUTH_ISSUERS`. A project with a custom domain keeps issuing tokens as
 *   `https://<ref>.supabase.co/auth/v1` while `SUPABASE_URL` may name the custom domain, so
 *   such a project lists the issuer its tokens carry there (docs/deploying.md).
 * - The service role (workers called by the database, admin routes): the credential must equal one
 *   of the project's service keys (`sb_secret_…` or the legacy service_role JWT), compared in
 *   constant time.
 * - Suspension: a user whose personal account a platform admin suspended gets 403
 *   `tenant_suspended` from `requireUser` on every route but the export (`/me/export` and its
 *   download, `/me/exports/{id}`, so they can still take their data); an account whose erasure is
 *   pending gets 401 `account_deactivated` on every route. The verifier built from the environment
 *   asks the database (`private.tenant_suspension` and `private.is_deactivated`, one statement of
 *   indexed lookups) on each call, so no route can forget it.
 */
import { AuthClient, type JWK } from "@supabase/auth-js";
import { z } from "zod";
import { getDb } from "./db.ts";
import type { Env } from "./env.ts";
import { HttpError, json, type RequestContext, type Route } from "./http.ts";
import type { RouteDoc } from "./route_doc.ts";

export const ClaimsSchema = z.object({
  sub: z.string().optional(),
  role: z.enum(["anon", "authenticated", "service_role"]),
  email: z.string().optional(),
  exp: z.number().optional(),
  iss: z.string().optional(),
  aud: z.union([z.string(), z.array(z.string())]).optional(),
  session_id: z.string().optional(),
}).loose();

export type Claims = z.infer<typeof ClaimsSchema>;

export interface JwtVerifier {
  /** Verifies a user's access token; throws a 401 HttpError when it is not valid. */
  verify(token: string): Promise<Claims>;
  /** True when `credential` is one of this project's service keys. */
  isServiceKey(credential: string): boolean;
  /**
   * Whether a user's account is deactivated (its erasure pending) and why it is suspended (null:
   * it is not). Verifiers built from the environment always have it; a test's verifier without it
   * checks neither.
   */
  accountState?(userId: string): Promise<AccountState>;
}

export interface AccountState {
  /** DELETE /me was confirmed: refused everywhere, the export included. */
  deactivated: boolean;
  /** Why a platform admin suspended the personal account, or null. */
  suspended: string | null;
}

export interface VerifierOptions {
  supabaseUrl: string;
  /** Sent as `apikey` when Auth is asked about a token (publishable or anon key). */
  publicKey: string;
  serviceKeys: string[];
  /** The project's JWKS, when injected (saves a fetch). */
  jwks?: { keys: JWK[] };
  /** Accepted `iss` values besides `<supabaseUrl>/auth/v1` (a trailing `/` is ignored). */
  extraIssuers?: string[];
  /** Looks up a user's account state (see `JwtVerifier.accountState`). */
  accountState?: (userId: string) => Promise<AccountState>;
}

/** Constant-time string comparison. */
export function timingSafeEqual(a: string, b: string): boolean {
  const x = new TextEncoder().encode(a);
  const y = new TextEncoder().encode(b);
  let diff = x.length ^ y.length;
  for (let i = 0; i < Math.max(x.length, y.length); i++) diff |= (x[i] ?? 0) ^ (y[i] ?? 0);
  return diff === 0;
}

export function createJwtVerifier(opts: VerifierOptions): JwtVerifier {
  const base = opts.supabaseUrl.replace(/\/+$/, "");
  const issuers = new Set(
    [`${base}/auth/v1`, ...(opts.extraIssuers ?? [])].map((i) => i.replace(/\/+$/, "")),
  );
  const auth = new AuthClient({
    url: `${base}/auth/v1`,
    headers: { apikey: opts.publicKey },
    autoRefreshToken: false,
    persistSession: false,
    detectSessionInUrl: false,
  });
  const jwks = opts.jwks;

  return {
    ...(opts.accountState ? { accountState: opts.accountState } : {}),
    async verify(token) {
      let payload: unknown;
      try {
        const { data, error } = await auth.getClaims(token, jwks ? { jwks } : {});
        if (error || !data) throw error ?? new Error("no claims");
        payload = data.claims;
      } catch (err) {
        const expired = /expired/i.test(err instanceof Error ? err.message : String(err));
        throw new HttpError(
          401,
          expired ? "token_expired" : "invalid_token",
          expired ? "The access token has expired." : "The access token is invalid.",
        );
      }
      const claims = ClaimsSchema.safeParse(payload);
      if (!claims.success) {
        throw new HttpError(401, "invalid_token", "The access token carries no valid role.");
      }
      const iss = claims.data.iss?.replace(/\/+$/, "");
      if (claims.data.exp === undefined || iss === undefined || !issuers.has(iss)) {
        throw new HttpError(401, "invalid_token", "The access token is invalid.");
      }
      return claims.data;
    },
    isServiceKey(credential) {
      let match = false;
      for (const key of opts.serviceKeys) match = timingSafeEqual(credential, key) || match;
      return match;
    },
  };
}

/**
 * The account state in the database, one statement: `private.is_deactivated` (an erasure pending,
 * refused everywhere, also on routes that use the service connection rather than shared/db.ts
 * `asUser`: checkout, billing) and `private.tenant_suspension`.
 */
export function accountStateFromDb(
  sql: () => ReturnType<typeof getDb>,
): (userId: string) => Promise<AccountState> {
  return async (userId) => {
    const [row] = await sql()<AccountState[]>`
      select private.is_deactivated(${userId}::uuid) as deactivated,
             private.tenant_suspension(${userId}::uuid) as suspended`;
    return row ?? { deactivated: false, suspended: null };
  };
}

/**
 * The verifier for this function's environment (see shared/env.ts), which checks suspensions in
 * the isolate's database (or `sql`).
 */
export function verifierFromEnv(
  env: Env,
  sql: () => ReturnType<typeof getDb> = getDb,
): JwtVerifier {
  return createJwtVerifier({
    supabaseUrl: env.SUPABASE_URL,
    publicKey: env.publicKey,
    serviceKeys: env.serviceKeys,
    jwks: env.SUPABASE_JWKS,
    extraIssuers: env.AUTH_ISSUERS,
    accountState: accountStateFromDb(sql),
  });
}

/** The routes a suspended account may still call: its data export and the export's download. */
const SUSPENSION_EXEMPT = /\/me\/exports?(\/|$)/;

/** Whether `req` is one a suspended account may still make (the export). */
export function suspensionExempt(req: Request): boolean {
  return SUSPENSION_EXEMPT.test(new URL(req.url).pathname);
}

/** The bearer token of a request, or a 401 when there is none. */
export function bearerToken(req: Request): string {
  const header = req.headers.get("authorization") ?? "";
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  if (!match?.[1]) {
    throw new HttpError(
      401,
      "missing_token",
      "An Authorization: Bearer <token> header is required.",
    );
  }
  return match[1];
}

/**
 * Whether a token (not yet verified) even claims to be a user's: API keys (anon, service_role JWTs)
 * are told apart before anything is verified. Verification decides everything else.
 */
function claimsUnverified(token: string): boolean {
  try {
    const part = token.split(".")[1] ?? "";
    const payload = JSON.parse(atob(part.replace(/-/g, "+").replace(/_/g, "/")));
    return payload?.role === "authenticated" || payload?.role === undefined;
  } catch {
    return true; // malformed: let verification answer invalid_token
  }
}

export interface AuthenticatedUser {
  id: string;
  email?: string;
  claims: Claims;
  token: string;
}

// Any 8-4-4-4-12 hex id, as Postgres's uuid type reads it (not only RFC 4122 versions).
const UserId = z.guid();

/**
 * A signed-in user (role `authenticated` with a subject that is a user id, a UUID as Supabase Auth
 * issues them); anon and service keys get 401, and so does any other subject, which would
 * otherwise reach the database's uuid casts and answer 500.
 */
export async function requireUser(req: Request, verifier: JwtVerifier): Promise<AuthenticatedUser> {
  const token = bearerToken(req);
  if (verifier.isServiceKey(token) || token.startsWith("sb_") || !claimsUnverified(token)) {
    throw new HttpError(401, "user_required", "This endpoint needs a signed-in user's token.");
  }
  const claims = await verifier.verify(token);
  const audiences = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  const id = UserId.safeParse(claims.sub);
  if (claims.role !== "authenticated" || !id.success || !audiences.includes("authenticated")) {
    throw new HttpError(401, "user_required", "This endpoint needs a signed-in user's token.");
  }
  if (verifier.accountState) {
    const state = await verifier.accountState(id.data);
    if (state.deactivated) {
      throw new HttpError(
        401,
        "account_deactivated",
        "This account is deactivated: its erasure is pending (POST /me/restore undoes it).",
      );
    }
    if (state.suspended !== null && !suspensionExempt(req)) {
      throw new HttpError(
        403,
        "tenant_suspended",
        "This account is suspended; only the data export is open.",
      );
    }
  }
  return { id: id.data, email: claims.email, claims, token };
}

/**
 * The service role only (database-triggered workers, admin tooling): the bearer token, or else the
 * `apikey` header, must be one of the project's service keys.
 */
export function requireServiceRole(req: Request, verifier: JwtVerifier): void {
  const bearer = /^Bearer\s+(\S+)$/i.exec(req.headers.get("authorization") ?? "")?.[1];
  const credential = bearer ?? req.headers.get("apikey") ?? undefined;
  if (!credential) {
    throw new HttpError(
      401,
      "missing_token",
      "An Authorization: Bearer <service key> header is required.",
    );
  }
  if (!verifier.isServiceKey(credential)) {
    throw new HttpError(403, "forbidden", "This endpoint is for the service role only.");
  }
}

/**
 * A `POST` route that only the service role may call (the workers and jobs the database kicks
 * through pg_net): checks the key, drops the body, and answers `run`'s result as JSON.
 */
export function serviceTaskRoute(
  pattern: string,
  verifier: JwtVerifier,
  run: (ctx: RequestContext) => Promise<unknown>,
  doc: { summary: string; result?: RouteDoc["responses"][number]["schema"] } = {
    summary: "A service task",
  },
): Route {
  return {
    method: "POST",
    pattern,
    doc: {
      summary: doc.summary,
      description: "Called by the database (pg_net) with the service key; any body is ignored.",
      auth: "service",
      responses: { 200: { description: "What the task did", schema: doc.result } },
    },
    handler: async (req, ctx) => {
      requireServiceRole(req, verifier);
      await req.body?.cancel();
      return json(await run(ctx));
    },
  };
}
