import assert from "node:assert/strict";
import {
  createHfEmbedder,
  createLocalEmbedder,
  DEFAULT_HF_MODEL,
  embedderFromEnv,
  EMBEDDING_DIMENSIONS,
  EmbeddingError,
  LOCAL_MODEL,
} from "../shared/embeddings.ts";
import { startFakeHf } from "./fakes/huggingface.ts";

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
