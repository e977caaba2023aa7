/**
 * The part of a passage worth showing for a question: for a table chunk, its header and the rows
 * that best match the question (so a number can be read with its column names); for prose, the
 * sentences around the best match.
 */
import type { Passage } from "../../shared/retrieval/mod.ts";
import { matchScore, type QuestionTerms } from "./terms.ts";

export const SNIPPET_CHARS = 400;

export function isTable(p: Passage): boolean {
  return p.rowStart !== undefined && p.rowStart !== null;
}

/** Splits a table chunk into its prefix lines (sheet, section, header) and its rows. */
export function tableParts(content: string): { prefix: string[]; header: string; rows: string[] } {
  const lines = content.split("\n");
  const prefix: string[] = [];
  let i = 0;
  while (i < lines.length && /^(Sheet|Section): /.test(lines[i]!)) prefix.push(lines[i++]!);
  const header = lines[i++] ?? "";
  return { prefix, header, rows: lines.slice(i).filter((l) => l.trim() !== "") };
}

/** The rows of a table chunk that match the question best (at most `max`), in table order. */
export function bestRows(content: string, terms: QuestionTerms, max = 3): string[] {
  const { rows } = tableParts(content);
  const scored = rows.map((row, i) => ({ row, i, score: matchScore(row, terms) }));
  const top = scored.filter((r) => r.score > 0).sort((a, b) => b.score - a.score || a.i - b.i)
    .slice(0, max).sort((a, b) => a.i - b.i);
  return (top.length > 0 ? top : scored.slice(0, 1)).map((r) => r.row);
}

/** The sentences of a prose passage around its best match with the question. */
export function bestSentences(
  content: string,
  terms: QuestionTerms,
  maxChars = SNIPPET_CHARS,
): string {
  const sentences = content.replace(/\s+/g, " ").trim().match(/[^.!?]+[.!?]*\s*/g) ?? [content];
  let best = 0;
  let bestScore = -1;
  sentences.forEach((s, i) => {
    const score = matchScore(s, terms);
    if (score > bestScore) [best, bestScore] = [i, score];
  });
  let text = sentences[best]!.trim();
  for (let next = best + 1; next < sentences.length; next++) {
    const more = `${text} ${sentences[next]!.trim()}`;
    if (more.length > maxChars) break;
    text = more;
  }
  return clip(text, maxChars);
}

export function clip(text: string, maxChars: number): string {
  return text.length <= maxChars ? text : `${text.slice(0, maxChars - 1).trimEnd()}…`;
}

export function snippetFor(p: Passage, terms: QuestionTerms): string {
  if (isTable(p)) {
    const { header } = tableParts(p.content);
    return clip([header, ...bestRows(p.content, terms)].join("\n"), SNIPPET_CHARS * 2);
  }
  return bestSentences(p.content, terms);
}
