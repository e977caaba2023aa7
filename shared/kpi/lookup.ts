/**
 * A question answered from the cells of uploaded tables: the cells that name its measure, its
 * entity and its period(s), and the arithmetic it asks for (growth, difference, sum, average),
 * computed here by code with the report's rules (growth is (later − earlier) / |earlier|, as the
 * report's change rows; numbers are read by `parseCell`, periods by `parsePeriod`, headers found
 * below title rows by `locateHeader`), never by a model. Each fact says which file, sheet, row
 * and column its figures come from. Pure: give it tables, get facts.
 *
 * A cell matches when the words of the question (without its period and operation words) match
 * its row's labels, its column's header and its file or sheet name well enough (all of them, or
 * all but one when there are four or more: a cell is better missed than wrong), and, when the
 * question names periods, its period (its column's header in a wide table, a period cell of its
 * row in a long one) is one of them. When several cells match equally (a label two tables share),
 * every one is a fact, so the answer names them all.
 */
import { layoutFor } from "./lookup_layout.ts";
import { formatPercent, parseCell } from "./numbers.ts";
import { parsePeriod, type Period } from "./periods.ts";
import { cellSource, describeSource, type SourceTable } from "./tables.ts";
import type { Provenance } from "./types.ts";

export type FactOperation = "cell" | "growth" | "difference" | "sum" | "average";

export interface CellFact {
  operation: FactOperation;
  /** The figure: a cell's value, or the result of the operation. */
  value: number;
  unit: "number" | "percent";
  /** The figure as the answer should write it (a cell as the file writes it). */
  figure: string;
  /** One line for the answer and for the model: what, the figure, how, and where from. */
  text: string;
  cells: (Provenance & { raw: string; period?: string })[];
}

const PERIOD_PATTERNS = [
  /\b(?:q[1-4]|h[12])\s*[-']?\s*(?:fy\s*)?'?\d{2,4}(?:\s*[-–]\s*\d{2,4})?\b/gi,
  /\bfy\s*'?\d{2,4}(?:\s*[-–]\s*\d{2,4})?\b/gi,
  /\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?[\s-]*'?\d{2,4}\b/gi,
  /\b(?:19|20)\d{2}(?:\s*[-–]\s*\d{2,4})?\b/g,
];

const OPERATION_WORDS =
  /\b(?:growth|grew|grow|increase[ds]?|decrease[ds]?|change[ds]?|difference|versus|vs|compared|total|sum|combined|average|mean|avg|from|to|between|and|value|figure|amount|number|what|was|were|is|the|of|in|for|how|much|many|by)\b/gi;

function periodKey(p: Period): string {
  return `${p.kind}:${p.sort}`;
}

/** The periods a question names, in the order written, as parsePeriod reads them. */
export function questionPeriods(question: string): { label: string; key: string; sort: number }[] {
  let rest = question;
  const found: { at: number; label: string; key: string; sort: number }[] = [];
  for (const re of PERIOD_PATTERNS) {
    rest = rest.replace(re, (m, at: number) => {
      const p = parsePeriod(m.replace(/\.(?=\s|-|')/, ""));
      if (p) found.push({ at, label: m.trim(), key: periodKey(p), sort: p.sort });
      return p ? " ".repeat(m.length) : m;
    });
  }
  found.sort((a, b) => a.at - b.at);
  const seen = new Set<string>();
  return found.filter((f) => !seen.has(f.key) && seen.add(f.key));
}

function operationOf(question: string, periods: number): FactOperation {
  const q = question.toLowerCase();
  if (/\baverage|\bmean\b|\bavg\b/.test(q)) return "average";
  if (periods >= 2 && /\bgrowth\b|\bgrew\b|%|percent|\byoy\b|rate of (?:increase|change)/.test(q)) {
    return "growth";
  }
  if (
    periods >= 2 && /\bdifference\b|\bchange|\bincrease|\bdecrease|\bvs\b|versus|compared/.test(q)
  ) {
    return "difference";
  }
  if (periods >= 2 && /\btotal\b|\bsum\b|\bcombined\b|\baltogether\b/.test(q)) return "sum";
  return "cell";
}

function wordsOf(text: string): string[] {
  return text.toLowerCase().replace(/'s\b/g, "").match(/[\p{L}][\p{L}\p{N}]*/gu) ?? [];
}

function matches(word: string, tokens: Set<string>): boolean {
  if (tokens.has(word)) return true;
  for (const t of tokens) {
    if (word.length > 3 && t.length > 3 && (t.startsWith(word) || word.startsWith(t))) return true;
  }
  return false;
}

const STOP = new Set(
  "a an the of in on at for to from by and or with as what which who was were is are be how much many did does do our their its this that these those show tell me give please"
    .split(" "),
);

interface Candidate {
  table: SourceTable;
  rowIndex: number;
  col: number;
  raw: string;
  value: number;
  percent: boolean;
  period?: string;
  periodKey?: string;
  score: number;
  label: string;
}

/** The cells of `tables` that the question names (best match per period), in period order. */
export function matchCells(question: string, tables: SourceTable[]): Candidate[] {
  const periods = questionPeriods(question);
  let rest = question;
  for (const re of PERIOD_PATTERNS) rest = rest.replace(re, " ");
  const words = [...new Set(wordsOf(rest.replace(OPERATION_WORDS, " ")))]
    .filter((w) => w.length > 1 && !STOP.has(w));
  if (words.length === 0) return [];
  const need = words.length >= 4 ? words.length - 1 : words.length;
  const wanted = new Set(periods.map((p) => p.key));
  const all: Candidate[] = [];
  for (const source of tables) {
    const { table, periodColumns, labelColumns } = layoutFor(source);
    table.rows.forEach((row, rowIndex) => {
      const labels = labelColumns.map((c) => row[c] ?? "").filter((s) => s.trim() !== "");
      const rowPeriods = periodColumns.map((c) => row[c] ?? "").flatMap((s) => {
        const p = parsePeriod(s);
        return p ? [{ label: s, key: periodKey(p) }] : [];
      });
      const rowTokens = new Set([
        ...labels.flatMap(wordsOf),
        ...wordsOf(table.file.replace(/\.[a-z]+$/i, "").replace(/[_-]/g, " ")),
        ...wordsOf(table.sheet ?? ""),
      ]);
      row.forEach((cell, col) => {
        if (labelColumns.includes(col) || periodColumns.includes(col)) return;
        const parsed = parseCell(cell);
        if (!parsed) return;
        const header = table.header[col] ?? "";
        const headerPeriod = parsePeriod(header);
        const period = headerPeriod
          ? { label: header, key: periodKey(headerPeriod) }
          : rowPeriods[0];
        if (wanted.size > 0 && (!period || !wanted.has(period.key))) return;
        const tokens = new Set([...rowTokens, ...(headerPeriod ? [] : wordsOf(header))]);
        const score = words.filter((w) => matches(w, tokens)).length;
        if (score < need) return;
        all.push({
          table,
          rowIndex,
          col,
          raw: cell.trim(),
          value: parsed.value,
          percent: parsed.percent,
          ...(period ? { period: period.label, periodKey: period.key } : {}),
          score,
          label: [...labels, ...(headerPeriod ? [] : [header])].join(", "),
        });
      });
    });
  }
  if (all.length === 0) return [];
  const top = Math.max(...all.map((c) => c.score));
  const best = all.filter((c) => c.score === top);
  const order = (c: Candidate) => {
    const i = periods.findIndex((p) => p.key === c.periodKey);
    return i < 0 ? 0 : periods[i]!.sort;
  };
  return best.sort((a, b) => order(a) - order(b)).slice(0, 24);
}

function where(c: Candidate): Provenance & { raw: string; period?: string } {
  return {
    ...cellSource(c.table, c.rowIndex, c.col, c.label),
    raw: c.raw,
    ...(c.period !== undefined ? { period: c.period } : {}),
  };
}

/** A computed number as the answer should write it: like the report prints (2 decimals at most). */
function plain(value: number): string {
  const rounded = Math.round(value * 100) / 100;
  const [int, frac] = Math.abs(rounded).toString().split(".");
  return `${rounded < 0 ? "-" : ""}${int!.replace(/\B(?=(\d{3})+(?!\d))/g, ",")}${
    frac ? `.${frac}` : ""
  }`;
}

/**
 * The facts that answer `question` from `tables`: the matching cells, or the result of the
 * operation the question asks for over them (one per series: a row or column of one table). An
 * empty list means no cell matches.
 */
export function answerFromCells(question: string, tables: SourceTable[]): CellFact[] {
  const cells = matchCells(question, tables);
  if (cells.length === 0) return [];
  const periods = questionPeriods(question);
  const operation = operationOf(question, periods.length);
  if (operation === "cell") {
    return cells.slice(0, 6).map((c) => ({
      operation,
      value: c.value,
      unit: c.percent ? "percent" : "number",
      figure: c.raw,
      text: `${c.label}${c.period ? `, ${c.period}` : ""}: ${c.raw} (${describeSource(where(c))})`,
      cells: [where(c)],
    }));
  }
  // One series per table and label: the cells of one line across the periods asked.
  const series = new Map<string, Candidate[]>();
  for (const c of cells) {
    const key = `${c.table.file}\u0000${c.table.sheet ?? ""}\u0000${c.label}`;
    series.set(key, [...(series.get(key) ?? []), c]);
  }
  const facts: CellFact[] = [];
  for (const list of series.values()) {
    const byPeriod = new Map<string, Candidate>();
    for (const c of list) if (!byPeriod.has(c.periodKey ?? "")) byPeriod.set(c.periodKey ?? "", c);
    const used = [...byPeriod.values()];
    const sources = used.map(where);
    const from = `from ${sources.map(describeSource).join("; ")}`;
    const label = used[0]!.label;
    const first = used[0]!;
    const last = used.at(-1)!;
    if (operation === "growth" || operation === "difference") {
      if (used.length < 2) continue;
      if (operation === "growth") {
        if (first.value === 0) continue;
        const value = ((last.value - first.value) / Math.abs(first.value)) * 100;
        const figure = formatPercent(value);
        facts.push({
          operation,
          value,
          unit: "percent",
          figure,
          text:
            `${label} growth from ${first.period} to ${last.period}: ${figure} = (${last.raw} − ${first.raw}) / ${first.raw} (${from})`,
          cells: [sources[0]!, sources.at(-1)!],
        });
      } else {
        const value = last.value - first.value;
        const figure = plain(value);
        facts.push({
          operation,
          value,
          unit: "number",
          figure,
          text:
            `${label} change from ${first.period} to ${last.period}: ${figure} = ${last.raw} − ${first.raw} (${from})`,
          cells: [sources[0]!, sources.at(-1)!],
        });
      }
      continue;
    }
    const sum = used.reduce((s, c) => s + c.value, 0);
    const value = operation === "sum" ? sum : sum / used.length;
    const figure = plain(value);
    const what = operation === "sum" ? "total" : "average";
    facts.push({
      operation,
      value,
      unit: used.every((c) => c.percent) ? "percent" : "number",
      figure,
      text: `${label} ${what} of ${used.map((c) => c.period ?? c.raw).join(", ")}: ${figure} = ${
        operation === "sum" ? "" : "("
      }${used.map((c) => c.raw).join(" + ")}${
        operation === "sum" ? "" : `) / ${used.length}`
      } (${from})`,
      cells: sources,
    });
  }
  return facts.slice(0, 6);
}
