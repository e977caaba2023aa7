/**
 * Which embedder a function uses and the id of its model, without loading any embedding SDK (so
 * `readyz` can say it without bundling the Hugging Face client). shared/embeddings.ts builds it.
 */

export const EMBEDDING_DIMENSIONS = 384;
export const DEFAULT_HF_MODEL = "sentence-transformers/all-MiniLM-L6-v2";
export const LOCAL_MODEL = "local/hashed-bag-of-words-384-v1";
export const SUPABASE_AI_MODEL = "supabase/gte-small";

/** gte-small reads at most 512 tokens, two of them its own ([CLS] and [SEP]). */
export const GTE_SMALL_MAX_TOKENS = 512;
/**
 * No tokenizer ships with the functions, so inputs are cut by characters: 3 per token, below the
 * ~4 of English prose in gte-small's WordPiece vocabulary, because figures, codes and table rows
 * split into more tokens per character. Conservative: a cut input is at most 510 tokens unless
 * the text averages under 3 characters per token.
 */
export const GTE_SMALL_CHARS_PER_TOKEN = 3;
export const GTE_SMALL_MAX_CHARS = (GTE_SMALL_MAX_TOKENS - 2) * GTE_SMALL_CHARS_PER_TOKEN;

/** The part of the Edge Runtime's `Supabase.ai` API used here. */
export interface SupabaseAi {
  Session: new (model: string) => {
    run(input: string, opts: { mean_pool: boolean; normalize: boolean }): Promise<unknown>;
  };
}

/** The runtime's `Supabase.ai`, when the function runs on Supabase's Edge Runtime. */
export function supabaseAiOf(runtime: unknown = globalThis): SupabaseAi | undefined {
  const ai = (runtime as { Supabase?: { ai?: Partial<SupabaseAi> } }).Supabase?.ai;
  return typeof ai?.Session === "function" ? ai as SupabaseAi : undefined;
}

export type EmbedderKind = "huggingface" | "supabase-ai" | "local";

/** Which embedder `embedderFromEnv` picks, and its model id (stored with every vector). */
export function embedderChoice(
  env: Record<string, string | undefined>,
  runtime: unknown = globalThis,
): { kind: EmbedderKind; model: string } {
  if (env.HF_TOKEN) return { kind: "huggingface", model: env.EMBEDDING_MODEL || DEFAULT_HF_MODEL };
  if (supabaseAiOf(runtime)) return { kind: "supabase-ai", model: SUPABASE_AI_MODEL };
  return { kind: "local", model: LOCAL_MODEL };
}
