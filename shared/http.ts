/**
 * HTTP plumbing shared by every function: the error envelope, request ids, CORS, JSON responses,
 * zod validation of bodies and query strings, and a small method+path router.
 *
 * Every response carries `x-request-id` and CORS headers. Errors always look like
 * `{"error": {"code", "message", "request_id", "details"?}}`.
 */
import { z } from "zod";
import { log } from "./log.ts";
import type { RouteDoc } from "./route_doc.ts";

/** The one error type handlers throw; `serve()` turns it into the error envelope. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = "HttpError";
  }
}

export interface RequestContext {
  requestId: string;
  url: URL;
  /** The route inside the function, e.g. `/` or `/abc/files` for `/functions/v1/workbenches/abc/files`. */
  path: string;
}

export type Handler = (req: Request, ctx: RequestContext) => Response | Promise<Response>;

const ALLOWED_HEADERS =
  "authorization, x-client-info, apikey, content-type, idempotency-key, x-request-id, accept";
const REQUEST_ID = /^[A-Za-z0-9._-]{8,128}$/;

export function corsHeaders(req: Request): Record<string, string> {
  const configured = (Deno.env.get("ALLOWED_ORIGINS") ?? "").split(",").map((o) => o.trim())
    .filter(Boolean);
  const origin = req.headers.get("origin");
  let allow = "*";
  if (configured.length > 0 && !configured.includes("*")) {
    allow = origin && configured.includes(origin) ? origin : configured[0];
  }
  return {
    "access-control-allow-origin": allow,
    "access-control-allow-headers": ALLOWED_HEADERS,
    "access-control-allow-methods": "GET, POST, PUT, PATCH, DELETE, OPTIONS",
    "access-control-expose-headers": "x-request-id, retry-after, content-disposition",
    "access-control-max-age": "86400",
    ...(allow === "*" ? {} : { vary: "Origin" }),
  };
}

export function json(data: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(data), {
    status,
    headers: { "content-type": "application/json; charset=utf-8", ...headers },
  });
}

export function errorResponse(
  status: number,
  code: string,
  message: string,
  requestId: string,
  details?: unknown,
  headers: Record<string, string> = {},
): Response {
  const error: Record<string, unknown> = { code, message, request_id: requestId };
  if (details !== undefined) error.details = details;
  return json({ error }, status, { "x-request-id": requestId, ...headers });
}

export function newRequestId(req?: Request): string {
  const incoming = req?.headers.get("x-request-id");
  return incoming && REQUEST_ID.test(incoming) ? incoming : crypto.randomUUID();
}

/** The part of the URL path after the function's own name (Supabase passes `/<name>/...`). */
export function routePath(url: URL, functionName: string): string {
  const segments = url.pathname.split("/").filter(Boolean);
  const at = segments.indexOf(functionName);
  const rest = at >= 0 ? segments.slice(at + 1) : segments;
  return "/" + rest.join("/");
}

function withHeaders(res: Response, headers: Record<string, string>): Response {
  const merged = new Headers(res.headers);
  for (const [k, v] of Object.entries(headers)) if (!merged.has(k)) merged.set(k, v);
  return new Response(res.body, {
    status: res.status,
    statusText: res.statusText,
    headers: merged,
  });
}

/**
 * Wraps a handler with request ids, CORS (including the OPTIONS preflight), the error envelope and
 * one structured access-log line per request. `Deno.serve(serve("name", handler))` in index.ts.
 */
export function serve(functionName: string, handler: Handler): (req: Request) => Promise<Response> {
  return async (req: Request) => {
    const started = performance.now();
    const requestId = newRequestId(req);
    const url = new URL(req.url);
    const cors = corsHeaders(req);
    if (req.method === "OPTIONS") {
      return new Response(null, { status: 204, headers: { ...cors, "x-request-id": requestId } });
    }
    let res: Response;
    try {
      res = await handler(req, { requestId, url, path: routePath(url, functionName) });
    } catch (err) {
      if (err instanceof HttpError) {
        res = errorResponse(err.status, err.code, err.message, requestId, err.details, err.headers);
      } else {
        log.error("unhandled error", {
          fn: functionName,
          request_id: requestId,
          error: err instanceof Error ? err.message : String(err),
          stack: err instanceof Error ? err.stack : undefined,
        });
        res = errorResponse(500, "internal_error", "Something went wrong on our side.", requestId);
      }
    }
    res = withHeaders(res, { ...cors, "x-request-id": requestId });
    log.info("request", {
      fn: functionName,
      request_id: requestId,
      method: req.method,
      path: url.pathname,
      status: res.status,
      ms: Math.round(performance.now() - started),
    });
    return res;
  };
}

function issuesOf(error: z.ZodError) {
  return error.issues.map((i) => ({ path: i.path.join("."), message: i.message, code: i.code }));
}

/** Validates a value against a schema or throws a 400 `validation_failed` with the zod issues. */
export function validate<S extends z.ZodType>(
  schema: S,
  value: unknown,
  what = "request",
): z.output<S> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    throw new HttpError(
      400,
      "validation_failed",
      `The ${what} is invalid.`,
      issuesOf(parsed.error),
    );
  }
  return parsed.data;
}

/** The largest JSON body a route reads (bytes); bigger ones are refused while being read. */
export const MAX_JSON_BYTES = 1024 * 1024;

/**
 * Reads a request body up to `maxBytes`, counting while reading (a chunked body has no
 * Content-Length to trust): past it, 413 `payload_too_large` and the rest is not read.
 */
export async function readBodyBytes(req: Request, maxBytes: number): Promise<Uint8Array> {
  const tooLarge = () =>
    new HttpError(413, "payload_too_large", `The request body may be at most ${maxBytes} bytes.`);
  if (Number(req.headers.get("content-length") ?? "0") > maxBytes) {
    await req.body?.cancel().catch(() => {});
    throw tooLarge();
  }
  const parts: Uint8Array[] = [];
  let size = 0;
  const reader = req.body?.getReader();
  while (reader) {
    const { value, done } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel().catch(() => {});
      throw tooLarge();
    }
    parts.push(value);
  }
  const out = new Uint8Array(size);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.byteLength;
  }
  return out;
}

/**
 * Parses a JSON body (at most `MAX_JSON_BYTES`, else 413) and validates it. Bad JSON or bad UTF-8
 * is a 400 `invalid_json`.
 */
export async function readJson<S extends z.ZodType>(
  req: Request,
  schema: S,
  maxBytes = MAX_JSON_BYTES,
): Promise<z.output<S>> {
  const bytes = await readBodyBytes(req, maxBytes);
  let body: unknown;
  try {
    const text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
    body = text.length === 0 ? {} : JSON.parse(text);
  } catch {
    throw new HttpError(400, "invalid_json", "The request body is not valid JSON.");
  }
  return validate(schema, body, "request body");
}

/** `workbenchId` → `workbench_id`; a snake_case name stays as it is. */
export function snakeCase(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

/**
 * Validates the query string (every parameter as a string). Schemas name parameters in snake_case,
 * as bodies do (`workbench_id`); the camelCase spelling (`workbenchId`) the first clients used is
 * accepted too. When both spellings are sent, the snake_case one wins.
 */
export function readQuery<S extends z.ZodType>(url: URL, schema: S): z.output<S> {
  const params: Record<string, string> = {};
  for (const [key, value] of url.searchParams) {
    const snake = snakeCase(key);
    if (snake === key || !url.searchParams.has(snake)) params[snake] = value;
  }
  return validate(schema, params, "query string");
}

export type RouteHandler = (
  req: Request,
  ctx: RequestContext & { params: Record<string, string> },
) => Response | Promise<Response>;

export interface Route {
  method: string;
  /** A path such as `/`, `/:id` or `/:id/files/:fileId`. */
  pattern: string;
  handler: RouteHandler;
  /** What the API reference says about the route (shared/route_doc.ts). */
  doc?: RouteDoc;
}

/** A function's router, with the routes it serves (read by the API reference's generator). */
export type RoutedHandler = Handler & { routes: readonly Route[] };

/** A percent-decoded path segment; malformed encoding is the client's error (400), not a 500. */
function decodePathSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new HttpError(400, "invalid_path", "The URL path has malformed percent-encoding.");
  }
}

function matchPattern(pattern: string, path: string): Record<string, string> | null {
  const want = pattern.split("/").filter(Boolean);
  const got = path.split("/").filter(Boolean);
  if (want.length !== got.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < want.length; i++) {
    const w = want[i]!;
    const g = got[i]!;
    if (w.startsWith(":")) params[w.slice(1)] = decodePathSegment(g);
    else if (w !== g) return null;
  }
  return params;
}

/** Routes on method and path: 404 `not_found` for an unknown path, 405 for a known path. */
export function router(routes: Route[]): RoutedHandler {
  const handler: Handler = (req, ctx) => {
    let pathMatched = false;
    for (const route of routes) {
      const params = matchPattern(route.pattern, ctx.path);
      if (!params) continue;
      pathMatched = true;
      if (route.method === req.method) return route.handler(req, { ...ctx, params });
    }
    if (pathMatched) {
      const allowed = routes.filter((r) => matchPattern(r.pattern, ctx.path)).map((r) => r.method);
      throw new HttpError(
        405,
        "method_not_allowed",
        `Use ${allowed.join(" or ")} here.`,
        undefined,
        {
          allow: allowed.join(", "),
        },
      );
    }
    throw new HttpError(404, "not_found", `No route for ${req.method} ${ctx.path}.`);
  };
  return Object.assign(handler, { routes: Object.freeze([...routes]) });
}
