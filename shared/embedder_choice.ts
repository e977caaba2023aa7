/**
 * Which embedder a function uses and the id of its model, without loading any embedding SDK (so
 * `readyz` can say it without bundling the Hugging Face client). shared/embeddings.ts builds it.
 */

export const EMBEDDING_DIMENSIONS = 384;
export const DEFAULT_HF_MODEL = "sentence-transformers/all-MiniLM-L6-v2";
export const LOCAL_MODEL = "local/hashed-bag-of-words-384-v1";
export const SUPABASE_AI_MODEL = "supabase/gte-small";

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
