import assert from "node:assert/strict";
import { z } from "zod";
import { HttpError, readJson, routePath, router, serve } from "../../shared/http.ts";

Deno.env.set("LOG_LEVEL", "error");

const handler = serve(
  "things",
  router([
    { method: "GET", pattern: "/", handler: () => Response.json({ list: true }) },
    {
      method: "POST",
      pattern: "/:id/parts",
      handler: async (req, ctx) => {
        const body = await readJson(req, z.object({ name: z.string().min(1) }));
        return Response.json({ id: ctx.params.id, name: body.name }, { status: 201 });
      },
    },
    {
      method: "GET",
      pattern: "/boom",
      handler: () => {
        throw new Error("secret internals");
      },
    },
    {
      method: "GET",
      pattern: "/limited",
      handler: () => {
        throw new HttpError(429, "rate_limited", "Slow down.", undefined, { "retry-after": "7" });
      },
    },
  ]),
);

const call = (path: string, init?: RequestInit) =>
  handler(new Request(`http://x/things${path}`, init));

Deno.test("routePath() strips everything up to the function name", () => {
  assert.equal(routePath(new URL("http://x/things/a/b"), "things"), "/a/b");
  assert.equal(routePath(new URL("http://x/functions/v1/things"), "things"), "/");
});

Deno.test("serve() routes by method and path and passes params", async () => {
  const res = await call("/abc/parts", { method: "POST", body: JSON.stringify({ name: "n" }) });
  assert.equal(res.status, 201);
  assert.deepEqual(await res.json(), { id: "abc", name: "n" });
  assert.match(res.headers.get("x-request-id") ?? "", /^[0-9a-f-]{36}$/);
});

Deno.test("serve() answers validation errors with 400 and the zod issues", async () => {
  const res = await call("/abc/parts", { method: "POST", body: JSON.stringify({ name: "" }) });
  const body = await res.json();
  assert.equal(res.status, 400);
  assert.equal(body.error.code, "validation_failed");
  assert.equal(body.error.details[0].path, "name");
  assert.equal(body.error.request_id, res.headers.get("x-request-id"));
});

Deno.test("serve() answers bad JSON with 400 invalid_json", async () => {
  const res = await call("/abc/parts", { method: "POST", body: "{nope" });
  assert.equal(res.status, 400);
  assert.equal((await res.json()).error.code, "invalid_json");
});

Deno.test("serve() answers unknown paths with 404 and wrong methods with 405", async () => {
  const missing = await call("/nope/nope/nope");
  assert.equal(missing.status, 404);
  assert.equal((await missing.json()).error.code, "not_found");
  const wrong = await call("/", { method: "DELETE" });
  assert.equal(wrong.status, 405);
  assert.equal(wrong.headers.get("allow"), "GET");
  await wrong.body?.cancel();
});

Deno.test("serve() hides unexpected errors behind a 500 with a request id", async () => {
  const res = await call("/boom", { headers: { "x-request-id": "trace-12345678" } });
  const body = await res.json();
  assert.equal(res.status, 500);
  assert.equal(body.error.code, "internal_error");
  assert.equal(body.error.request_id, "trace-12345678");
  assert.ok(!JSON.stringify(body).includes("secret internals"));
});

Deno.test("serve() keeps headers set by an HttpError, e.g. Retry-After", async () => {
  const res = await call("/limited");
  assert.equal(res.status, 429);
  assert.equal(res.headers.get("retry-after"), "7");
  await res.body?.cancel();
});

Deno.test("serve() answers OPTIONS preflight with 204 and CORS headers", async () => {
  const res = await call("/abc/parts", { method: "OPTIONS" });
  assert.equal(res.status, 204);
  assert.equal(res.headers.get("access-control-allow-origin"), "*");
  assert.match(res.headers.get("access-control-allow-headers") ?? "", /idempotency-key/);
});

Deno.test("serve() echoes only configured origins when ALLOWED_ORIGINS is set", async () => {
  Deno.env.set("ALLOWED_ORIGINS", "https://app.example.com");
  try {
    const ok = await call("/", { headers: { origin: "https://app.example.com" } });
    assert.equal(ok.headers.get("access-control-allow-origin"), "https://app.example.com");
    await ok.body?.cancel();
    const other = await call("/", { headers: { origin: "https://evil.example.com" } });
    assert.equal(other.headers.get("access-control-allow-origin"), "https://app.example.com");
    await other.body?.cancel();
  } finally {
    Deno.env.delete("ALLOWED_ORIGINS");
  }
});

Deno.test("readJson() refuses a body over 1 MB with 413 while reading it", async () => {
  // A stream without Content-Length: the limit is counted while reading.
  const chunk = new TextEncoder().encode(`"${"x".repeat(64 * 1024)}",`);
  let sent = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent === 0) controller.enqueue(new TextEncoder().encode('{"name": "a", "pad": ['));
      sent++;
      if (sent > 64) controller.close(); // ~4 MB if read to the end
      else controller.enqueue(chunk);
    },
  });
  const res = await call("/1/parts", { method: "POST", body });
  assert.equal(res.status, 413);
  assert.equal((await res.json()).error.code, "payload_too_large");
  assert.ok(sent < 40, `stopped reading early (${sent} chunks pulled)`);
});

Deno.test("readJson() refuses a declared Content-Length over 1 MB before reading", async () => {
  const res = await call("/1/parts", {
    method: "POST",
    headers: { "content-length": String(2 * 1024 * 1024) },
    body: "{}",
  });
  assert.equal(res.status, 413);
  await res.body?.cancel();
});

Deno.test("malformed percent-encoding in a path parameter is a 400, not a 500", async () => {
  const res = await call("/%E0%A4%A/parts", { method: "POST", body: '{"name": "x"}' });
  assert.equal(res.status, 400);
  assert.equal((await res.json()).error.code, "invalid_path");
});
