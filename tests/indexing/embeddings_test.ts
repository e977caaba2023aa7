import assert from "node:assert/strict";
import {
  createHfEmbedder,
  createLocalEmbedder,
  cutToModelInput,
  DEFAULT_HF_MODEL,
  embedderChoice,
  embedderFromEnv,
  EMBEDDING_DIMENSIONS,
  EmbeddingError,
  GTE_SMALL_MAX_CHARS,
  LOCAL_MODEL,
  SUPABASE_AI_MODEL,
} from "../../shared/embeddings.ts";
import { startFakeHf } from "../fakes/huggingface.ts";
import { fakeSupabaseAi } from "../fakes/supabase_ai.ts";

const cosine = (a: number[], b: number[]) => a.reduce((s, x, i) => s + x * b[i], 0);

Deno.test("createLocalEmbedder() is deterministic, normalised and puts shared words close", async () => {
  const e = createLocalEmbedder();
  const [a, b, c, a2] = await e.embed([
    "quarterly revenue grew",
    "revenue grew this quarter",
    "the cat sat on the mat",
    "quarterly revenue grew",
  ]);
  assert.equal(a.length, EMBEDDING_DIMENSIONS);
  assert.deepEqual(a, a2);
  assert.ok(Math.abs(cosine(a, a) - 1) < 1e-9);
  assert.ok(cosine(a, b) > cosine(a, c));
});

Deno.test("createHfEmbedder() speaks the feature-extraction wire format with a bearer token", async () => {
  const hf = startFakeHf();
  try {
    const e = createHfEmbedder({ token: "hf_abc", endpointUrl: hf.endpointFor(DEFAULT_HF_MODEL) });
    const vectors = await e.embed(["one", "two"]);
    assert.equal(vectors.length, 2);
    assert.equal(vectors[0].length, EMBEDDING_DIMENSIONS);
    assert.equal(e.model, DEFAULT_HF_MODEL);
    assert.deepEqual(hf.requests.map((r) => [r.path, r.inputs, r.authorization]), [
      [`/hf-inference/models/${DEFAULT_HF_MODEL}/pipeline/feature-extraction`, 2, "Bearer hf_abc"],
    ]);
  } finally {
    await hf.stop();
  }
});

Deno.test("createHfEmbedder() turns a failing service into a readable EmbeddingError", async () => {
  const hf = startFakeHf();
  try {
    hf.failNext(1, 503);
    const e = createHfEmbedder({ token: "hf_abc", endpointUrl: hf.endpointFor(DEFAULT_HF_MODEL) });
    await assert.rejects(e.embed(["x"]), (err: unknown) => {
      assert.ok(err instanceof EmbeddingError);
      assert.equal(err.message, "the embedding service is unavailable (HTTP 503)");
      return true;
    });
  } finally {
    await hf.stop();
  }
});

Deno.test("embedderFromEnv() picks Hugging Face with a token and the local embedder without", () => {
  assert.equal(embedderFromEnv({}).model, LOCAL_MODEL);
  assert.equal(embedderFromEnv({ HF_TOKEN: "hf_x" }).model, DEFAULT_HF_MODEL);
  assert.equal(embedderFromEnv({ HF_TOKEN: "hf_x", EMBEDDING_MODEL: "org/m" }).model, "org/m");
});

/** The stand-in for the Edge Runtime's `Supabase.ai` (gte-small), recording what it was asked. */
const fakeRuntime = (dimensions = EMBEDDING_DIMENSIONS) => fakeSupabaseAi({ dimensions });

Deno.test("embedderFromEnv() uses Supabase.ai gte-small on the Edge Runtime without HF_TOKEN", async () => {
  const { runtime, calls } = fakeRuntime();
  const e = embedderFromEnv({}, runtime);
  assert.equal(e.model, SUPABASE_AI_MODEL);
  const vectors = await e.embed(["revenue", "costs!"]);
  assert.equal(vectors.length, 2);
  assert.equal(vectors[0]!.length, EMBEDDING_DIMENSIONS);
  assert.equal(vectors[0]![7], 1);
  assert.deepEqual(calls.map((c) => [c.model, c.input, c.opts]), [
    ["gte-small", "revenue", { mean_pool: true, normalize: true }],
    ["gte-small", "costs!", { mean_pool: true, normalize: true }],
  ]);
  assert.deepEqual(embedderChoice({}, runtime), { kind: "supabase-ai", model: SUPABASE_AI_MODEL });
});

Deno.test("embedderFromEnv() prefers HF_TOKEN, and falls back to the local embedder off Supabase", () => {
  const { runtime } = fakeRuntime();
  assert.equal(embedderFromEnv({ HF_TOKEN: "t" }, runtime).model, DEFAULT_HF_MODEL);
  assert.equal(embedderFromEnv({}, {}).model, LOCAL_MODEL);
  assert.deepEqual(embedderChoice({}, {}), { kind: "local", model: LOCAL_MODEL });
});

Deno.test("the Supabase.ai embedder fails readably when the model returns the wrong size", async () => {
  const { runtime } = fakeRuntime(768);
  await assert.rejects(
    embedderFromEnv({}, runtime).embed(["x"]),
    (err: unknown) => err instanceof EmbeddingError && /768 dimensions/.test(err.message),
  );
});

Deno.test("the Supabase.ai embedder cuts inputs longer than gte-small's 512 tokens", async () => {
  const { runtime, calls } = fakeRuntime();
  const e = embedderFromEnv({}, runtime);
  assert.equal(GTE_SMALL_MAX_CHARS, 510 * 3, "510 tokens (512 less [CLS] and [SEP]) × 3 chars");
  assert.deepEqual([e.inProcess, e.maxInputChars], [true, GTE_SMALL_MAX_CHARS]);
  const long = "revenue grew again ".repeat(500);
  await e.embed([long, "short text"]);
  const [cut, short] = calls.map((c) => c.input);
  assert.ok(cut!.length <= GTE_SMALL_MAX_CHARS && cut!.length > GTE_SMALL_MAX_CHARS - 64);
  assert.ok(long.startsWith(cut!), "a prefix of the text");
  assert.equal(long[cut!.length], " ", "cut at a word boundary");
  assert.equal(short, "short text", "short inputs as they are");
});

Deno.test("`cutToModelInput()` cuts at a space near the limit, else at the limit", () => {
  assert.equal(cutToModelInput("abc def ghi", 9), "abc def");
  assert.equal(cutToModelInput("x".repeat(200), 100), "x".repeat(100));
  assert.equal(cutToModelInput("a " + "x".repeat(200), 100), "a " + "x".repeat(98));
  assert.equal(cutToModelInput("short", 100), "short");
});
