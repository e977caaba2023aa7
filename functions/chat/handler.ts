/**
 * The `chat` function: sessions and grounded answers about a workbench's files.
 *
 * - session_routes.ts: `POST /sessions`, `GET /sessions`, `GET /sessions/:id/messages`
 * - message_route.ts: `POST /sessions/:id/messages` (replies.ts answers in its three forms,
 *   answer.ts makes the text, turn_store.ts reads and writes the database, event_stream.ts, sse.ts
 *   and shared/timing.ts shape the response)
 * - citations.ts (markers and sources), extractive.ts (the answer without a model), snippet.ts and
 *   terms.ts (the question's terms and the snippets that show them): only chat uses them
 * - deps.ts: what the routes need, and `chatDepsFromEnv()` for index.ts
 */
import { router } from "../../shared/http.ts";
import type { ChatDeps } from "./deps.ts";
import { messageRoute } from "./message_route.ts";
import { sessionRoutes } from "./session_routes.ts";

export function createChatHandler(deps: ChatDeps) {
  return router([...sessionRoutes(deps), messageRoute(deps)]);
}
