/**
 * The answer without a language model (no `GROQ_API_KEY`): the most relevant passages, quoted with
 * their citations and labelled as an extract, not an analysis. For a table, the quote is the header
 * and the rows that match the question, so a number is shown with its row. For a question that asks
 * for a figure, the best-matching table passage is quoted first (its rows hold the figure; prose
 * about it comes after). When the question's figure is in the cells of a table (shared/kpi
 * `answerFromCells`, cells.ts), the facts computed from them come first, each with its file,
 * sheet, row and column; when no cell matches, the extract says so before the passages.
 */
import { type Passage, passageLocation } from "../retrieval/mod.ts";
import type { Warning } from "./preflight.ts";
import { bestRows, bestSentences, isTable, tableParts } from "./snippet.ts";
import { matchScore, type QuestionTerms } from "./terms.ts";

export const EXTRACT_LABEL =
  "Extract from your files (no AI analysis is configured, so these are the most relevant passages, quoted as they are):";
export const EXTRACTIVE_MODEL = "extractive";
/** Before the facts computed from the cells of the workbench's tables. */
export const CELLS_LABEL = "From the cells of your tables (computed by code, not by a model):";
/** When the question asks for a figure and no cell matches it. */
export const NO_CELL =
  "No cell of your tables matches this question, so here are the closest passages instead.";

/** How many passages an extract quotes. */
const MAX_QUOTES = 3;

function quoteLines(text: string): string {
  return text.split("\n").map((l) => `> ${l}`).join("\n");
}

/**
 * The passages worth quoting, in the order they are quoted: the top one, then others that match
 * the question at least half as well. For a numeric question, the table passage whose rows match
 * the question best comes first, even when prose ranked above it.
 */
export function pick(passages: Passage[], terms: QuestionTerms): number[] {
  if (passages.length === 0) return [];
  const scores = passages.map((p) => matchScore(p.content, terms));
  const top = Math.max(...scores);
  const picked = [0];
  for (let i = 1; i < passages.length && picked.length < MAX_QUOTES; i++) {
    if (top === 0 || scores[i]! >= top / 2) picked.push(i);
  }
  if (!terms.numeric) return picked;
  const rowScore = (p: Passage) =>
    Math.max(0, ...bestRows(p.content, terms).map((r) => matchScore(r, terms)));
  let table = -1;
  let tableScore = 0;
  passages.forEach((p, i) => {
    if (!isTable(p)) return;
    const score = rowScore(p);
    if (score > tableScore) [table, tableScore] = [i, score];
  });
  if (table < 0) return picked;
  const rest = picked.filter((i) => i !== table);
  return [table, ...rest].slice(0, MAX_QUOTES);
}

/** The extract as parts (streamed one by one) whose concatenation is the answer text. */
export function extractiveAnswer(
  passages: Passage[],
  terms: QuestionTerms,
  warnings: Warning[],
  cells: { facts: string[]; tried: boolean } = { facts: [], tried: false },
): string[] {
  const parts = [EXTRACT_LABEL + "\n"];
  if (cells.facts.length > 0) {
    parts.push(`\n${CELLS_LABEL}\n${cells.facts.map((f) => `- ${f}`).join("\n")}\n`);
  } else if (cells.tried) {
    parts.push(`\n${NO_CELL}\n`);
  }
  const picked = pick(passages, terms);
  if (picked.length === 0) {
    parts.push("\nNo passage of the indexed files matches this question.");
  }
  for (const i of picked) {
    const p = passages[i]!;
    const where = passageLocation(p);
    const head = `\n**${p.fileName}**${where ? ` (${where})` : ""} [${i + 1}]:\n`;
    const body = isTable(p)
      ? [tableParts(p.content).header, ...bestRows(p.content, terms)].join("\n")
      : bestSentences(p.content, terms, 600);
    parts.push(`${head}${quoteLines(body)}\n`);
  }
  if (warnings.length > 0) {
    parts.push(`\nNote: ${warnings.map((w) => w.message).join(" ")}`);
  }
  return parts;
}
