/**
 * The part of a passage worth showing for a question: for a table chunk, its header and the rows
 * that best match the question (so a number can be read with its column names); for prose, the
 * sentences around the best match.
 */
import type { Passage } from "../retrieval/mod.ts";
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

/**
 * Words that end with a full stop without ending a sentence: "Rs. 1,200", "No. 5", "e.g. this",
 * "Acme Inc. reported", "approx. 40". Compared lower-cased, without the final dot.
 */
const ABBREVIATIONS = new Set(
  ("rs re inr no nos vs approx apprx e.g i.e etc inc ltd pvt co corp cf viz fig figs mr mrs ms " +
    "dr st jan feb mar apr jun jul aug sep sept oct nov dec est dept govt sr jr al avg mln bn")
    .split(" "),
);

/**
 * Splits prose into sentences without breaking a number or an abbreviation apart. A sentence ends
 * at `.`, `!` or `?` (with any closing quotes or brackets) followed by white space and then a
 * capital letter, a digit, a quote or a bracket, except after an abbreviation or an initial ("J.
 * Smith"). A full stop inside a number ("11.5%", "1,200.50") is never followed by white space, so
 * it never ends a sentence. White space is collapsed.
 */
export function splitSentences(text: string): string[] {
  const flat = text.replace(/\s+/g, " ").trim();
  if (!flat) return [];
  const out: string[] = [];
  let start = 0;
  const end = /[.!?]+["'”’)\]]*(?= (?=[\p{Lu}\p{N}"'“‘(\[]))/gu;
  for (const m of flat.matchAll(end)) {
    const stop = m.index! + m[0].length;
    if (m[0].startsWith(".") && m[0].length === 1) {
      const word = /(\S+)$/.exec(flat.slice(start, m.index!))?.[1] ?? "";
      const bare = word.replace(/^["'“‘(\[]+/, "").toLowerCase();
      if (ABBREVIATIONS.has(bare) || /^\p{L}$/u.test(bare) || /^(?:\p{L}\.)+\p{L}$/u.test(bare)) {
        continue;
      }
    }
    out.push(flat.slice(start, stop).trim());
    start = stop + 1;
  }
  if (start < flat.length) out.push(flat.slice(start).trim());
  return out.filter((s) => s !== "");
}

/**
 * The sentences of a prose passage around its best match with the question: the best sentence,
 * then the ones after it and before it, whole, while they fit in `maxChars`. Only a best sentence
 * longer than `maxChars` on its own is cut (at a word, around its first matched term).
 */
export function bestSentences(
  content: string,
  terms: QuestionTerms,
  maxChars = SNIPPET_CHARS,
): string {
  const sentences = splitSentences(content);
  if (sentences.length === 0) return "";
  let best = 0;
  let bestScore = -1;
  sentences.forEach((s, i) => {
    const score = matchScore(s, terms);
    if (score > bestScore) [best, bestScore] = [i, score];
  });
  const first = sentences[best]!;
  if (first.length > maxChars) return clipAround(first, terms, maxChars);
  let [from, to] = [best, best];
  let length = first.length;
  for (let grew = true; grew;) {
    grew = false;
    const next = sentences[to + 1];
    if (next !== undefined && length + 1 + next.length <= maxChars) {
      to++, length += 1 + next.length, grew = true;
    }
    const prev = sentences[from - 1];
    if (prev !== undefined && length + 1 + prev.length <= maxChars) {
      from--, length += 1 + prev.length, grew = true;
    }
  }
  return sentences.slice(from, to + 1).join(" ");
}

/** A sentence too long for the snippet: `maxChars` of it, cut at words, around its first match. */
function clipAround(sentence: string, terms: QuestionTerms, maxChars: number): string {
  const lower = sentence.toLowerCase();
  const hits = [...terms.words, ...terms.numbers].map((t) => lower.indexOf(t)).filter((i) =>
    i >= 0
  );
  const at = hits.length > 0 ? Math.min(...hits) : 0;
  if (at + 40 < maxChars) return clip(sentence, maxChars);
  let from = Math.max(0, at - Math.floor(maxChars / 3));
  from = sentence.indexOf(" ", from) + 1 || from;
  return `…${clip(sentence.slice(from), maxChars - 1)}`;
}

/** `text` cut to `maxChars` at a word (never inside a number), with an ellipsis when cut. */
export function clip(text: string, maxChars: number): string {
  if (text.length <= maxChars) return text;
  const head = text.slice(0, maxChars - 1);
  const space = head.lastIndexOf(" ");
  return `${(space > maxChars / 2 ? head.slice(0, space) : head).trimEnd()}…`;
}

export function snippetFor(p: Passage, terms: QuestionTerms): string {
  if (isTable(p)) {
    const { header } = tableParts(p.content);
    return clip([header, ...bestRows(p.content, terms)].join("\n"), SNIPPET_CHARS * 2);
  }
  return bestSentences(p.content, terms);
}
