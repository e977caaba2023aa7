/**
 * `POST /chat/sessions/{id}/messages` with `{content}`: the caller's question answered from the
 * workbench's files, as JSON `{message, sources, warnings, usage, wallet}` or, with
 * `Accept: text/event-stream`, as SSE: `meta`, `delta`…, then `done` with the JSON body (or
 * `error` with the error envelope; nothing is counted then).
 *
 * Order: auth (the token; no database); then in one statement the account's deactivation (401)
 * and suspension (403), the rate limit (429), the caller's session and current workbench role
 * (404), the wallet with the answers already in flight (402) and the answering marker (409), the
 * preflight's reads, and the question saved; then, as the caller, the search and the typed rows in
 * one statement; the answer (replies.ts); then the answer saved and counted in one statement.
 */
import { z } from "zod";
import { type AuthenticatedUser, type JwtVerifier, requireUser } from "../../shared/auth.ts";
import { buildMessages, preflightWarnings } from "../../shared/chat/mod.ts";
import { asCaller } from "../../shared/db.ts";
import { questionTerms } from "../../shared/chat/mod.ts";
import { readJson, type Route, validate } from "../../shared/http.ts";
import type { CellFact } from "../../shared/kpi/mod.ts";
import type { LlmMessage } from "../../shared/llm/mod.ts";
import {
  DEFAULT_RETRIEVAL_SETTINGS,
  formSearchQuery,
  type Passage,
  passageFromRow,
  searchParams,
  searchWorkbench,
  trimToBudget,
  withSettings,
} from "../../shared/retrieval/mod.ts";
import { visibleTextSchema } from "../../shared/validation.ts";
import type { ChatDeps } from "./deps.ts";
import { jsonAnswer, noIndexAnswer, type PreparedTurn, sseAnswer } from "./replies.ts";
import { wantsEventStream } from "./sse.ts";
import {
  CELL_LOOKUP_ROWS,
  type CellLookup,
  factLines,
  factsFromRows,
  lookupCells,
} from "../../shared/chat/mod.ts";
import { createPhaseTimer, type PhaseTimer } from "../../shared/timing.ts";
import {
  abortTurn,
  type HistoryTurn,
  retrieveAsCaller,
  SESSION_NOT_FOUND,
  type StartedTurn,
  startTurn,
  type TurnPreflight,
} from "./turn_store.ts";
import { Answer, AnswerEvent } from "./schemas.ts";

export const MAX_QUESTION_CHARS = 4000;
const MessageInput = z.object({
  content: visibleTextSchema(MAX_QUESTION_CHARS),
});
const Id = z.uuid();
/** How much of each earlier message the model sees. */
const HISTORY_CHARS = 1500;

/**
 * The verifier without its suspension lookup: `private.start_chat_turn`, the route's first
 * statement, answers deactivation and suspension itself (one round trip less per message).
 */
function withoutSuspensionLookup(verifier: JwtVerifier): JwtVerifier {
  return {
    verify: (token) => verifier.verify(token),
    isServiceKey: (credential) => verifier.isServiceKey(credential),
  };
}

export function messageRoute(deps: ChatDeps): Route {
  const verifier = withoutSuspensionLookup(deps.verifier);
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
      const user = await timer.time("auth", () => requireUser(req, verifier));
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

interface Found {
  passages: Passage[];
  facts: CellFact[];
}

/**
 * Retrieval as the caller: the query embedded here, then the search and (for a question asking for
 * a figure) the typed rows in one statement (turn_store.ts `retrieveAsCaller`). Only when no chunk
 * came by vector (the workbench's chunks were made by another model, or none is there) does it
 * take shared/retrieval `retrieve`'s longer way, which checks the model and searches again.
 */
async function retrieveTurn(
  deps: ChatDeps,
  user: AuthenticatedUser,
  workbenchId: string,
  content: string,
  history: HistoryTurn[],
  numeric: boolean,
  timer: PhaseTimer,
): Promise<Found> {
  const s = withSettings(deps.retrieval, DEFAULT_RETRIEVAL_SETTINGS);
  const previousUserTurns = history.filter((h) => h.role === "user").map((h) => h.content);
  const query = formSearchQuery(content, previousUserTurns);
  const [values] = s.vectorWeight === 0 ? [] : await deps.embedder.embed([query]);
  const vector = values ? { values, model: deps.embedder.model } : null;
  const found = await timer.time("retrieval_search", () =>
    retrieveAsCaller(
      deps.sql(),
      user.claims,
      searchParams(workbenchId, query, vector, s),
      numeric ? CELL_LOOKUP_ROWS : 0,
    ));
  if (vector && found.rows.every((r) => r.vector_rank === null)) {
    return await asCaller(deps.sql(), user.claims, async (tx) => ({
      passages: await searchWorkbench(tx, deps.embedder, {
        workbenchId,
        question: content,
        previousUserTurns,
        settings: deps.retrieval,
      }),
      facts: numeric ? await lookupCells(tx, workbenchId, content) : [],
    }), SESSION_NOT_FOUND);
  }
  const passages = trimToBudget(found.rows.map(passageFromRow), s.contextTokens);
  const facts = numeric
    ? await timer.time("retrieval_cells", () => factsFromRows(content, found.cells))
    : [];
  return { passages, facts };
}

/** Retrieval as the caller, then the prompt (the marker is released on failure). */
async function prepareTurn(
  deps: ChatDeps,
  user: AuthenticatedUser,
  sessionId: string,
  content: string,
  started: StartedTurn & TurnPreflight,
  timer: PhaseTimer,
): Promise<TurnParts> {
  const terms = questionTerms(content);
  const retrieved = started.hasIndexed
    ? await timer.time("retrieval", () =>
      retrieveTurn(
        deps,
        user,
        started.workbenchId,
        content,
        started.history,
        terms.numeric,
        timer,
      )).catch(async (err) => {
        await abortTurn(deps.sql(), sessionId, started);
        throw err;
      })
    : undefined;
  const warnings = preflightWarnings(content, started.files, started.hasIndexed ? 1 : 0);
  const passages = retrieved?.passages ?? [];
  const cells: CellLookup = {
    tried: terms.numeric && retrieved !== undefined,
    facts: retrieved?.facts ?? [],
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
      history: started.history.map((h): LlmMessage => ({
        role: h.role,
        content: h.content.slice(0, HISTORY_CHARS),
      })),
    }),
  }));
  return { searched: retrieved !== undefined, warnings, passages, terms, input };
}
