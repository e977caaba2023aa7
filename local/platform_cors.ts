/**
 * CORS of the local API gateway in front of Auth (`/auth/v1`) and Storage (`/storage/v1`), as a
 * hosted Supabase project answers it, so a frontend on another origin (a Vite app on
 * http://localhost:5173) can call `supabase.auth.signUp()` and Storage from the browser:
 *
 * - an `OPTIONS` preflight is answered `200` before any API key is asked for (a browser never sends
 *   one on a preflight), allowing the methods and the request headers the browser asked about;
 * - every other answer carries `Access-Control-Allow-Origin` (the caller's origin, or `*`).
 *
 * The functions answer CORS themselves (shared/http.ts `corsHeaders()`); the gateway's own error
 * answers for functions use `gatewayCors()`.
 */

/** The methods hosted Supabase's gateway allows. */
export const PLATFORM_ALLOWED_METHODS = "GET, HEAD, PUT, PATCH, POST, DELETE, OPTIONS";

/** Allowed when a preflight names no headers: what supabase-js sends to Auth and Storage. */
export const PLATFORM_ALLOWED_HEADERS =
  "authorization, x-client-info, apikey, content-type, x-supabase-api-version, x-upsert, " +
  "cache-control, x-metadata, x-request-id, accept, accept-profile, content-profile, prefer, range";

const EXPOSED_HEADERS =
  "content-range, content-disposition, content-length, x-request-id, x-supabase-api-version, etag";

/** The CORS headers of an answer to `req` (not a preflight). */
export function platformCorsHeaders(req: Request): Record<string, string> {
  const origin = req.headers.get("origin");
  return {
    "access-control-allow-origin": origin ?? "*",
    "access-control-expose-headers": EXPOSED_HEADERS,
    ...(origin ? { vary: "Origin", "access-control-allow-credentials": "true" } : {}),
  };
}

/** The answer to a CORS preflight (`OPTIONS` with the headers a browser sends). */
export function platformPreflight(req: Request): Response {
  return new Response(null, {
    status: 200,
    headers: {
      ...platformCorsHeaders(req),
      "access-control-allow-methods": PLATFORM_ALLOWED_METHODS,
      "access-control-allow-headers": req.headers.get("access-control-request-headers") ??
        PLATFORM_ALLOWED_HEADERS,
      "access-control-max-age": "3600",
    },
  });
}

/** `res` with the CORS headers added (headers it sets itself win). */
export function withPlatformCors(req: Request, res: Response): Response {
  const headers = new Headers(res.headers);
  for (const [k, v] of Object.entries(platformCorsHeaders(req))) {
    if (!headers.has(k)) headers.set(k, v);
  }
  return new Response(res.body, { status: res.status, statusText: res.statusText, headers });
}
