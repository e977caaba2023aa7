/**
 * Makes the answer text for a prepared prompt: from the language model (whole, or as deltas), or
 * without one, the extract. Citation markers that match no passage are removed on the way.
 *
 * `signal` is the client going away: it aborts the model request (groq-sdk then ends its stream
 * quietly, so the answer is marked `interrupted` here rather than taken for complete), and the
 * deltas stop. An interrupted answer holds the text made so far.
 */
import { createCitationFilter } from "../../shared/chat/mod.ts";
import { EXTRACTIVE_MODEL, extractiveAnswer } from "../../shared/chat/mod.ts";
import type { Warning } from "../../shared/chat/mod.ts";
import type { QuestionTerms } from "../../shared/chat/mod.ts";
import type { LlmClient, LlmMessage, LlmUsage } from "../../shared/llm/mod.ts";
import type { Passage } from "../../shared/retrieval/mod.ts";

export interface AnswerInput {
  passages: Passage[];
  terms: QuestionTerms;
  warnings: Warning[];
  messages: LlmMessage[];
  /** Facts computed by code from the cells and given to the model (their figures are verified). */
  facts?: string[];
  /** The question asked for a figure and the cells were looked up (none matched if no facts). */
  cellsTried?: boolean;
}

export interface AnswerText {
  text: string;
  cited: number[];
  model: string;
  usage: LlmUsage;
  /** The client went away before the answer was complete. */
  interrupted?: boolean;
}

export interface AnswerStream {
  model: string;
  /** Cleaned text deltas; their concatenation is `result().text`. */
  deltas: AsyncIterable<string>;
  /** Once `deltas` is exhausted. */
  result(): AnswerText;
  cancel(): void;
}

const NO_USAGE: LlmUsage = { prompt_tokens: 0, completion_tokens: 0 };

async function* fromArray(parts: string[]): AsyncGenerator<string> {
  for (const p of parts) yield p;
}

/** Resolves when the model has started answering (its refusals are thrown here). */
export async function streamAnswer(
  llm: LlmClient | undefined,
  input: AnswerInput,
  signal?: AbortSignal,
): Promise<AnswerStream> {
  const upstream = llm ? await llm.stream({ messages: input.messages, signal }) : undefined;
  const raw = upstream?.deltas ??
    fromArray(
      extractiveAnswer(input.passages, input.terms, input.warnings, {
        facts: input.facts ?? [],
        tried: input.cellsTried === true,
      }),
    );
  const filter = createCitationFilter(input.passages.length);
  let text = "";
  const interrupted = () => signal?.aborted === true || upstream?.cancelled() === true;
  async function* deltas(): AsyncGenerator<string> {
    for await (const delta of raw) {
      if (interrupted()) break;
      const out = filter.push(delta);
      if (out) {
        text += out;
        yield out;
      }
    }
    if (interrupted()) return;
    const rest = filter.flush();
    if (rest) {
      text += rest;
      yield rest;
    }
  }
  return {
    model: upstream?.model ?? EXTRACTIVE_MODEL,
    deltas: deltas(),
    result: () => ({
      text: text.trim(),
      cited: filter.cited(),
      model: upstream?.model ?? EXTRACTIVE_MODEL,
      usage: upstream?.usage() ?? NO_USAGE,
      interrupted: interrupted(),
    }),
    cancel: () => upstream?.cancel(),
  };
}

/** The whole answer at once (the JSON form); a cancelled model call throws `LlmCancelled`. */
export async function completeAnswer(
  llm: LlmClient | undefined,
  input: AnswerInput,
  signal?: AbortSignal,
): Promise<AnswerText> {
  if (!llm) {
    const s = await streamAnswer(undefined, input, signal);
    for await (const _ of s.deltas) { /* drain */ }
    return s.result();
  }
  const res = await llm.complete({ messages: input.messages, signal });
  const filter = createCitationFilter(input.passages.length);
  const text = (filter.push(res.text) + filter.flush()).trim();
  return { text, cited: filter.cited(), model: res.model, usage: res.usage };
}
