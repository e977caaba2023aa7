/**
 * JWT verification for Supabase-issued tokens. Asymmetric keys (ES256/RS256) are checked against
 * the project's JWKS at `<SUPABASE_URL>/auth/v1/.well-known/jwks.json`; projects that still sign
 * with the legacy HS256 secret can pass it as `jwtSecret`. `alg: none` and every other algorithm
 * are rejected.
 */
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from "jose";
import { z } from "zod";
import { HttpError } from "./http.ts";

export const ClaimsSchema = z.object({
  sub: z.string().optional(),
  role: z.enum(["anon", "authenticated", "service_role"]),
  email: z.string().optional(),
  exp: z.number().optional(),
  aud: z.union([z.string(), z.array(z.string())]).optional(),
  session_id: z.string().optional(),
}).loose();

export type Claims = z.infer<typeof ClaimsSchema>;

export interface JwtVerifier {
  verify(token: string): Promise<Claims>;
}

export interface VerifierOptions {
  supabaseUrl: string;
  jwtSecret?: string;
}

const ASYMMETRIC = ["ES256", "RS256", "EdDSA"];

export function createJwtVerifier(opts: VerifierOptions): JwtVerifier {
  const jwks = createRemoteJWKSet(
    new URL("/auth/v1/.well-known/jwks.json", opts.supabaseUrl),
    { cooldownDuration: 30_000, cacheMaxAge: 600_000 },
  );
  const secret = opts.jwtSecret ? new TextEncoder().encode(opts.jwtSecret) : undefined;

  return {
    async verify(token: string): Promise<Claims> {
      let alg: string | undefined;
      try {
        alg = decodeProtectedHeader(token).alg;
      } catch {
        throw new HttpError(401, "invalid_token", "The access token is malformed.");
      }
      let payload: unknown;
      try {
        if (alg && ASYMMETRIC.includes(alg)) {
          ({ payload } = await jwtVerify(token, jwks, {
            algorithms: ASYMMETRIC,
            requiredClaims: ["exp"],
          }));
        } else if (alg === "HS256" && secret) {
          ({ payload } = await jwtVerify(token, secret, {
            algorithms: ["HS256"],
            requiredClaims: ["exp"],
          }));
        } else {
          throw new Error(`algorithm ${alg ?? "missing"} is not accepted`);
        }
      } catch (err) {
        const code = (err as { code?: string }).code;
        const message = code === "ERR_JWT_EXPIRED"
          ? "The access token has expired."
          : "The access token is invalid.";
        throw new HttpError(
          401,
          code === "ERR_JWT_EXPIRED" ? "token_expired" : "invalid_token",
          message,
        );
      }
      const claims = ClaimsSchema.safeParse(payload);
      if (!claims.success) {
        throw new HttpError(401, "invalid_token", "The access token carries no valid role.");
      }
      return claims.data;
    },
  };
}

/** The bearer token of a request, or a 401 when there is none. */
export function bearerToken(req: Request): string {
  const header = req.headers.get("authorization") ?? "";
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  if (!match) {
    throw new HttpError(
      401,
      "missing_token",
      "An Authorization: Bearer <token> header is required.",
    );
  }
  return match[1];
}

export interface AuthenticatedUser {
  id: string;
  email?: string;
  claims: Claims;
  token: string;
}

/** A signed-in user (role `authenticated` with a subject); anon and service keys get 401. */
export async function requireUser(req: Request, verifier: JwtVerifier): Promise<AuthenticatedUser> {
  const token = bearerToken(req);
  const claims = await verifier.verify(token);
  const audiences = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  if (claims.role !== "authenticated" || !claims.sub || !audiences.includes("authenticated")) {
    throw new HttpError(401, "user_required", "This endpoint needs a signed-in user's token.");
  }
  return { id: claims.sub, email: claims.email, claims, token };
}

/** The service role only (database-triggered workers, admin tooling). */
export async function requireServiceRole(req: Request, verifier: JwtVerifier): Promise<Claims> {
  const claims = await verifier.verify(bearerToken(req));
  if (claims.role !== "service_role") {
    throw new HttpError(403, "forbidden", "This endpoint is for the service role only.");
  }
  return claims;
}
