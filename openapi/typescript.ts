/**
 * The typed client (openapi/client.ts) from the OpenAPI document: a TypeScript type per operation
 * from its JSON Schemas, and `apiCall()`, a typed `supabase.functions.invoke()`. Written by hand
 * rather than with a generator package because the document uses a small part of JSON Schema (what
 * `z.toJSONSchema()` emits) and the output must stay small enough for a frontend to import.
 */

// deno-lint-ignore no-explicit-any
type Json = any;

const IDENT = /^[A-Za-z_$][\w$]*$/;

/** A TypeScript type for a JSON Schema (the subset zod emits). */
export function tsType(s: Json, indent = ""): string {
  if (s === undefined || s === true || (s && Object.keys(s).length === 0)) return "unknown";
  if (s.$ref) return s.$ref.split("/").pop();
  if ("const" in s) return JSON.stringify(s.const);
  if (s.enum) return s.enum.map((v: unknown) => JSON.stringify(v)).join(" | ");
  const union = s.anyOf ?? s.oneOf;
  if (union) return union.map((u: Json) => wrap(tsType(u, indent))).join(" | ");
  if (s.allOf) return s.allOf.map((u: Json) => wrap(tsType(u, indent))).join(" & ");
  if (Array.isArray(s.type)) {
    return s.type.map((t: string) => tsType({ ...s, type: t }, indent)).join(" | ");
  }
  switch (s.type) {
    case "string":
      return s.format === "binary" ? "Blob" : "string";
    case "number":
    case "integer":
      return "number";
    case "boolean":
      return "boolean";
    case "null":
      return "null";
    case "array":
      return `Array<${tsType(s.items, indent)}>`;
    case "object": {
      const props = Object.entries(s.properties ?? {});
      const extra = s.additionalProperties;
      if (props.length === 0) {
        return extra && extra !== true
          ? `Record<string, ${tsType(extra, indent)}>`
          : "Record<string, unknown>";
      }
      const inner = indent + "  ";
      const required = new Set<string>(s.required ?? []);
      const lines = props.map(([k, v]) => {
        const key = IDENT.test(k) ? k : JSON.stringify(k);
        return `${inner}${key}${required.has(k) ? "" : "?"}: ${tsType(v, inner)};`;
      });
      return `{\n${lines.join("\n")}\n${indent}}`;
    }
  }
  return "unknown";
}

function wrap(t: string): string {
  return /[|&]/.test(t) && !t.startsWith("{") ? `(${t})` : t;
}

function objectOf(fields: [string, Json, boolean][], indent: string): string {
  if (fields.length === 0) return "Record<string, never>";
  const inner = indent + "  ";
  return `{\n${
    fields.map(([k, v, req]) =>
      `${inner}${IDENT.test(k) ? k : JSON.stringify(k)}${req ? "" : "?"}: ${tsType(v, inner)};`
    ).join("\n")
  }\n${indent}}`;
}

/** The source of openapi/client.ts for `doc`. */
export function clientSource(doc: Json): string {
  const ops: string[] = [];
  for (const [path, item] of Object.entries(doc.paths as Record<string, Json>)) {
    for (const [method, op] of Object.entries(item as Record<string, Json>)) {
      const params = (op.parameters as Json[]) ?? [];
      const of = (where: string) =>
        params.filter((p) => p.in === where).map((p) =>
          [p.name, p.schema, p.required] as [string, Json, boolean]
        );
      const body = op.requestBody?.content?.["application/json"]?.schema;
      const multipart = op.requestBody?.content?.["multipart/form-data"];
      const responses = Object.entries(op.responses as Record<string, Json>).map(([status, r]) =>
        `      ${status}: ${
          tsType(r.content?.["application/json"]?.schema ?? { type: "null" }, "      ")
        };`
      );
      ops.push([
        `  /** ${op.summary} */`,
        `  ${JSON.stringify(`${method.toUpperCase()} ${path}`)}: {`,
        `    params: ${objectOf(of("path"), "    ")};`,
        `    query: ${objectOf(of("query"), "    ")};`,
        `    body: ${
          body
            ? tsType(body, "    ") + (op.requestBody.required ? "" : " | undefined")
            : multipart
            ? "FormData"
            : "never"
        };`,
        `    responses: {\n${responses.join("\n")}\n    };`,
        `  };`,
      ].join("\n"));
    }
  }
  return `${HEADER}
export type ErrorEnvelope = ${tsType(doc.components.schemas.ErrorEnvelope)};

export interface Operations {
${ops.join("\n")}
}
${FOOTER}`;
}

const HEADER = `/**
 * Typed calls of the Analyst Workbench API, generated from docs/openapi.json by
 * \`deno task openapi\` (openapi/typescript.ts): do not edit. A frontend imports the types
 * (\`Operations["GET /workbenches"]["responses"][200]\`) or calls through \`apiCall()\`.
 */
`;

const FOOTER = `
export type OperationKey = keyof Operations;

type SuccessStatus<K extends OperationKey> = Extract<keyof Operations[K]["responses"], 200 | 201 | 202 | 204>;

/** The body of a successful answer of operation \`K\`. */
export type Success<K extends OperationKey> = Operations[K]["responses"][SuccessStatus<K>];

/** What \`apiCall()\` sends: the path parameters, the query and the body the operation takes. */
export type CallInit<K extends OperationKey> =
  & ([Operations[K]["params"]] extends [Record<string, never>] ? { params?: never }
    : { params: Operations[K]["params"] })
  & { query?: Operations[K]["query"] }
  & ([Operations[K]["body"]] extends [never] ? { body?: never } : { body: Operations[K]["body"] })
  & { headers?: Record<string, string> };

/** The part of a supabase-js client \`apiCall()\` uses. */
export interface FunctionsInvoker {
  functions: {
    invoke(
      name: string,
      options: { method?: "GET" | "POST" | "PUT" | "PATCH" | "DELETE"; body?: FormData | Record<string, unknown>; headers?: Record<string, string> },
    ): Promise<{ data: unknown; error: unknown; response?: Response }>;
  };
}

export type CallResult<K extends OperationKey> =
  | { status: number; data: Success<K>; error: null }
  | { status: number; data: null; error: ErrorEnvelope["error"] };

/**
 * Calls operation \`op\` ("GET /workbenches/{id}/files") with supabase-js's \`functions.invoke()\`:
 * fills in the path parameters, adds the query, and answers the typed body or the error envelope.
 */
export async function apiCall<K extends OperationKey>(
  client: FunctionsInvoker,
  op: K,
  init: CallInit<K> = {} as CallInit<K>,
): Promise<CallResult<K>> {
  const [method, template] = (op as string).split(" ") as [
    "GET" | "POST" | "PUT" | "PATCH" | "DELETE",
    string,
  ];
  const params = (init.params ?? {}) as Record<string, string>;
  let path = template.slice(1).replace(/\\{(\\w+)\\}/g, (_, k) => encodeURIComponent(params[k]));
  const query = new URLSearchParams();
  for (const [k, v] of Object.entries((init.query ?? {}) as Record<string, unknown>)) {
    if (v !== undefined && v !== null) query.set(k, String(v));
  }
  if ([...query].length) path += \`?\${query}\`;
  const { data, error, response } = await client.functions.invoke(path, {
    method,
    body: init.body as FormData | Record<string, unknown> | undefined,
    headers: init.headers,
  });
  if (!error) {
    return { status: response?.status ?? 200, data: data as Success<K>, error: null };
  }
  const context = (error as { context?: Response }).context;
  const envelope = await context?.json().catch(() => undefined) as ErrorEnvelope | undefined;
  return {
    status: context?.status ?? 0,
    data: null,
    error: envelope?.error ?? { code: "network_error", message: String(error), request_id: "" },
  };
}
`;
