/**
 * The answer to one WhatsApp question: retrieval (shared/retrieval, as the channel's owner, so the
 * workbench's row level security applies) with the subscriber's earlier questions for follow-ups,
 * the prompt chat builds (shared/chat `buildMessages`, earlier turns included), and the model
 * (shared/llm). Citation markers that match no passage are dropped; the cited passages are listed
 * at the end as short lines, "[1] file, p. 3". Without a model, the best passages are quoted.
 */
import type { Claims } from "../../shared/auth.ts";
import { buildMessages } from "../../shared/chat/mod.ts";
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

/** Keeps markers that name a passage; returns the text and the numbers cited, in order. */
export function keepKnownCitations(text: string, count: number): { text: string; cited: number[] } {
  const cited: number[] = [];
  const out = text.replace(/\s*\[(\d+(?:\s*,\s*\d+)*)\]/g, (_m, list: string) => {
    const known = list.split(",").map((n) => Number(n.trim())).filter((n) => n >= 1 && n <= count);
    for (const n of known) if (!cited.includes(n)) cited.push(n);
    return known.length ? ` [${known.join(", ")}]` : "";
  });
  return { text: out.trim(), cited };
}

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
  const passages = await asUser(deps.sql(), claims, (tx) =>
    searchWorkbench(tx, deps.embedder, {
      workbenchId: q.workbenchId,
      question: q.question,
      previousUserTurns: q.history.map((t) => t.question),
      ...(deps.retrieval ? { settings: deps.retrieval } : {}),
    }));
  if (!deps.llm) {
    const best = passages.slice(0, 2);
    const text = best.length
      ? best.map((p, i) => `${p.content.slice(0, 600).trim()} [${i + 1}]`).join("\n\n")
      : "";
    return withCitations(text, passages, "extractive");
  }
  const history: LlmMessage[] = q.history.flatMap((t) => [
    { role: "user" as const, content: t.question.slice(0, HISTORY_CHARS) },
    { role: "assistant" as const, content: t.answer.slice(0, HISTORY_CHARS) },
  ]);
  const messages = buildMessages({ question: q.question, passages, warnings: [], history });
  const language = LANGUAGES[q.language.slice(0, 2)] ?? q.language;
  messages.splice(1, 0, {
    role: "system",
    content: `Answer in ${language}, as plain text for WhatsApp (no tables, no headings).`,
  });
  const res = await deps.llm.complete({ messages });
  return withCitations(res.text, passages, res.model);
}

function withCitations(raw: string, passages: Passage[], model: string): ChannelAnswer {
  const { text, cited } = keepKnownCitations(raw, passages.length);
  const lines = citationLines(passages, cited);
  return { text: lines.length ? `${text}\n\n${lines.join("\n")}` : text, model };
}
