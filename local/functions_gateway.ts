/**
 * The local Edge Functions runtime: loads each function declared in supabase/config.toml from its
 * entrypoint (capturing the handler its `Deno.serve` call registers) and serves it at
 * /functions/v1/<name>/..., as the Supabase relay does: verify_jwt is honoured (401 in the error
 * envelope), OPTIONS preflight reaches the function without a token, and `EdgeRuntime.waitUntil`
 * keeps background work alive.
 */
import { parse as parseToml } from "smol-toml";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type { JwtVerifier } from "../shared/auth.ts";
import { corsHeaders, errorResponse, HttpError, newRequestId } from "../shared/http.ts";
import { log } from "../shared/log.ts";

type FetchHandler = (req: Request, info?: unknown) => Response | Promise<Response>;

export interface FunctionConfig {
  name: string;
  verifyJwt: boolean;
  entrypoint: string;
}

/** Reads the `[functions.<name>]` tables of supabase/config.toml. */
export async function readFunctionConfig(configFile: string): Promise<FunctionConfig[]> {
  const config = parseToml(await Deno.readTextFile(configFile)) as {
    functions?: Record<string, { verify_jwt?: boolean; entrypoint?: string; enabled?: boolean }>;
  };
  const supabaseDir = resolve(configFile, "..");
  return Object.entries(config.functions ?? {})
    .filter(([, f]) => f.enabled !== false)
    .map(([name, f]) => ({
      name,
      verifyJwt: f.verify_jwt ?? true,
      entrypoint: resolve(supabaseDir, f.entrypoint ?? `./functions/${name}/index.ts`),
    }));
}

let loadGeneration = 0;

/** Imports an entrypoint and returns the handler it passes to `Deno.serve`. */
async function captureHandler(entrypoint: string): Promise<FetchHandler> {
  let captured: FetchHandler | undefined;
  const original = Deno.serve;
  // deno-lint-ignore no-explicit-any
  (Deno as any).serve = (...args: any[]) => {
    const last = args[args.length - 1];
    captured = typeof last === "function" ? last : last?.handler;
    return { finished: Promise.resolve(), shutdown: () => Promise.resolve(), ref() {}, unref() {} };
  };
  try {
    // A fresh module instance per stack, so each one reads the environment it was started with.
    await import(`${pathToFileURL(entrypoint).href}?stack=${++loadGeneration}`);
  } finally {
    // deno-lint-ignore no-explicit-any
    (Deno as any).serve = original;
  }
  if (!captured) throw new Error(`${entrypoint} did not call Deno.serve`);
  return captured;
}

export interface Gateway {
  functions: FunctionConfig[];
  handle(req: Request, path: string): Promise<Response>;
  /** Resolves when every `EdgeRuntime.waitUntil` promise has settled. */
  drain(): Promise<void>;
}

export async function createGateway(opts: {
  configFile: string;
  verifier: JwtVerifier;
  extraFunctions?: FunctionConfig[];
}): Promise<Gateway> {
  const pending = new Set<Promise<unknown>>();
  (globalThis as Record<string, unknown>).EdgeRuntime = {
    waitUntil(promise: Promise<unknown>) {
      const tracked = Promise.resolve(promise).catch((err) =>
        log.error("waitUntil task failed", { error: String(err) })
      ).finally(() => pending.delete(tracked));
      pending.add(tracked);
    },
  };

  const functions = [
    ...await readFunctionConfig(opts.configFile),
    ...(opts.extraFunctions ?? []),
  ];
  const handlers = new Map<string, { config: FunctionConfig; handler: FetchHandler }>();
  for (const config of functions) {
    handlers.set(config.name, { config, handler: await captureHandler(config.entrypoint) });
  }

  async function handle(req: Request, path: string): Promise<Response> {
    const name = path.split("/").filter(Boolean)[0] ?? "";
    const entry = handlers.get(name);
    const requestId = newRequestId(req);
    const cors = { ...corsHeaders(req) };
    if (!entry) {
      return errorResponse(
        404,
        "function_not_found",
        `No function named "${name}".`,
        requestId,
        undefined,
        cors,
      );
    }
    if (entry.config.verifyJwt && req.method !== "OPTIONS") {
      const token = /^Bearer\s+(\S+)$/i.exec(req.headers.get("authorization") ?? "")?.[1];
      try {
        if (!token) {
          throw new HttpError(
            401,
            "missing_token",
            "An Authorization: Bearer <token> header is required.",
          );
        }
        await opts.verifier.verify(token);
      } catch (err) {
        const e = err instanceof HttpError
          ? err
          : new HttpError(401, "invalid_token", "The access token is invalid.");
        return errorResponse(e.status, e.code, e.message, requestId, undefined, cors);
      }
    }
    // Supabase hands the function a URL whose path starts with /<name>.
    const inner = new URL(req.url);
    inner.pathname = path;
    const headers = new Headers(req.headers);
    if (!headers.has("x-request-id")) headers.set("x-request-id", requestId);
    const forwarded = new Request(inner, {
      method: req.method,
      headers,
      body: req.body,
    });
    try {
      return await entry.handler(forwarded);
    } catch (err) {
      log.error("function crashed", { fn: name, request_id: requestId, error: String(err) });
      return errorResponse(
        500,
        "internal_error",
        "The function crashed.",
        requestId,
        undefined,
        cors,
      );
    }
  }

  return {
    functions,
    handle,
    async drain() {
      while (pending.size > 0) await Promise.allSettled([...pending]);
    },
  };
}
