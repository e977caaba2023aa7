/**
 * What the channel worker needs, and how index.ts builds it from the environment.
 * `MANYCHAT_API_URL` points the sends elsewhere (the tests' fake ManyChat); `CHANNEL_MAX_ATTEMPTS`,
 * `CHANNEL_RETRY_BASE_SEC` and `CHANNEL_VISIBILITY_TIMEOUT_SEC` tune the retries.
 */
import { type JwtVerifier, verifierFromEnv } from "../../shared/auth.ts";
import type { Sql } from "../../shared/db.ts";
import { type Embedder, embedderFromEnv } from "../../shared/embeddings.ts";
import type { Env } from "../../shared/env.ts";
import { type LlmClient, llmFromConfig } from "../../shared/llm/mod.ts";
import {
  createManyChatClient,
  DEFAULT_MANYCHAT_API_URL,
  type ManyChatClient,
} from "../../shared/manychat.ts";
import { type RetrievalSettings, retrievalSettingsFromEnv } from "../../shared/retrieval/mod.ts";

export interface ChannelWorkerConfig {
  /** Attempts per inbound message before it is marked failed. */
  maxAttempts: number;
  /** The first retry waits this long; each next one twice as long. */
  retryBaseSec: number;
  /** How long a message read from the queue stays invisible to other workers. */
  visibilityTimeoutSec: number;
  /** Messages handled per kick. */
  batch: number;
}

export const DEFAULT_CHANNEL_WORKER_CONFIG: Readonly<ChannelWorkerConfig> = Object.freeze({
  maxAttempts: 4,
  retryBaseSec: 5,
  visibilityTimeoutSec: 120,
  batch: 5,
});

export interface ChannelWorkerDeps {
  sql: () => Sql;
  verifier: JwtVerifier;
  embedder: Embedder;
  /** Groq; undefined without GROQ_API_KEY (the answer is then the best passages, quoted). */
  llm?: LlmClient;
  retrieval?: RetrievalSettings;
  manychat: ManyChatClient;
  config: ChannelWorkerConfig;
}

/** The function's dependencies from its environment (index.ts). */
export function channelWorkerDepsFromEnv(
  env: Env,
  sql: () => Sql,
  vars: Record<string, string | undefined> = Deno.env.toObject(),
): ChannelWorkerDeps {
  const number = (name: string, fallback: number) => {
    const n = Number(vars[name] ?? fallback);
    return Number.isFinite(n) && n >= 0 ? n : fallback;
  };
  const d = DEFAULT_CHANNEL_WORKER_CONFIG;
  return {
    sql,
    verifier: verifierFromEnv(env),
    embedder: embedderFromEnv(vars),
    llm: llmFromConfig(env),
    retrieval: retrievalSettingsFromEnv(vars),
    manychat: createManyChatClient(vars.MANYCHAT_API_URL || DEFAULT_MANYCHAT_API_URL),
    config: {
      maxAttempts: Math.max(1, number("CHANNEL_MAX_ATTEMPTS", d.maxAttempts)),
      retryBaseSec: number("CHANNEL_RETRY_BASE_SEC", d.retryBaseSec),
      visibilityTimeoutSec: Math.max(
        1,
        number("CHANNEL_VISIBILITY_TIMEOUT_SEC", d.visibilityTimeoutSec),
      ),
      batch: Math.max(1, number("CHANNEL_WORKER_BATCH", d.batch)),
    },
  };
}
