/**
 * Builds the OpenAPI 3.1 document of every function from the routes they serve: each function's
 * router (`create…Handler()` in its handler.ts) lists its routes, and each route carries its doc
 * (shared/route_doc.ts) with the zod schemas its handler validates with, converted here with zod's
 * `z.toJSONSchema()`. Functions are those supabase/config.toml declares, so a new function and a
 * new route are in the document without a list to keep in step.
 *
 * This lives outside functions/, shared/ and local/ because it imports every function's handler
 * (which nothing in those folders may do); `deno task openapi` (openapi/generate.ts) writes the
 * result to docs/openapi.json, which the `openapi` function serves.
 */
import { parse as parseToml } from "smol-toml";
import { z } from "zod";
import type { Route, RoutedHandler } from "../shared/http.ts";
import { suspensionExempt } from "../shared/auth.ts";
import { ErrorEnvelope, type RouteDoc } from "../shared/route_doc.ts";
import { PAGE_DESCRIPTION, SSE_DESCRIPTION } from "./texts.ts";

const ROOT = new URL("../", import.meta.url);

export interface FunctionRoutes {
  name: string;
  routes: readonly Route[];
}

type Json = Record<string, unknown>;

/**
 * A stand-in for any function's deps: routes are built without touching their deps (they use them
 * when a request comes), so the generator can list them without a database or keys.
 */
// deno-lint-ignore no-explicit-any
const STUB: any = new Proxy(function () {}, {
  get: (_t, key) => (key === "then" ? undefined : STUB),
  apply: () => STUB,
});

/** The functions supabase/config.toml declares (those with an entrypoint under functions/). */
export async function functionNames(): Promise<string[]> {
  const config = parseToml(
    await Deno.readTextFile(new URL("supabase/config.toml", ROOT)),
  ) as { functions?: Record<string, { entrypoint?: string }> };
  return Object.entries(config.functions ?? {})
    .filter(([name, f]) => f.entrypoint === `../functions/${name}/index.ts`)
    .map(([name]) => name)
    .sort();
}

/** Every declared function with the routes its router serves. */
export async function loadFunctionRoutes(): Promise<FunctionRoutes[]> {
  const out: FunctionRoutes[] = [];
  for (const name of await functionNames()) {
    const mod = await import(new URL(`functions/${name}/handler.ts`, ROOT).href);
    const create = Object.entries(mod).find(([k, v]) =>
      /^create\w*Handler$/.test(k) && typeof v === "function"
    )?.[1] as ((deps: unknown) => RoutedHandler) | undefined;
    if (!create) throw new Error(`functions/${name}/handler.ts exports no create…Handler`);
    const handler = create(STUB);
    if (!Array.isArray(handler.routes)) {
      throw new Error(`functions/${name}: the handler is not a router() (no routes)`);
    }
    out.push({ name, routes: handler.routes });
  }
  return out;
}

/** `/companies/:id/members` → `/companies/{id}/members`; the function's root has no slash. */
export function openApiPath(fn: string, pattern: string): string {
  const rest = pattern.split("/").filter(Boolean).map((s) =>
    s.startsWith(":") ? `{${s.slice(1)}}` : s
  );
  return "/" + [fn, ...rest].join("/");
}

function schemaOf(schema: z.ZodType, io: "input" | "output"): Json {
  const json = z.toJSONSchema(schema, { io, unrepresentable: "any", target: "draft-2020-12" });
  delete (json as Json).$schema;
  if (io === "output") dropClosedObjects(json);
  return json as Json;
}

/**
 * Answers may carry more keys than documented (the old list keys for one release), so answer
 * schemas do not close their objects.
 */
function dropClosedObjects(node: unknown): void {
  if (Array.isArray(node)) return node.forEach(dropClosedObjects);
  if (!node || typeof node !== "object") return;
  const obj = node as Json;
  if (obj.additionalProperties === false) delete obj.additionalProperties;
  for (const value of Object.values(obj)) dropClosedObjects(value);
}

const SECURITY: Record<RouteDoc["auth"], Json[]> = {
  none: [],
  user: [{ userJwt: [] }],
  service: [{ serviceKey: [] }],
  webhook: [{ webhookSignature: [] }],
  optional_service: [{}, { serviceKey: [] }],
  user_or_service: [{ userJwt: [] }, { serviceKey: [] }],
  metrics: [{ serviceKey: [] }, { metricsToken: [] }],
  channel_secret: [{ channelSecret: [] }],
};

/** The error codes every route of a kind can answer, by status. */
function commonErrors(fn: string, route: Route, doc: RouteDoc): Record<number, string[]> {
  const errors: Record<number, string[]> = { 500: ["internal_error"] };
  const add = (status: number, ...codes: string[]) => {
    errors[status] = [...new Set([...(errors[status] ?? []), ...codes])];
  };
  if (doc.auth === "user" || doc.auth === "user_or_service") {
    add(401, "missing_token", "invalid_token", "token_expired", "user_required");
    // A deactivated account (erasure pending) is refused when its request opens (shared/db.ts
    // asUser); a suspended tenant by requireUser, on every route but the export's.
    add(401, "account_deactivated");
    const path = openApiPath(fn, route.pattern);
    if (!suspensionExempt(new Request(`http://localhost/functions/v1${path}`))) {
      add(403, "tenant_suspended");
    }
  }
  if (doc.auth === "channel_secret") add(401, "invalid_channel_secret");
  if (doc.auth === "service" || doc.auth === "metrics") {
    add(401, "missing_token");
    add(403, "forbidden");
  }
  if (doc.query || route.pattern.includes(":")) add(400, "validation_failed");
  if (route.pattern.includes(":")) add(400, "invalid_path");
  if (doc.body) add(400, "validation_failed", "invalid_json");
  if (doc.body || doc.bodyContent) add(413, "payload_too_large");
  for (const [status, codes] of Object.entries(doc.errors ?? {})) add(Number(status), ...codes);
  return errors;
}

function errorResponse(codes: string[]): Json {
  return {
    description: `Error: ${codes.map((c) => `\`${c}\``).join(", ")}`,
    content: {
      "application/json": {
        schema: {
          allOf: [
            { $ref: "#/components/schemas/ErrorEnvelope" },
            {
              type: "object",
              properties: { error: { type: "object", properties: { code: { enum: codes } } } },
            },
          ],
        },
      },
    },
  };
}

function parametersOf(route: Route, doc: RouteDoc): Json[] {
  const params: Json[] = [];
  for (const segment of route.pattern.split("/").filter((s) => s.startsWith(":"))) {
    const name = segment.slice(1);
    params.push({ name, in: "path", required: true, schema: { type: "string", format: "uuid" } });
  }
  if (doc.query) {
    const schema = schemaOf(doc.query, "input") as {
      properties?: Record<string, Json>;
      required?: string[];
    };
    for (const [name, prop] of Object.entries(schema.properties ?? {})) {
      const paging = name === "limit" || name === "offset";
      params.push({
        name,
        in: "query",
        required: schema.required?.includes(name) ?? false,
        schema: prop,
        ...(paging ? { description: PAGE_DESCRIPTION[name] } : {}),
      });
    }
  }
  for (const [name, description] of Object.entries(doc.headers ?? {})) {
    params.push({ name, in: "header", required: false, description, schema: { type: "string" } });
  }
  return params;
}

function operationOf(fn: string, route: Route): Json {
  const doc = route.doc;
  if (!doc) throw new Error(`${route.method} ${openApiPath(fn, route.pattern)} has no doc`);
  const responses: Json = {};
  for (const [status, r] of Object.entries(doc.responses)) {
    const content: Json = {};
    if (r.schema) {
      content["application/json"] = {
        schema: schemaOf(r.schema, "output"),
        ...(r.example !== undefined ? { example: r.example } : {}),
      };
    }
    for (const [type, schema] of Object.entries(r.content ?? {})) {
      content[type] = { schema: schemaOf(schema, "output") };
    }
    responses[status] = {
      description: r.description,
      ...(Object.keys(content).length ? { content } : {}),
    };
  }
  for (const [status, codes] of Object.entries(commonErrors(fn, route, doc))) {
    responses[status] = errorResponse(codes);
  }
  const op: Json = {
    operationId: operationId(fn, route),
    tags: [fn],
    summary: doc.summary,
    ...(doc.description ? { description: doc.description } : {}),
    security: SECURITY[doc.auth],
    parameters: parametersOf(route, doc),
    responses,
    "x-error-codes": commonErrors(fn, route, doc),
  };
  const body: Json = {};
  if (doc.body) {
    body["application/json"] = {
      schema: schemaOf(doc.body, "input"),
      ...(doc.bodyExample !== undefined ? { example: doc.bodyExample } : {}),
    };
  }
  for (const [type, schema] of Object.entries(doc.bodyContent ?? {})) {
    body[type] = { schema: schemaOf(schema, "input") };
  }
  if (Object.keys(body).length) op.requestBody = { required: !doc.bodyOptional, content: body };
  if (fn === "chat" && route.method === "POST" && route.pattern.endsWith("/messages")) {
    op.description = `${doc.description ?? ""}\n\n${SSE_DESCRIPTION}`.trim();
  }
  return op;
}

/** `GET /workbenches/:id/files` → `get_workbenches_id_files`: stable across runs. */
export function operationId(fn: string, route: Route): string {
  const parts = route.pattern.split("/").filter(Boolean).map((s) => s.replace(/^:/, "by_"));
  return [route.method.toLowerCase(), fn.replaceAll("-", "_"), ...parts].join("_")
    .replace(/[^A-Za-z0-9_]/g, "_");
}

/** The OpenAPI 3.1 document of `functions`. */
export function buildDocument(functions: FunctionRoutes[]): Json {
  const paths: Record<string, Json> = {};
  for (const { name, routes } of functions) {
    for (const route of routes) {
      const path = openApiPath(name, route.pattern);
      paths[path] ??= {};
      paths[path][route.method.toLowerCase()] = operationOf(name, route);
    }
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "Analyst Workbench API",
      version: "1",
      description: "The Edge Functions of the workbench, under `<SUPABASE_URL>/functions/v1`. " +
        "Every error answers the envelope `ErrorEnvelope`; every list answers " +
        "`{items, next_offset}`. Generated from the routes' zod schemas: see docs/openapi.md.",
    },
    servers: [
      { url: "http://127.0.0.1:54321/functions/v1", description: "task dev" },
      {
        url: "https://{project_ref}.supabase.co/functions/v1",
        description: "A hosted project",
        variables: { project_ref: { default: "your-project-ref" } },
      },
    ],
    tags: functions.map((f) => ({ name: f.name })),
    paths,
    components: {
      schemas: { ErrorEnvelope: schemaOf(ErrorEnvelope, "output") },
      securitySchemes: {
        userJwt: {
          type: "http",
          scheme: "bearer",
          bearerFormat: "JWT",
          description: "A signed-in user's access token (supabase-js sends it).",
        },
        serviceKey: {
          type: "http",
          scheme: "bearer",
          description: "The project's service key (sb_secret_… or the legacy service_role JWT).",
        },
        webhookSignature: {
          type: "apiKey",
          in: "header",
          name: "x-razorpay-signature",
          description: "HMAC-SHA256 of the raw body with the webhook secret.",
        },
        metricsToken: {
          type: "http",
          scheme: "bearer",
          description: "METRICS_TOKEN, the scraper's token (the service key works too).",
        },
        channelSecret: {
          type: "apiKey",
          in: "header",
          name: "x-channel-secret",
          description: "The channel's inbound secret (mcs_…), shown once when made or rotated.",
        },
      },
    },
  };
}

/** The document as written to docs/openapi.json (stable key order, trailing newline). */
export async function documentText(): Promise<string> {
  return JSON.stringify(buildDocument(await loadFunctionRoutes()), null, 2) + "\n";
}

const AUTH_WORDS: Record<string, string> = {
  userJwt: "user",
  serviceKey: "service key",
  webhookSignature: "webhook signature",
  metricsToken: "metrics token",
  channelSecret: "channel secret",
};

/**
 * The route index of docs/api.md (between its `routes:start` / `routes:end` markers): one line per
 * route with who may call it, what it does and the error codes of its own.
 */
export function routeIndexMarkdown(doc: Json): string {
  const lines: string[] = [];
  for (const [path, item] of Object.entries(doc.paths as Record<string, Json>)) {
    for (const [method, op] of Object.entries(item as Record<string, Json>)) {
      const security = op.security as Json[];
      const who = security.length === 0
        ? "none"
        : security.map((s) => Object.keys(s).map((k) => AUTH_WORDS[k] ?? k)[0] ?? "none")
          .join(" or ");
      const ok = Object.keys(op.responses as Json).filter((s) => Number(s) < 400).join("/");
      const own = Object.entries(op["x-error-codes"] as Record<string, string[]>)
        .flatMap(([s, codes]) =>
          codes.filter((c) => !COMMON_CODES.has(c)).map((c) => `${s} \`${c}\``)
        );
      lines.push(
        `- \`${method.toUpperCase()} ${path}\` (${who}) → ${ok}: ${op.summary}.` +
          (own.length ? ` Errors: ${own.join(", ")}.` : ""),
      );
    }
  }
  return lines.join("\n");
}

const COMMON_CODES = new Set([
  "internal_error",
  "missing_token",
  "invalid_token",
  "token_expired",
  "user_required",
  "account_deactivated",
  "tenant_suspended",
  "validation_failed",
  "invalid_path",
  "invalid_json",
  "payload_too_large",
]);
