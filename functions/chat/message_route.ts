/**
 * `POST /chat/sessions/{id}/messages` with `{content}`: the caller's question answered from the
 * workbench's files, as JSON `{message, sources, warnings, usage, wallet}` or, with
 * `Accept: text/event-stream`, as SSE: `meta`, `delta`…, then `done` with the JSON body (or
 * `error` with the error envelope; nothing is counted then).
 *
 * Order: auth; then in one database round trip the rate limit (429), the caller's session and
 * current workbench role (404), the wallet with the answers already in flight (402) and the
 * answering marker (409), and the question saved; then, as the caller, preflight and retrieval;
 * the answer (replies.ts); then the answer saved and counted in one round trip.
 */
import { z } from "zod";
import { type AuthenticatedUser, requireUser } from "../../shared/auth.ts";
import { buildMessages, mentionedFileNames, preflightWarnings } from "../../shared/chat/mod.ts";
import { questionTerms } from "./terms.ts";
import { readJson, type Route, validate } from "../../shared/http.ts";
import type { LlmMessage } from "../../shared/llm/mod.ts";
import { searchWorkbench } from "../../shared/retrieval/mod.ts";
import { visibleTextSchema } from "../../shared/validation.ts";
import type { ChatDeps } from "./deps.ts";
import { jsonAnswer, noIndexAnswer, type PreparedTurn, sseAnswer } from "./replies.ts";
import { wantsEventStream } from "./sse.ts";
import { type CellLookup, factLines, lookupCells } from "./cells.ts";
import { createPhaseTimer, type PhaseTimer } from "../../shared/timing.ts";
import { abortTurn, loadTurn, type StartedTurn, startTurn } from "./turn_store.ts";
import { Answer, AnswerEvent } from "./schemas.ts";

export const MAX_QUESTION_CHARS = 4000;
const MessageInput = z.object({
  content: visibleTextSchema(MAX_QUESTION_CHARS),
});
const Id = z.uuid();
/** How much of each earlier message the model sees. */
const HISTORY_CHARS = 1500;

export function messageRoute(deps: ChatDeps): Route {
  return {
    method: "POST",
    pattern: "/sessions/:id/messages",
    doc: {
      summary: "Ask a question; a cited answer as JSON, or streamed as SSE",
      description: "Send `Accept: text/event-stream` for the streamed form.",
      auth: "user",
      body: MessageInput,
      bodyExample: { content: "What was the gross margin in Q3?" },
      headers: { accept: "`text/event-stream` for SSE; JSON otherwise" },
      responses: {
        200: {
          description: "The answer (JSON), or its event stream",
          schema: Answer,
          content: { "text/event-stream": AnswerEvent },
        },
      },
      errors: {
        402: ["insufficient_credits"],
        404: ["not_found"],
        409: ["answer_in_progress"],
        429: ["rate_limited", "llm_rate_limited"],
        503: ["llm_unavailable"],
      },
    },
    handler: async (req, ctx) => {
      const timer = createPhaseTimer();
      const user = await timer.time("auth", () => requireUser(req, deps.verifier));
      const sessionId = validate(Id, ctx.params.id, "session id");
      const { content } = await readJson(req, MessageInput);
      const started = await startTurn(deps.sql(), req, user.id, sessionId, content, timer);
      const turn = await prepareTurn(deps, user, sessionId, content, started, timer);
      const prepared: PreparedTurn = {
        ...turn,
        sql: deps.sql,
        llm: deps.llm,
        req,
        requestId: ctx.requestId,
        userId: user.id,
        sessionId,
        started,
        timer,
      };
      if (!prepared.searched) return noIndexAnswer(prepared);
      return wantsEventStream(req) ? sseAnswer(prepared) : jsonAnswer(prepared);
    },
  };
}

type TurnParts = Pick<PreparedTurn, "searched" | "warnings" | "passages" | "terms" | "input">;

/** Preflight, history and retrieval as the caller, then the prompt (the marker is released on failure). */
async function prepareTurn(
  deps: ChatDeps,
  user: AuthenticatedUser,
  sessionId: string,
  content: string,
  started: StartedTurn,
  timer: PhaseTimer,
): Promise<TurnParts> {
  const terms = questionTerms(content);
  const turn = await loadTurn(
    deps.sql(),
    user.claims,
    sessionId,
    started.hasIndexed,
    mentionedFileNames(content),
    timer,
    async (tx, workbenchId, history) => {
      const passages = await searchWorkbench(tx, deps.embedder, {
        workbenchId,
        question: content,
        previousUserTurns: history.filter((h) => h.role === "user").map((h) => h.content),
        settings: deps.retrieval,
      });
      const facts = terms.numeric ? await lookupCells(tx, workbenchId, content) : [];
      return { passages, facts };
    },
  ).catch(async (err) => {
    await abortTurn(deps.sql(), sessionId, started);
    throw err;
  });
  const warnings = preflightWarnings(content, turn.files, started.hasIndexed ? 1 : 0);
  const passages = turn.retrieved?.passages ?? [];
  const cells: CellLookup = {
    tried: terms.numeric && turn.retrieved !== undefined,
    facts: turn.retrieved?.facts ?? [],
  };
  const facts = factLines(cells.facts, passages);
  const input = await timer.time("prompt", () => ({
    passages,
    terms,
    warnings,
    facts,
    cellsTried: cells.tried,
    messages: buildMessages({
      question: content,
      passages,
      warnings,
      ...(cells.tried ? { facts } : {}),
      history: turn.history.map((h): LlmMessage => ({
        role: h.role,
        content: h.content.slice(0, HISTORY_CHARS),
      })),
    }),
  }));
  return { searched: turn.retrieved !== undefined, warnings, passages, terms, input };
}
