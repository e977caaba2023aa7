/**
 * docs/openapi.json against the routes the functions serve: it is what `deno task openapi` writes
 * now (`--check`), it names every route of every function and no route that does not exist, every
 * route says who may call it and what it answers, each example validates against the route's own
 * schema, and the `openapi` function serves the document.
 */
import assert from "node:assert/strict";
import { z } from "zod";
import {
  buildDocument,
  documentText,
  functionNames,
  loadFunctionRoutes,
  openApiPath,
} from "../../openapi/document.ts";
import { createOpenapiHandler } from "../../functions/openapi/handler.ts";
import { openapiDepsFromEnv } from "../../functions/openapi/deps.ts";
import { json, serve } from "../../shared/http.ts";

const DOC_FILE = new URL("../../docs/openapi.json", import.meta.url);
const METHODS = ["get", "post", "put", "patch", "delete"];

// deno-lint-ignore no-explicit-any
type Json = any;

async function written(): Promise<Json> {
  return JSON.parse(await Deno.readTextFile(DOC_FILE));
}

function operationsOf(doc: Json): string[] {
  return Object.entries(doc.paths as Record<string, Json>).flatMap(([path, item]) =>
    Object.keys(item).filter((m) => METHODS.includes(m)).map((m) => `${m.toUpperCase()} ${path}`)
  ).sort();
}

Deno.test("`deno task openapi --check` passes: docs/openapi.json is what the routes generate", async () => {
  const check = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "openapi/generate.ts", "--check"],
    cwd: new URL("../../", import.meta.url).pathname,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(check.code, 0, new TextDecoder().decode(check.stderr));
  assert.equal(await Deno.readTextFile(DOC_FILE), await documentText());
});

Deno.test("docs/openapi.json names every routed route and no other", async () => {
  const routed = (await loadFunctionRoutes()).flatMap((fn) =>
    fn.routes.map((r) => `${r.method} ${openApiPath(fn.name, r.pattern)}`)
  ).sort();
  const documented = operationsOf(await written());
  assert.deepEqual(
    documented.filter((op) => !routed.includes(op)),
    [],
    "documented but not routed",
  );
  assert.deepEqual(routed.filter((op) => !documented.includes(op)), [], "routed, not documented");
  assert.ok(routed.length >= 40, `only ${routed.length} routes found`);
});

Deno.test("every function folder is declared in supabase/config.toml, so its routes are read", async () => {
  const folders: string[] = [];
  for await (const e of Deno.readDir(new URL("../../functions/", import.meta.url))) {
    if (e.isDirectory) folders.push(e.name);
  }
  assert.deepEqual(folders.sort(), await functionNames());
});

Deno.test("`buildDocument()` refuses a route without a doc, and a new route appears in it", () => {
  const handler = () => json({});
  assert.throws(
    () => buildDocument([{ name: "demo", routes: [{ method: "GET", pattern: "/:id", handler }] }]),
    /GET \/demo\/\{id\} has no doc/,
  );
  const doc = buildDocument([{
    name: "demo",
    routes: [{
      method: "POST",
      pattern: "/:id/things",
      handler,
      doc: {
        summary: "Make a thing",
        auth: "user",
        body: z.object({ name: z.string() }),
        responses: { 201: { description: "Made", schema: z.object({ id: z.string() }) } },
        errors: { 409: ["thing_exists"] },
      },
    }],
  }]);
  const op = doc.paths as Json;
  const post = op["/demo/{id}/things"].post;
  assert.equal(post.summary, "Make a thing");
  assert.deepEqual(post.security, [{ userJwt: [] }]);
  assert.deepEqual(post.parameters[0], {
    name: "id",
    in: "path",
    required: true,
    schema: { type: "string", format: "uuid" },
  });
  assert.ok(post.requestBody.content["application/json"].schema.properties.name);
  assert.deepEqual(post["x-error-codes"][409], ["thing_exists"]);
  assert.ok(post["x-error-codes"][401].includes("missing_token"));
  assert.ok(post["x-error-codes"][400].includes("invalid_json"));
});

Deno.test("every operation has auth, a success answer, its error codes and its path parameters", async () => {
  const doc = await written();
  const problems: string[] = [];
  for (const [path, item] of Object.entries(doc.paths as Record<string, Json>)) {
    for (const [method, op] of Object.entries(item as Record<string, Json>)) {
      const name = `${method.toUpperCase()} ${path}`;
      if (!Array.isArray(op.security)) problems.push(`${name}: no security`);
      const statuses = Object.keys(op.responses);
      if (!statuses.some((s) => s.startsWith("2"))) problems.push(`${name}: no 2xx answer`);
      for (const s of statuses.filter((s) => Number(s) >= 400)) {
        const codes = op["x-error-codes"][s];
        if (!codes?.length) problems.push(`${name}: ${s} lists no code`);
      }
      for (const param of path.match(/\{(\w+)\}/g) ?? []) {
        const want = param.slice(1, -1);
        if (!op.parameters.some((p: Json) => p.in === "path" && p.name === want)) {
          problems.push(`${name}: no path parameter ${want}`);
        }
      }
      const listed = op.responses["200"]?.content?.["application/json"]?.schema;
      if (listed?.properties?.items && !listed.properties.next_offset) {
        problems.push(`${name}: a list without next_offset`);
      }
      if (listed?.properties?.items) {
        for (const q of ["limit", "offset"]) {
          if (!op.parameters.some((p: Json) => p.in === "query" && p.name === q)) {
            problems.push(`${name}: a list without ?${q}=`);
          }
        }
      }
    }
  }
  assert.deepEqual(problems, []);
  const chat = doc.paths["/chat/sessions/{id}/messages"].post;
  assert.ok(chat.responses["200"].content["text/event-stream"], "chat documents its SSE stream");
  const events = JSON.stringify(chat.responses["200"].content["text/event-stream"].schema);
  for (const e of ["meta", "delta", "done", "error"]) assert.match(events, new RegExp(`"${e}"`));
  const upload = doc.paths["/workbenches/{id}/files"].post;
  assert.ok(upload.requestBody.content["multipart/form-data"], "uploads are multipart");
  assert.deepEqual(doc.paths["/webhooks/razorpay"].post.security, [{ webhookSignature: [] }]);
  assert.deepEqual(doc.paths["/index-worker"].post.security, [{ serviceKey: [] }]);
  assert.deepEqual(doc.paths["/metrics"].get.security, [{ serviceKey: [] }, { metricsToken: [] }]);
  assert.ok(doc.paths["/metrics"].get.responses["200"].content["text/plain"]);
  const inbound = doc.paths["/channels/manychat/{channel_id}"].post;
  assert.deepEqual(inbound.security, [{ channelSecret: [] }]);
  assert.deepEqual(inbound["x-error-codes"][401], ["invalid_channel_secret"]);
  assert.equal(doc.components.securitySchemes.channelSecret.name, "x-channel-secret");
  assert.deepEqual(doc.paths["/admin/tenants"].get.security, [{ userJwt: [] }, { serviceKey: [] }]);
  assert.equal(
    doc.paths["/me"].delete.requestBody.required,
    false,
    "DELETE /me's body is optional",
  );
  assert.deepEqual(Object.keys(doc.paths["/me"].delete.responses).filter((s) => s < "400"), [
    "200",
    "202",
  ]);
});

Deno.test("every example in docs/openapi.json validates against its route's schema", async () => {
  const doc = await written();
  const routes = new Map(
    (await loadFunctionRoutes()).flatMap((fn) =>
      fn.routes.map((r) => [`${r.method.toLowerCase()} ${openApiPath(fn.name, r.pattern)}`, r])
    ),
  );
  let examples = 0;
  const wrong: string[] = [];
  for (const [path, item] of Object.entries(doc.paths as Record<string, Json>)) {
    for (const [method, op] of Object.entries(item as Record<string, Json>)) {
      const route = routes.get(`${method} ${path}`)!;
      const body = op.requestBody?.content?.["application/json"];
      if (body && "example" in body) {
        examples++;
        const parsed = route.doc!.body!.safeParse(body.example);
        if (!parsed.success) wrong.push(`${method} ${path} body: ${parsed.error.message}`);
      }
      for (const [status, res] of Object.entries(op.responses as Record<string, Json>)) {
        const content = res.content?.["application/json"];
        if (!content || !("example" in content)) continue;
        examples++;
        const schema = route.doc!.responses[Number(status)]?.schema;
        const parsed = schema?.safeParse(content.example);
        if (!parsed?.success) wrong.push(`${method} ${path} ${status}: ${parsed?.error?.message}`);
      }
    }
  }
  assert.deepEqual(wrong, []);
  assert.ok(examples >= 10, `only ${examples} examples`);
});

Deno.test("the `openapi` function serves docs/openapi.json without a login, with CORS", async () => {
  const handle = serve("openapi", createOpenapiHandler(openapiDepsFromEnv()));
  const res = await handle(new Request("http://x/functions/v1/openapi"));
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("access-control-allow-origin"), "*");
  assert.deepEqual(await res.json(), await written());
});
