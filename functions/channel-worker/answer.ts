/**
 * The answer to one WhatsApp question: retrieval (shared/retrieval, as the channel's owner, so the
 * workbench's row level security applies) with the subscriber's earlier questions for follow-ups,
 * the prompt chat builds (shared/chat `buildMessages`, earlier turns included), and the model
 * (shared/llm). Citation markers that match no passage are dropped; the cited passages are listed
 * at the end as short lines, "[1] file, p. 3". Without a model, the best passages are quoted.
 */
import type { Claims } from "../../shared/auth.ts";
import {
  buildMessages,
  cleanCitations,
  extractiveAnswer,
  factLines,
  lookupCells,
  questionTerms,
} from "../../shared/chat/mod.ts";
import { asUser } from "../../shared/db.ts";
import type { LlmMessage } from "../../shared/llm/mod.ts";
import { type Passage, passageLocation, searchWorkbench } from "../../shared/retrieval/mod.ts";
import type { ChannelWorkerDeps } from "./deps.ts";

/** How much of each earlier message the model sees (as chat). */
const HISTORY_CHARS = 1500;

export interface Turn {
  question: string;
  answer: string;
}

export interface ChannelQuestion {
  ownerId: string;
  workbenchId: string;
  question: string;
  language: string;
  /** The subscriber's earlier answered turns, oldest first. */
  history: Turn[];
}

export interface ChannelAnswer {
  text: string;
  model: string;
}

const LANGUAGES: Record<string, string> = {
  fr: "French",
  en: "English",
  es: "Spanish",
  de: "German",
  it: "Italian",
  pt: "Portuguese",
  ar: "Arabic",
};

/** "[1] file, p. 3" per cited passage. */
export function citationLines(passages: Passage[], cited: number[]): string[] {
  return cited.map((n) => {
    const p = passages[n - 1]!;
    const where = passageLocation(p);
    return `[${n}] ${p.fileName}${where ? `, ${where}` : ""}`;
  });
}

export async function answerQuestion(
  deps: ChannelWorkerDeps,
  q: ChannelQuestion,
): Promise<ChannelAnswer> {
  const claims: Claims = { sub: q.ownerId, role: "authenticated", aud: "authenticated" };
  const terms = questionTerms(q.question);
  // The same retrieval and figures from the cells as chat, as the channel's creator (RLS).
  const { passages, facts } = await asUser(deps.sql(), claims, async (tx) => {
    const passages = await searchWorkbench(tx, deps.embedder, {
      workbenchId: q.workbenchId,
      question: q.question,
      previousUserTurns: q.history.map((t) => t.question),
      ...(deps.retrieval ? { settings: deps.retrieval } : {}),
    });
    const facts = terms.numeric && passages.length > 0
      ? factLines(await lookupCells(tx, q.workbenchId, q.question), passages)
      : undefined;
    return { passages, facts };
  });
  if (!deps.llm) {
    // Chat's extract without a model: the figures from the cells first, then the best passages.
    const text = passages.length
      ? extractiveAnswer(passages, terms, [], { facts: facts ?? [], tried: facts !== undefined })
        .join("").replace(/\*\*/g, "")
      : "";
    return withCitations(text, passages, "extractive");
  }
  const history: LlmMessage[] = q.history.flatMap((t) => [
    { role: "user" as const, content: t.question.slice(0, HISTORY_CHARS) },
    { role: "assistant" as const, content: t.answer.slice(0, HISTORY_CHARS) },
  ]);
  const messages = buildMessages({
    question: q.question,
    passages,
    warnings: [],
    history,
    ...(facts !== undefined ? { facts } : {}),
  });
  const language = LANGUAGES[q.language.slice(0, 2)] ?? q.language;
  messages.splice(1, 0, {
    role: "system",
    content: `Answer in ${language}, as plain text for WhatsApp (no tables, no headings).`,
  });
  const res = await deps.llm.complete({ messages });
  return withCitations(res.text, passages, res.model);
}

/** Chat's citation filter (markers naming no passage removed), then "[1] file, p. 3" lines. */
function withCitations(raw: string, passages: Passage[], model: string): ChannelAnswer {
  const { text, cited } = cleanCitations(raw, passages.length);
  const lines = citationLines(passages, cited);
  return { text: lines.length ? `${text.trim()}\n\n${lines.join("\n")}` : text.trim(), model };
}
