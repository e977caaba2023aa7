/**
 * The three forms of an answer to a prepared turn: nothing indexed (a fixed text, not metered),
 * the whole answer as JSON, or the answer streamed as SSE. Each saves (and counts) the answer
 * through `finishTurn`; a failure before the save releases the turn's marker.
 *
 * An answer is counted only when it completed while its client was still there. When the client
 * goes away first (the SSE stream is cancelled, or the request's signal aborts), the model call is
 * aborted, the text made so far is saved with status `interrupted`, and nothing is counted: for
 * SSE the client saw only part of it; for JSON it saw none of it (the model's cost is ours,
 * bounded by the chat rate limit, which every message takes a token of). `done` is not sent.
 */
import { buildSources, type Source } from "../../shared/chat/mod.ts";
import { nothingToSearchAnswer, type Warning } from "../../shared/chat/mod.ts";
import type { QuestionTerms } from "../../shared/chat/mod.ts";
import type { Sql } from "../../shared/db.ts";
import { json } from "../../shared/http.ts";
import { LlmCancelled, type LlmClient } from "../../shared/llm/mod.ts";
import type { Passage } from "../../shared/retrieval/mod.ts";
import { type AnswerInput, type AnswerText, completeAnswer, streamAnswer } from "./answer.ts";
import { eventStream } from "./event_stream.ts";
import { EXTRACTIVE_MODEL } from "../../shared/chat/mod.ts";
import { unverifiedFigures } from "./figures.ts";
import { wantsEventStream } from "./sse.ts";
import type { PhaseTimer } from "../../shared/timing.ts";
import { abortTurn, finishTurn, type StartedTurn } from "./turn_store.ts";

/** Everything known about a turn once its prompt is ready. */
export interface PreparedTurn {
  sql: () => Sql;
  llm?: LlmClient;
  req: Request;
  requestId: string;
  userId: string;
  sessionId: string;
  started: StartedTurn;
  timer: PhaseTimer;
  /** False when nothing is indexed (no search, no model, nothing counted). */
  searched: boolean;
  warnings: Warning[];
  passages: Passage[];
  terms: QuestionTerms;
  input: AnswerInput;
}

/**
 * The turn's warnings, and for a model's answer the figures it states that none of its cited
 * sources holds (`unverified_figure`).
 */
function answerWarnings(turn: PreparedTurn, answer: AnswerText): Warning[] {
  if (!turn.searched || answer.model === EXTRACTIVE_MODEL || !answer.text) return turn.warnings;
  return [
    ...turn.warnings,
    ...unverifiedFigures(answer.text, turn.passages, answer.cited, turn.terms, turn.input.facts),
  ];
}

/**
 * Saves (and counts, unless interrupted) the answer; the JSON body of the reply, with the message
 * as saved (a file deleted meanwhile is redacted from it).
 */
async function save(turn: PreparedTurn, answer: AnswerText, sources: Source[]) {
  const model = turn.searched ? answer.model : null;
  const interrupted = answer.interrupted === true;
  const { message, wallet } = await finishTurn(
    turn.sql(),
    turn.userId,
    turn.sessionId,
    turn.started,
    {
      content: answer.text,
      sources,
      warnings: answerWarnings(turn, answer),
      model,
      promptTokens: answer.usage.prompt_tokens,
      completionTokens: answer.usage.completion_tokens,
      interrupted,
    },
    turn.timer,
  );
  return {
    message: {
      id: message.id,
      session_id: turn.sessionId,
      role: "assistant",
      content: message.content,
      model,
      status: interrupted ? "interrupted" : "complete",
      created_at: message.created_at,
      user_message_id: turn.started.userMessageId,
    },
    sources: message.sources,
    warnings: message.warnings,
    usage: {
      model,
      prompt_tokens: answer.usage.prompt_tokens,
      completion_tokens: answer.usage.completion_tokens,
    },
    wallet,
  };
}

/** Runs `step`; when it fails, releases the turn's marker and rethrows. */
async function orAbort<T>(turn: PreparedTurn, step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (err) {
    await abortTurn(turn.sql(), turn.sessionId, turn.started);
    throw err;
  }
}

const streamOf = (turn: PreparedTurn) => ({ ...turn, sql: turn.sql() });

/** Nothing indexed: says so (and what is pending or failed), as JSON or as one SSE delta. */
export async function noIndexAnswer(turn: PreparedTurn): Promise<Response> {
  const answer: AnswerText = {
    text: nothingToSearchAnswer(turn.warnings),
    cited: [],
    model: "",
    usage: { prompt_tokens: 0, completion_tokens: 0 },
  };
  const body = await save(turn, answer, []);
  if (!wantsEventStream(turn.req)) {
    return json(body, 200, { "server-timing": turn.timer.header() });
  }
  return eventStream(streamOf(turn), (send) => {
    send("delta", { text: answer.text });
    return Promise.resolve(body);
  });
}

/**
 * The whole answer, then saved, as one JSON body. A client gone before the answer is complete
 * cancels the model call; the answer is saved as interrupted and not counted.
 */
export async function jsonAnswer(turn: PreparedTurn): Promise<Response> {
  const gone = turn.req.signal;
  const answer = await orAbort(
    turn,
    () =>
      turn.timer.time("llm", () => completeAnswer(turn.llm, turn.input, gone)).catch((err) => {
        if (!(err instanceof LlmCancelled)) throw err;
        return { text: "", cited: [], model: turn.llm!.model, usage: NO_USAGE } as AnswerText;
      }),
  );
  const done = { ...answer, interrupted: answer.interrupted === true || gone.aborted };
  const body = await save(turn, done, buildSources(turn.passages, done.cited, turn.terms));
  return json(body, 200, { "server-timing": turn.timer.header() });
}

const NO_USAGE = { prompt_tokens: 0, completion_tokens: 0 };

/**
 * The answer streamed as it is made (`delta` events), saved, then `done` with the JSON body. A
 * client that goes away mid-answer (the stream is cancelled) aborts the model call; the text sent
 * so far is saved as interrupted and nothing is counted.
 */
export async function sseAnswer(turn: PreparedTurn): Promise<Response> {
  const gone = new AbortController();
  const signal = AbortSignal.any([gone.signal, turn.req.signal]);
  const stream = await orAbort(
    turn,
    () => turn.timer.time("llm", () => streamAnswer(turn.llm, turn.input, signal)),
  );
  return eventStream(streamOf(turn), async (send) => {
    for await (const text of stream.deltas) send("delta", { text });
    const answer = stream.result();
    const body = await save(turn, answer, buildSources(turn.passages, answer.cited, turn.terms));
    return answer.interrupted ? undefined : body;
  }, () => gone.abort());
}
