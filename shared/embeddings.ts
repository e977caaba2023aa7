/**
 * Text embeddings, 384 dimensions, from the first of:
 * - Hugging Face Inference feature extraction (a sentence-transformers model by default) when
 *   HF_TOKEN is set;
 * - the Edge Runtime's built-in `Supabase.ai` session with `gte-small` when the function runs on
 *   Supabase (the runtime provides it; nothing to configure);
 * - otherwise a deterministic local embedder (development and tests), so the product works
 *   without external services.
 * Every vector is stored with the id of the model that made it, and queries must be embedded with
 * the same model.
 */
import { InferenceClient } from "@huggingface/inference";

import {
  DEFAULT_HF_MODEL,
  EMBEDDING_DIMENSIONS,
  GTE_SMALL_MAX_CHARS,
  LOCAL_MODEL,
  SUPABASE_AI_MODEL,
  type SupabaseAi,
  supabaseAiOf,
} from "./embedder_choice.ts";

export * from "./embedder_choice.ts";

export interface Embedder {
  /** Stored with every vector. */
  model: string;
  dimensions: number;
  embed(texts: string[]): Promise<number[][]>;
  /**
   * The model runs inside this request (Supabase.ai): on the Edge Runtime its time is the
   * request's CPU, not waiting, so an indexing step budgets it as CPU (shared/indexing/step.ts).
   */
  inProcess?: boolean;
  /** The longest input the model reads, in characters; longer inputs are cut to it. */
  maxInputChars?: number;
}

/** The embedding service failed; retrying later may help. */
export class EmbeddingError extends Error {
  override name = "EmbeddingError";
}

function normalize(v: number[]): number[] {
  const norm = Math.sqrt(v.reduce((s, x) => s + x * x, 0));
  return norm === 0 ? v : v.map((x) => x / norm);
}

function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/**
 * Feature hashing of lower-cased words and word bigrams into 384 signed buckets, L2-normalised:
 * texts sharing words get a high cosine similarity. Deterministic and dependency-free.
 */
export function createLocalEmbedder(): Embedder {
  const embedOne = (text: string): number[] => {
    const v = new Array<number>(EMBEDDING_DIMENSIONS).fill(0);
    const words = text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
    const features = [...words, ...words.slice(1).map((w, i) => `${words[i]} ${w}`)];
    for (const f of features) {
      const h = fnv1a(f);
      v[h % EMBEDDING_DIMENSIONS] += (h & 0x80000000) ? -1 : 1;
    }
    return normalize(v);
  };
  return {
    model: LOCAL_MODEL,
    dimensions: EMBEDDING_DIMENSIONS,
    embed: (texts) => Promise.resolve(texts.map(embedOne)),
  };
}

export interface HfOptions {
  token: string;
  model?: string;
  /** A dedicated endpoint URL (Inference Endpoints, or a test server) instead of the HF router. */
  endpointUrl?: string;
  /** Per request; a step must finish well inside the Edge wall-clock limit. */
  timeoutMs?: number;
}

/** Mean-pools token vectors when the endpoint returns them per token. */
function toSentenceVector(raw: unknown): number[] {
  if (Array.isArray(raw) && typeof raw[0] === "number") return raw as number[];
  if (Array.isArray(raw) && Array.isArray(raw[0]) && typeof raw[0][0] === "number") {
    const tokens = raw as number[][];
    return tokens[0].map((_, d) => tokens.reduce((s, t) => s + t[d], 0) / tokens.length);
  }
  throw new EmbeddingError("the embedding service returned an unexpected shape");
}

export function createHfEmbedder(opts: HfOptions): Embedder {
  const model = opts.model ?? DEFAULT_HF_MODEL;
  const base = new InferenceClient(opts.token);
  const client = opts.endpointUrl ? base.endpoint(opts.endpointUrl) : base;
  return {
    model,
    dimensions: EMBEDDING_DIMENSIONS,
    async embed(texts) {
      if (texts.length === 0) return [];
      let out: unknown;
      try {
        out = await client.featureExtraction(
          opts.endpointUrl
            ? { model, inputs: texts }
            : { model, inputs: texts, provider: "hf-inference" },
          // The client would otherwise retry a 503 at once, forever; the worker retries with backoff.
          { retry_on_error: false, signal: AbortSignal.timeout(opts.timeoutMs ?? 30_000) },
        );
      } catch (err) {
        const status = (err as { httpResponse?: { status?: number } }).httpResponse?.status;
        throw new EmbeddingError(
          `the embedding service is unavailable${status ? ` (HTTP ${status})` : ""}`,
          { cause: err },
        );
      }
      if (!Array.isArray(out) || out.length !== texts.length) {
        throw new EmbeddingError("the embedding service returned the wrong number of vectors");
      }
      const vectors = out.map(toSentenceVector);
      if (vectors.some((v) => v.length !== EMBEDDING_DIMENSIONS)) {
        throw new EmbeddingError(
          `the embedding model must return ${EMBEDDING_DIMENSIONS} dimensions, got ${
            vectors[0]?.length
          }`,
        );
      }
      return vectors.map(normalize);
    },
  };
}

/**
 * `text` cut to at most `maxChars` characters, at the last space of its final 64 characters when
 * there is one (so the model does not read half a word). Shorter texts are returned as they are.
 */
export function cutToModelInput(text: string, maxChars: number): string {
  if (text.length <= maxChars) return text;
  const cut = text.slice(0, maxChars);
  const space = cut.lastIndexOf(" ");
  return space >= maxChars - 64 && space > 0 ? cut.slice(0, space) : cut;
}

/**
 * Embeds with the Edge Runtime's built-in gte-small model (384 dimensions, mean-pooled), one
 * `session.run` per text as Supabase's own examples do. Its input limit is 512 tokens: longer
 * texts are cut to GTE_SMALL_MAX_CHARS here, so what the vector stands for is what we chose,
 * not what the runtime happens to drop. Indexing chunks small enough for it (step.ts).
 */
export function createSupabaseAiEmbedder(
  ai: SupabaseAi,
  opts: { maxInputChars?: number } = {},
): Embedder {
  const session = new ai.Session("gte-small");
  const maxInputChars = opts.maxInputChars ?? GTE_SMALL_MAX_CHARS;
  return {
    model: SUPABASE_AI_MODEL,
    dimensions: EMBEDDING_DIMENSIONS,
    inProcess: true,
    maxInputChars,
    async embed(texts) {
      const out: number[][] = [];
      for (const text of texts) {
        let raw: unknown;
        try {
          raw = await session.run(cutToModelInput(text, maxInputChars), {
            mean_pool: true,
            normalize: true,
          });
        } catch (err) {
          throw new EmbeddingError("the built-in embedding model failed", { cause: err });
        }
        const vector = Array.from(raw as ArrayLike<number>);
        if (vector.length !== EMBEDDING_DIMENSIONS || vector.some((x) => typeof x !== "number")) {
          throw new EmbeddingError(
            `gte-small returned ${vector.length} dimensions, expected ${EMBEDDING_DIMENSIONS}`,
          );
        }
        out.push(vector);
      }
      return out;
    },
  };
}

/** HF when a token is configured, else Supabase.ai on Supabase, else the local embedder. */
export function embedderFromEnv(
  env: Record<string, string | undefined>,
  runtime: unknown = globalThis,
): Embedder {
  const ai = supabaseAiOf(runtime);
  if (env.HF_TOKEN) {
    return createHfEmbedder({
      token: env.HF_TOKEN,
      model: env.EMBEDDING_MODEL || undefined,
      endpointUrl: env.HF_ENDPOINT_URL || undefined,
    });
  }
  if (ai) return createSupabaseAiEmbedder(ai);
  return createLocalEmbedder();
}

/** pgvector's text form. */
export function toVectorLiteral(v: number[]): string {
  return `[${v.join(",")}]`;
}
