/** The Groq client (shared/llm/groq.ts) against the fake Groq server: answers, streams, errors. */
import assert from "node:assert/strict";
import { HttpError } from "../../shared/http.ts";
import { loadEnv } from "../../shared/env.ts";
import { createGroqClient, LlmCancelled, llmFromConfig, llmFromEnv } from "../../shared/llm/mod.ts";
import { DEFAULT_GROQ_MODEL } from "../../shared/runtime_config.ts";
import { startFakeGroq } from "../../local/fakes/groq.ts";

const messages = [
  { role: "system" as const, content: "rules" },
  { role: "user" as const, content: "hello there" },
];

async function failure(p: Promise<unknown>): Promise<HttpError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof HttpError, String(err));
    return err;
  }
  throw new Error("expected a failure");
}

Deno.test("the Groq client answers, streams and maps failures", async (t) => {
  const groq = startFakeGroq();
  const client = createGroqClient({
    apiKey: "gsk_test",
    baseURL: groq.url,
    timeoutMs: 500,
    maxRetries: 0,
  });
  try {
    await t.step("llmFromEnv() is undefined without a key and uses the default model", () => {
      assert.equal(llmFromEnv({}), undefined);
      assert.equal(llmFromEnv({ GROQ_API_KEY: "gsk_x" })?.model, DEFAULT_GROQ_MODEL);
      assert.equal(llmFromEnv({ GROQ_API_KEY: "gsk_x", GROQ_MODEL: "m" })?.model, "m");
    });

    await t.step("llmFromEnv() and loadEnv() reject a malformed GROQ_* setting by name", () => {
      assert.throws(
        () => llmFromEnv({ GROQ_API_KEY: "gsk_x", GROQ_TIMEOUT_MS: "30s" }),
        /invalid or missing environment variables: GROQ_TIMEOUT_MS/,
      );
      assert.throws(() => llmFromEnv({ GROQ_MAX_RETRIES: "-1" }), /GROQ_MAX_RETRIES/);
      assert.throws(() => llmFromEnv({ GROQ_BASE_URL: "not a url" }), /GROQ_BASE_URL/);
      const base = {
        SUPABASE_URL: "http://127.0.0.1:54321",
        SUPABASE_DB_URL: "postgres://x",
        SUPABASE_ANON_KEY: "anon",
        SUPABASE_SERVICE_ROLE_KEY: "service",
      };
      assert.throws(() => loadEnv({ ...base, GROQ_TIMEOUT_MS: "abc" }), /GROQ_TIMEOUT_MS/);
      const env = loadEnv({ ...base, GROQ_TIMEOUT_MS: "2500", GROQ_MAX_RETRIES: "" });
      assert.equal(env.GROQ_TIMEOUT_MS, 2500);
      assert.equal(env.GROQ_MAX_RETRIES, 1, "an empty value keeps the default");
      assert.equal(llmFromConfig(env), undefined, "no key, no client");
      assert.equal(llmFromConfig({ ...env, GROQ_API_KEY: "gsk_x" })?.model, DEFAULT_GROQ_MODEL);
    });

    await t.step("complete() returns the text, model and usage", async () => {
      groq.setMode("echo");
      const res = await client.complete({ messages });
      assert.equal(res.text, "hello there");
      assert.equal(res.model, DEFAULT_GROQ_MODEL);
      assert.ok(res.usage.prompt_tokens > 0 && res.usage.completion_tokens > 0);
      const req = groq.requests.at(-1)!;
      assert.equal(req.authorization, "Bearer gsk_test");
      assert.deepEqual(req.messages, messages);
      assert.equal(req.stream, false);
    });

    await t.step("stream() yields the deltas and then the usage of the last chunk", async () => {
      groq.setMode("echo");
      const s = await client.stream({ messages });
      let text = "";
      let n = 0;
      for await (const d of s.deltas) {
        text += d;
        n++;
      }
      assert.equal(text, "hello there");
      assert.ok(n > 1, "several deltas");
      assert.ok(s.usage().completion_tokens > 0);
      assert.equal(groq.requests.at(-1)!.stream, true);
    });

    await t.step("a 500 is 502 llm_unavailable with the upstream request id", async () => {
      groq.setMode("fail");
      const e = await failure(client.complete({ messages }));
      assert.equal(e.status, 502);
      assert.equal(e.code, "llm_unavailable");
      assert.match(
        String((e.details as { upstream_request_id: string }).upstream_request_id),
        /^req_/,
      );
      const s = await failure(client.stream({ messages }));
      assert.equal(s.status, 502);
    });

    await t.step("a 429 is 503 llm_rate_limited with Retry-After", async () => {
      groq.setMode("rate_limit", { retryAfter: 9 });
      const e = await failure(client.complete({ messages }));
      assert.equal(e.status, 503);
      assert.equal(e.code, "llm_rate_limited");
      assert.equal(e.headers["retry-after"], "9");
    });

    await t.step("no answer in time is 502 (complete and stream)", async () => {
      groq.setMode("hang");
      const started = Date.now();
      const e = await failure(client.complete({ messages }));
      assert.equal(e.status, 502);
      assert.match(e.message, /in time/);
      assert.ok(Date.now() - started < 3000);
      const s = await failure(client.stream({ messages }));
      assert.equal(s.status, 502);
    });

    await t.step("an error chunk midway through a stream is thrown as 502", async () => {
      groq.setMode("fail_midstream");
      const s = await client.stream({ messages: [{ role: "user", content: "x".repeat(100) }] });
      const e = await failure((async () => {
        for await (const _ of s.deltas) { /* read */ }
      })());
      assert.equal(e.status, 502);
    });

    await t.step(
      "cancel() aborts the request at Groq and the stream says it was cancelled",
      async () => {
        groq.setMode("echo", { chunkDelayMs: 30 });
        const s = await client.stream({ messages: [{ role: "user", content: "y".repeat(100) }] });
        let n = 0;
        for await (const _ of s.deltas) if (++n === 2) s.cancel();
        assert.ok(n < 20, `stopped early (${n} deltas)`);
        assert.equal(s.cancelled(), true);
        const req = groq.requests.at(-1)!;
        for (let i = 0; i < 40 && !req.aborted; i++) await new Promise((r) => setTimeout(r, 25));
        assert.equal(req.aborted, true, "the fake saw the request aborted");
      },
    );

    await t.step("a stream cut by its timeout is 502, not a quiet end", async () => {
      groq.setMode("echo", { chunkDelayMs: 60 });
      const s = await client.stream({ messages: [{ role: "user", content: "z".repeat(100) }] });
      const e = await failure((async () => {
        for await (const _ of s.deltas) { /* read */ }
      })());
      assert.equal(e.status, 502);
      assert.match(e.message, /in time/);
      assert.equal(s.cancelled(), false);
    });

    await t.step("complete() with an aborted signal throws LlmCancelled", async () => {
      groq.setMode("echo", { delayMs: 300 });
      const signal = AbortSignal.timeout(50);
      await assert.rejects(client.complete({ messages, signal }), LlmCancelled);
      groq.setMode("echo");
    });
  } finally {
    await groq.stop();
  }
});
