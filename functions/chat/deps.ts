/** What the chat routes need, and how index.ts builds it from the environment. */
import { type JwtVerifier, verifierFromEnv } from "../../shared/auth.ts";
import type { Sql } from "../../shared/db.ts";
import { type Embedder, embedderFromEnv } from "../../shared/embeddings.ts";
import type { Env } from "../../shared/env.ts";
import { type LlmClient, llmFromConfig } from "../../shared/llm/mod.ts";
import { type RetrievalSettings, retrievalSettingsFromEnv } from "../../shared/retrieval/mod.ts";

export interface ChatDeps {
  sql: () => Sql;
  verifier: JwtVerifier;
  /** Embeds questions with the model of the stored chunks. */
  embedder: Embedder;
  /** Groq; undefined without GROQ_API_KEY (the answer is then an extract). */
  llm?: LlmClient;
  retrieval?: RetrievalSettings;
}

/** The function's dependencies from its environment (index.ts). */
export function chatDepsFromEnv(
  env: Env,
  sql: () => Sql,
  vars: Record<string, string | undefined> = Deno.env.toObject(),
): ChatDeps {
  return {
    sql,
    verifier: verifierFromEnv(env),
    embedder: embedderFromEnv(vars),
    llm: llmFromConfig(env),
    retrieval: retrievalSettingsFromEnv(vars),
  };
}
