/**
 * The local Edge Runtime enforces Supabase's limits: a request that takes an isolate past 256 MB of
 * memory or 2 s of CPU gets `546 WORKER_LIMIT` and the next request gets a fresh isolate; every
 * request is logged with its CPU time and memory; `enforce: false` (`--no-limits`) only measures.
 */
import assert from "node:assert/strict";
import { type FunctionRequestLog, SUPABASE_LIMITS } from "../../local/functions_gateway.ts";
import { startTestStack } from "../helpers/stack.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };

async function call(apiUrl: string, path: string) {
  const res = await fetch(`${apiUrl}/functions/v1/hog${path}`);
  return { status: res.status, body: await res.json() };
}

Deno.test(
  "the local Edge Runtime answers 546 WORKER_LIMIT past Supabase's limits",
  opts,
  async (t) => {
    const seen: FunctionRequestLog[] = [];
    const stack = await startTestStack({ onFunctionRequest: (e) => seen.push(e) });
    const last = () => seen.filter((e) => e.fn === "hog").at(-1)!;
    try {
      const { body: first } = await call(stack.apiUrl, "/pid");

      await t.step(
        "a request within the limits is served and logged with cpu_ms and memory",
        async () => {
          const ok = await call(stack.apiUrl, "/buffer?mb=40");
          assert.equal(ok.status, 200);
          assert.equal(last().status, 200);
          assert.ok(last().memory_mb >= 40, `memory_mb ${last().memory_mb} counts the buffers`);
          assert.equal(typeof last().cpu_ms, "number");
          const spin = await call(stack.apiUrl, "/cpu?ms=300");
          assert.equal(spin.status, 200);
          assert.ok(last().cpu_ms >= 200, `cpu_ms ${last().cpu_ms} for a 300 ms spin`);
        },
      );

      await t.step("a function that allocates 300 MB of JS objects gets 546", async () => {
        const res = await call(stack.apiUrl, "/heap?mb=300");
        assert.equal(res.status, 546);
        assert.equal(res.body.code, "WORKER_LIMIT");
        assert.equal(last().status, 546);
      });

      await t.step("the next request is served by a fresh isolate", async () => {
        const res = await call(stack.apiUrl, "/pid");
        assert.equal(res.status, 200);
        assert.notEqual(res.body.pid, first.pid);
      });

      await t.step("a function that holds 300 MB of buffers gets 546", async () => {
        const res = await call(stack.apiUrl, "/buffer?mb=300");
        assert.equal(res.status, 546);
        assert.equal(res.body.code, "WORKER_LIMIT");
      });

      await t.step("a request that spins past 2 s of CPU gets 546", async () => {
        const res = await call(stack.apiUrl, `/cpu?ms=${SUPABASE_LIMITS.cpuMs + 1500}`);
        assert.equal(res.status, 546);
        assert.equal(res.body.code, "WORKER_LIMIT");
        assert.ok(last().cpu_ms > SUPABASE_LIMITS.cpuMs, `cpu_ms ${last().cpu_ms}`);
      });
    } finally {
      await stack.stop();
    }
  },
);

Deno.test(
  "with limits off (--no-limits) the same requests are served and measured",
  opts,
  async () => {
    const seen: FunctionRequestLog[] = [];
    const stack = await startTestStack({
      limits: { ...SUPABASE_LIMITS, enforce: false },
      onFunctionRequest: (e) => seen.push(e),
    });
    try {
      const res = await call(stack.apiUrl, "/heap?mb=300");
      assert.equal(res.status, 200);
      const entry = seen.filter((e) => e.fn === "hog").at(-1)!;
      assert.ok(entry.memory_mb > 256, `memory_mb ${entry.memory_mb} is measured`);
    } finally {
      await stack.stop();
    }
  },
);
