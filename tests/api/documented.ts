/**
 * Checks a real answer against what docs/openapi.json documents for its route: the route's zod
 * answer schema (the one the document was generated from) for a success, and the error envelope
 * with one of the route's documented codes for an error.
 */
import assert from "node:assert/strict";
import { type FunctionRoutes, loadFunctionRoutes, openApiPath } from "../../openapi/document.ts";
import type { Route } from "../../shared/http.ts";
import { ErrorEnvelope } from "../../shared/route_doc.ts";
import { type ApiAnswer, call } from "../helpers/stack.ts";

const document = JSON.parse(
  await Deno.readTextFile(new URL("../../docs/openapi.json", import.meta.url)),
);
let loaded: FunctionRoutes[] | undefined;

function matches(template: string, path: string): boolean {
  const want = template.split("/").filter(Boolean);
  const got = path.split("/").filter(Boolean);
  return want.length === got.length &&
    want.every((w, i) => (w.startsWith("{") && w.endsWith("}")) || w === got[i]);
}

/** The route serving `method path` (a path under /functions/v1, without the query). */
export async function routeFor(
  method: string,
  path: string,
): Promise<{ route: Route; template: string }> {
  loaded ??= await loadFunctionRoutes();
  const clean = "/" + path.split("?")[0].replace(/^\/+/, "");
  for (const fn of loaded) {
    for (const route of fn.routes) {
      const template = openApiPath(fn.name, route.pattern);
      if (route.method === method && matches(template, clean)) return { route, template };
    }
  }
  throw new Error(`no route serves ${method} ${clean}`);
}

/** Fails unless `answer` is what the document says `method path` answers with its status. */
export async function assertDocumented(
  method: string,
  path: string,
  answer: ApiAnswer,
): Promise<void> {
  const { route, template } = await routeFor(method, path);
  const operation = document.paths[template]?.[method.toLowerCase()];
  assert.ok(operation, `docs/openapi.json has ${method} ${template}`);
  const what = `${method} ${path} → ${answer.status}`;
  assert.ok(operation.responses[String(answer.status)], `${what}: the status is documented`);
  if (answer.status >= 400) {
    const parsed = ErrorEnvelope.safeParse(answer.body);
    assert.ok(parsed.success, `${what}: the error envelope`);
    const codes: string[] = operation["x-error-codes"][String(answer.status)] ?? [];
    assert.ok(
      codes.includes(parsed.data.error.code),
      `${what}: code ${parsed.data.error.code} is documented (${codes.join(", ")})`,
    );
    return;
  }
  const schema = route.doc?.responses[answer.status]?.schema;
  if (!schema) {
    assert.ok(answer.body === null || answer.body === "" || answer.body === undefined, what);
    return;
  }
  const parsed = schema.safeParse(answer.body);
  assert.ok(parsed.success, `${what}: ${JSON.stringify(parsed.error?.issues.slice(0, 3))}`);
}

/**
 * `call()` that also checks each answer of the routes under `prefixes` (e.g. `"channels"`)
 * against the document (`assertDocumented`), for the e2e suites of those functions.
 */
export function documentedCall(...prefixes: string[]): typeof call {
  return async (client, path, init = {}) => {
    const answer = await call(client, path, init);
    const clean = path.replace(/^\/+/, "");
    if (
      prefixes.some((p) => clean === p || clean.startsWith(`${p}/`) || clean.startsWith(`${p}?`))
    ) {
      const method = init.method ?? (init.body === undefined ? "GET" : "POST");
      await assertDocumented(method, path, answer);
    }
    return answer;
  };
}
