/**
 * The `chat` function: sessions and grounded answers about a workbench's files.
 *
 * - session_routes.ts: `POST /sessions`, `GET /sessions`, `GET /sessions/:id/messages`
 * - message_route.ts: `POST /sessions/:id/messages` (replies.ts answers in its three forms,
 *   answer.ts makes the text, turn_store.ts reads and writes the database, event_stream.ts, sse.ts
 *   and timing.ts shape the response)
 */
import type { JwtVerifier } from "../../shared/auth.ts";
import type { Sql } from "../../shared/db.ts";
import type { Embedder } from "../../shared/embeddings.ts";
import { router } from "../../shared/http.ts";
import type { LlmClient } from "../../shared/llm/groq.ts";
import type { RetrievalSettings } from "../../shared/retrieval/search.ts";
import { messageRoute } from "./message_route.ts";
import { sessionRoutes } from "./session_routes.ts";

export interface ChatDeps {
  sql: () => Sql;
  verifier: JwtVerifier;
  /** Embeds questions with the model of the stored chunks. */
  embedder: Embedder;
  /** Groq; undefined without GROQ_API_KEY (the answer is then an extract). */
  llm?: LlmClient;
  retrieval?: RetrievalSettings;
}

export interface ChatContext {
  deps: ChatDeps;
}

export function createChatHandler(deps: ChatDeps) {
  const context: ChatContext = { deps };
  return router([...sessionRoutes(context), messageRoute(context)]);
}
