/**
 * `POST /chat/sessions/{id}/messages` with `{content}`: the caller's question answered from the
 * workbench's files, as JSON `{message, sources, warnings, usage, wallet}` or, with
 * `Accept: text/event-stream`, as SSE: `meta`, `delta`…, then `done` with the JSON body (or
 * `error` with the error envelope; nothing is counted then).
 *
 * Order: auth; then in one database round trip the rate limit (429), the caller's session (404),
 * the wallet (402) and the answering marker (409), and the question saved; then, as the caller,
 * preflight and retrieval; the answer; then the answer saved and counted in one round trip.
 */
import { z } from "zod";
import type { Sql } from "../../shared/db.ts";
import { requireUser } from "../../shared/auth.ts";
import { buildSources, type Source } from "../../shared/chat/citations.ts";
import {
  mentionedFileNames,
  nothingToSearchAnswer,
  preflightWarnings,
  type Warning,
} from "../../shared/chat/preflight.ts";
import { buildMessages } from "../../shared/chat/prompt.ts";
import { questionTerms } from "../../shared/chat/terms.ts";
import {
  errorResponse,
  HttpError,
  json,
  readJson,
  type Route,
  validate,
} from "../../shared/http.ts";
import type { LlmMessage } from "../../shared/llm/groq.ts";
import { log } from "../../shared/log.ts";
import { searchWorkbench } from "../../shared/retrieval/search.ts";
import { textSchema } from "../../shared/validation.ts";
import { type AnswerInput, type AnswerText, completeAnswer, streamAnswer } from "./answer.ts";
import type { ChatContext } from "./handler.ts";
import { SSE_HEADERS, sseEvent, wantsEventStream } from "./sse.ts";
import { createPhaseTimer, type PhaseTimer } from "./timing.ts";
import { abortTurn, finishTurn, loadTurn, type StartedTurn, startTurn } from "./turn_store.ts";

export const MAX_QUESTION_CHARS = 4000;
const MessageInput = z.object({
  content: textSchema(MAX_QUESTION_CHARS).pipe(z.string().min(1, "must not be empty")),
});
const Id = z.uuid();
/** How much of each earlier message the model sees. */
const HISTORY_CHARS = 1500;

export function messageRoute({ deps }: ChatContext): Route {
  return {
    method: "POST",
    pattern: "/sessions/:id/messages",
    handler: async (req, ctx) => {
      const timer = createPhaseTimer();
      const user = await timer.time("auth", () => requireUser(req, deps.verifier));
      const sessionId = validate(Id, ctx.params.id, "session id");
      const { content } = await readJson(req, MessageInput);
      const started = await startTurn(deps.sql(), req, user.id, sessionId, content, timer);
      const turn = await loadTurn(
        deps.sql(),
        user.claims,
        sessionId,
        started.hasIndexed,
        mentionedFileNames(content),
        timer,
        (tx, workbenchId, history) =>
          searchWorkbench(tx, deps.embedder, {
            workbenchId,
            question: content,
            previousUserTurns: history.filter((h) => h.role === "user").map((h) => h.content),
            settings: deps.retrieval,
          }),
      ).catch(async (err) => {
        await abortTurn(deps.sql(), sessionId, started);
        throw err;
      });
      const warnings = preflightWarnings(content, turn.files, started.hasIndexed ? 1 : 0);
      const passages = turn.retrieved ?? [];
      const terms = questionTerms(content);
      const input: AnswerInput = await timer.time("prompt", () => ({
        passages,
        terms,
        warnings,
        messages: buildMessages({
          question: content,
          passages,
          warnings,
          history: turn.history.map((h): LlmMessage => ({
            role: h.role,
            content: h.content.slice(0, HISTORY_CHARS),
          })),
        }),
      }));
      const save = async (answer: AnswerText, sources: Source[]) => {
        const { message, wallet } = await finishTurn(deps.sql(), user.id, sessionId, started, {
          content: answer.text,
          sources,
          warnings,
          model: turn.retrieved === undefined ? null : answer.model,
          promptTokens: answer.usage.prompt_tokens,
          completionTokens: answer.usage.completion_tokens,
        }, timer);
        const model = turn.retrieved === undefined ? null : answer.model;
        return {
          message: {
            id: message.id,
            session_id: sessionId,
            role: "assistant",
            content: answer.text,
            model,
            created_at: message.created_at,
            user_message_id: started.userMessageId,
          },
          sources,
          warnings,
          usage: {
            model,
            prompt_tokens: answer.usage.prompt_tokens,
            completion_tokens: answer.usage.completion_tokens,
          },
          wallet,
        };
      };

      if (turn.retrieved === undefined) {
        const answer = {
          text: nothingToSearchAnswer(warnings),
          cited: [],
          model: "",
          usage: { prompt_tokens: 0, completion_tokens: 0 },
        };
        const body = await save(answer, []);
        if (!wantsEventStream(req)) return json(body, 200, { "server-timing": timer.header() });
        return eventStream(
          deps.sql(),
          started,
          sessionId,
          warnings,
          ctx.requestId,
          timer,
          (send) => {
            send("delta", { text: answer.text });
            return Promise.resolve(body);
          },
        );
      }

      if (!wantsEventStream(req)) {
        const answer = await timer.time("llm", () => completeAnswer(deps.llm, input))
          .catch(async (err) => {
            await abortTurn(deps.sql(), sessionId, started);
            throw err;
          });
        const body = await save(answer, buildSources(passages, answer.cited, terms));
        return json(body, 200, { "server-timing": timer.header() });
      }

      const stream = await timer.time("llm", () => streamAnswer(deps.llm, input)).catch(
        async (err) => {
          await abortTurn(deps.sql(), sessionId, started);
          throw err;
        },
      );
      return eventStream(
        deps.sql(),
        started,
        sessionId,
        warnings,
        ctx.requestId,
        timer,
        async (send) => {
          for await (const text of stream.deltas) send("delta", { text });
          const answer = stream.result();
          return await save(answer, buildSources(passages, answer.cited, terms));
        },
        () => stream.cancel(),
      );
    },
  };
}

type Send = (event: string, data: unknown) => void;

/** The SSE response: `meta`, what `body` sends, then `done` (or `error`, releasing the turn). */
function eventStream(
  sql: Sql,
  started: StartedTurn,
  sessionId: string,
  warnings: Warning[],
  requestId: string,
  timer: PhaseTimer,
  body: (send: Send) => Promise<unknown>,
  cancel: () => void = () => {},
): Response {
  let closed = false;
  const stream = new ReadableStream<Uint8Array>({
    async start(controller) {
      const send: Send = (event, data) => {
        if (!closed) controller.enqueue(sseEvent(event, data));
      };
      send("meta", {
        session_id: sessionId,
        user_message_id: started.userMessageId,
        assistant_message_id: started.assistantMessageId,
        warnings,
      });
      try {
        send("done", await body(send));
      } catch (err) {
        await abortTurn(sql, sessionId, started);
        const e = err instanceof HttpError
          ? err
          : new HttpError(500, "internal_error", "Something went wrong on our side.");
        if (!(err instanceof HttpError)) {
          log.error("chat stream failed", { request_id: requestId, error: String(err) });
        }
        const envelope = await errorResponse(e.status, e.code, e.message, requestId, e.details)
          .json();
        send("error", { ...envelope, status: e.status });
      }
      if (!closed) {
        closed = true;
        controller.close();
      }
    },
    cancel() {
      closed = true;
      cancel();
    },
  });
  return new Response(stream, {
    status: 200,
    headers: { ...SSE_HEADERS, "server-timing": timer.header() },
  });
}
