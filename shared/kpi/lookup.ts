/**
 * A question answered from the cells of uploaded tables: the cells that name its measure, its
 * entity and its period(s), and the arithmetic it asks for (growth, difference, sum, average, a
 * margin), computed here by code with the report's rules (growth is (later − earlier) /
 * |earlier|, as the report's change rows; a margin is a profit line ÷ revenue of the same table
 * and period; numbers are read by `parseCell`, periods by `parsePeriod`, headers found below title
 * rows by `locateHeader`), never by a model. Each fact says which file, sheet, row and column its
 * figures come from. Pure: give it tables, get facts.
 *
 * A cell matches when the words of the question (without its periods and operation words) match
 * its row's labels, its column's header and its file or sheet name well enough (all of them, or
 * all but one when there are four or more: a cell is better missed than wrong; generic measure
 * words such as "cost", "expenses" or "price" count when they match and are not required, so "freight
 * cost" finds a line called "Freight"), and, when the question names periods, its period is one
 * of them (lookup_periods.ts: the same period, the same month of the latest year when no year is
 * given, or the months or quarters a range such as "H1 2025" is made of, summed only when every
 * one of them is there). When several cells match equally (a label two tables share), every one
 * is a fact, so the answer names them all.
 */
import { type LineItem, matchLineItem } from "./labels.ts";
import { layoutFor } from "./lookup_layout.ts";
import {
  type AskedPeriod,
  matchPeriod,
  type PeriodMatch,
  questionPeriods,
  withoutPeriods,
} from "./lookup_periods.ts";
import { formatPercent, parseCell } from "./numbers.ts";
import { parsePeriod, type Period } from "./periods.ts";
import { cellSource, describeSource, type SourceTable } from "./tables.ts";
import type { Provenance } from "./types.ts";

export { questionPeriods } from "./lookup_periods.ts";

export type FactOperation = "cell" | "growth" | "difference" | "sum" | "average" | "margin";

export type FactCell = Provenance & { raw: string; period?: string };

export interface CellFact {
  operation: FactOperation;
  /** The figure: a cell's value, or the result of the operation. */
  value: number;
  unit: "number" | "percent";
  /** The figure as the answer should write it (a cell as the file writes it). */
  figure: string;
  /** One line for the answer and for the model: what, the figure, how, and where from. */
  text: string;
  cells: FactCell[];
}

const OPERATION_WORDS =
  /\b(?:growth|grew|grow|increase[ds]?|decrease[ds]?|change[ds]?|difference|versus|vs|compared|total|sum|combined|average|mean|avg|from|to|between|and|value|figure|amount|number|what|was|were|is|the|of|in|for|how|much|many|by)\b/gi;

const STOP = new Set(
  "a an the of in on at for to from by and or with as what which who was were is are be how much many did does do our their its this that these those show tell me give please"
    .split(" "),
);

/** Words that name the kind of measure rather than which one: matched if present, not required. */
const SOFT = new Set(
  "cost costs expense expenses expenditure charge charges spend spent spending fee fees paid payment payments price prices"
    .split(" "),
);

/** "gross margin", "EBITDA margin", …: the profit line a margin divides by revenue. */
const MARGIN_OF: [RegExp, LineItem][] = [
  [/\bgross\s+(?:profit\s+)?margins?\b/i, "gross_profit"],
  [/\bebitda\s+margins?\b/i, "ebitda"],
  [/\b(?:ebit|operating(?:\s+profit)?)\s+margins?\b/i, "ebit"],
  [/\b(?:pbt|pre-?tax(?:\s+profit)?|profit\s+before\s+tax)\s+margins?\b/i, "pbt"],
  [/\b(?:net(?:\s+profit)?|pat|profit)\s+margins?\b/i, "net_income"],
];

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

/** What a cell must match: the question's words, or (a margin's parts) a line item. */
interface Matcher {
  words: string[];
  item?: LineItem;
}

interface Candidate {
  table: SourceTable;
  rowIndex: number;
  col: number;
  raw: string;
  value: number;
  percent: boolean;
  period?: string;
  /** Index of the asked period it answers (-1 when the question names none) and how. */
  asked: number;
  match?: PeriodMatch;
  score: number;
  label: string;
}

/** A figure of one series for one asked period: a cell, or the sum of the parts of a range. */
interface Point {
  series: string;
  table: SourceTable;
  label: string;
  asked: number;
  year: number;
  value: number;
  raw: string;
  period?: string;
  percent: boolean;
  cells: Candidate[];
}

function matcherOf(question: string): Matcher {
  const words = [...new Set(wordsOf(withoutPeriods(question).replace(OPERATION_WORDS, " ")))]
    .filter((w) => w.length > 1 && !STOP.has(w));
  return { words };
}

/** Every cell of `tables` that `matcher` and the asked periods accept, with its score. */
function candidates(matcher: Matcher, periods: AskedPeriod[], tables: SourceTable[]) {
  const hard = matcher.words.filter((w) => !SOFT.has(w));
  const required = hard.length > 0 ? hard : matcher.words;
  const need = required.length >= 4 ? required.length - 1 : required.length;
  if (required.length === 0 && !matcher.item) return [];
  // Which of the question's words a set of tokens matches, as flags (index: matcher.words).
  const flags = (tokens: Set<string>) => matcher.words.map((w) => matches(w, tokens));
  const isRequired = matcher.words.map((w) => required.includes(w));
  const all: Candidate[] = [];
  for (const source of tables) {
    const { table, periodColumns, labelColumns } = layoutFor(source);
    // Per table, once (a table can hold 20,000 rows): the file's and sheet's words, and per
    // column its header's period, words and line item.
    const nameTokens = [
      ...wordsOf(table.file.replace(/\.[a-z]+$/i, "").replace(/[_-]/g, " ")),
      ...wordsOf(table.sheet ?? ""),
    ];
    const width = Math.max(table.header.length, ...table.rows.map((r) => r.length));
    const valueColumns: number[] = [];
    for (let c = 0; c < width; c++) {
      if (!labelColumns.includes(c) && !periodColumns.includes(c)) valueColumns.push(c);
    }
    const headerPeriod = table.header.map((h) => parsePeriod(h ?? ""));
    const headerFlags = table.header.map((h, c) =>
      headerPeriod[c] ? [] : flags(new Set(wordsOf(h ?? "")))
    );
    const headerItem = table.header.map((h) => matcher.item ? matchLineItem(h ?? "") : undefined);
    table.rows.forEach((row, rowIndex) => {
      const labels = labelColumns.map((c) => row[c] ?? "").filter((s) => s.trim() !== "");
      let rowPeriod: { label: string; period: Period } | undefined;
      for (const c of periodColumns) {
        const p = parsePeriod(row[c] ?? "");
        if (p) {
          rowPeriod = { label: row[c]!, period: p };
          break;
        }
      }
      const rowFlags = flags(new Set([...labels.flatMap(wordsOf), ...nameTokens]));
      const rowItem = matcher.item !== undefined &&
        labels.some((l) => matchLineItem(l) === matcher.item);
      for (const col of valueColumns) {
        const cell = row[col];
        if (cell === undefined || cell.trim() === "") continue;
        const hp = headerPeriod[col];
        if (matcher.item && !rowItem && (hp || headerItem[col] !== matcher.item)) continue;
        const header = table.header[col] ?? "";
        const period = hp ? { label: header, period: hp } : rowPeriod;
        let asked = -1;
        let match: PeriodMatch | undefined;
        if (periods.length > 0) {
          if (!period) continue;
          asked = periods.findIndex((p) => (match = matchPeriod(p, period.period)) !== undefined);
          if (asked < 0) continue;
        }
        const colFlags = headerFlags[col] ?? [];
        let hits = 0;
        let score = 0;
        for (let i = 0; i < rowFlags.length; i++) {
          if (!rowFlags[i] && !colFlags[i]) continue;
          score++;
          if (isRequired[i]) hits++;
        }
        if (hits < need) continue;
        const parsed = parseCell(cell);
        if (!parsed) continue;
        all.push({
          table,
          rowIndex,
          col,
          raw: cell.trim(),
          value: parsed.value,
          percent: parsed.percent,
          ...(period ? { period: period.label } : {}),
          asked,
          ...(match ? { match } : {}),
          score,
          label: [...labels, ...(hp ? [] : [header])].join(", "),
        });
      }
    });
  }
  if (all.length === 0) return [];
  const top = Math.max(...all.map((c) => c.score));
  return all.filter((c) => c.score === top);
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
 * The points the candidates give: per series (a line of one table) and asked period, the cell of
 * that period, else the sum of a complete range of its parts; for a period with no year, the
 * latest year that has it. Ordered by asked period, then as the tables are.
 */
function pointsOf(cells: Candidate[], periods: AskedPeriod[]): Point[] {
  const groups = new Map<string, Candidate[]>();
  for (const c of cells) {
    const series = `${c.table.file}\u0000${c.table.sheet ?? ""}\u0000${c.label}`;
    const m = c.match;
    const how = m ? (m.how === "same" ? "same" : `part:${m.partKind}`) : "same";
    const key = `${series}\u0001${c.asked}\u0001${m?.year ?? 0}\u0001${how}`;
    groups.set(key, [...(groups.get(key) ?? []), c]);
  }
  // Per series and asked period: the latest year, a cell of the period before a sum of parts.
  const chosen = new Map<string, Point>();
  for (const [key, list] of groups) {
    const [series] = key.split("\u0001") as [string];
    const first = list[0]!;
    const m = first.match;
    let point: Point;
    if (!m || m.how === "same") {
      point = {
        series,
        table: first.table,
        label: first.label,
        asked: first.asked,
        year: m?.year ?? 0,
        value: first.value,
        raw: first.raw,
        ...(first.period !== undefined ? { period: first.period } : {}),
        percent: first.percent,
        cells: [first],
      };
    } else {
      const byPeriod = new Map<string, Candidate>();
      for (const c of list) if (!byPeriod.has(c.period ?? "")) byPeriod.set(c.period ?? "", c);
      const parts = [...byPeriod.values()];
      if (parts.length !== m.parts || parts.some((c) => c.percent)) continue;
      const value = parts.reduce((s, c) => s + c.value, 0);
      const asked = periods[first.asked]!;
      point = {
        series,
        table: first.table,
        label: first.label,
        asked: first.asked,
        year: m.year,
        value,
        raw: plain(value),
        period: asked.anyYear ? `${asked.label} ${asked.fiscal ? "FY" : ""}${m.year}` : asked.label,
        percent: false,
        cells: parts,
      };
    }
    const slot = `${series}\u0001${first.asked}`;
    const held = chosen.get(slot);
    const exact = (p: Point) => p.cells.length === 1 && p.cells[0]!.match?.how !== "part";
    if (
      !held || (exact(point) && !exact(held)) ||
      (exact(point) === exact(held) && point.year > held.year)
    ) {
      chosen.set(slot, point);
    }
  }
  return [...chosen.values()].sort((a, b) => a.asked - b.asked);
}

function where(c: Candidate): FactCell {
  return {
    ...cellSource(c.table, c.rowIndex, c.col, c.label),
    raw: c.raw,
    ...(c.period !== undefined ? { period: c.period } : {}),
  };
}

/** How a point was made: a cell as written, or its parts added up. */
function formula(p: Point): string {
  return p.cells.length === 1 ? p.raw : `(${p.cells.map((c) => c.raw).join(" + ")})`;
}

function sourcesOf(points: Point[]): FactCell[] {
  return points.flatMap((p) => p.cells.map(where));
}

/** A fact for one point: the cell, or the sum of a range's cells. */
function pointFact(p: Point): CellFact {
  const sources = p.cells.map(where);
  if (p.cells.length === 1) {
    return {
      operation: "cell",
      value: p.value,
      unit: p.percent ? "percent" : "number",
      figure: p.raw,
      text: `${p.label}${p.period ? `, ${p.period}` : ""}: ${p.raw} (${
        describeSource(sources[0]!)
      })`,
      cells: sources,
    };
  }
  const months = p.cells.map((c) => c.period).join(", ");
  return {
    operation: "sum",
    value: p.value,
    unit: "number",
    figure: p.raw,
    text: `${p.label} total of ${p.period} (${months}): ${p.raw} = ${
      p.cells.map((c) => c.raw).join(" + ")
    } (from ${sources.map(describeSource).join("; ")})`,
    cells: sources,
  };
}

/** Margins: the profit line ÷ revenue of the same table and period (gross: revenue − cost). */
function marginFacts(
  question: string,
  phrase: string,
  item: LineItem,
  tables: SourceTable[],
): CellFact[] {
  const periods = questionPeriods(question);
  const stated = candidates(matcherOf(question), periods, tables)
    .filter((c) => c.percent && /margin/i.test(c.label));
  if (stated.length > 0) return pointsOf(stated, periods).slice(0, 6).map(pointFact);
  const entity = matcherOf(question.replace(phrase, " ").replace(/\bmargins?\b/gi, " ")).words;
  const name = `${phrase[0]!.toUpperCase()}${phrase.slice(1).toLowerCase()}`;
  const of = (want: LineItem) =>
    pointsOf(candidates({ words: entity, item: want }, periods, tables), periods);
  const revenue = of("revenue");
  const profit = of(item);
  const cost = item === "gross_profit" ? of("cogs") : [];
  const facts: CellFact[] = [];
  const same = (a: Point, b: Point) =>
    a.table === b.table && a.asked === b.asked && a.year === b.year;
  for (const r of revenue) {
    if (r.value === 0) continue;
    const p = profit.find((x) => same(x, r));
    const c = p ? undefined : cost.find((x) => same(x, r));
    if (!p && !c) continue;
    const numerator = p ? p.value : r.value - Math.abs(c!.value);
    const value = (numerator / Math.abs(r.value)) * 100;
    const figure = formatPercent(value);
    const how = p
      ? `${p.label} ${formula(p)} / ${r.label} ${formula(r)}`
      : `(${r.label} ${formula(r)} − ${c!.label} ${formula(c!)}) / ${r.label} ${formula(r)}`;
    const cells = sourcesOf(p ? [p, r] : [r, c!]);
    facts.push({
      operation: "margin",
      value,
      unit: "percent",
      figure,
      text: `${name}${r.period ? `, ${r.period}` : ""}: ${figure} = ${how} (from ${
        cells.map(describeSource).join("; ")
      })`,
      cells,
    });
  }
  return facts.slice(0, 6);
}

/**
 * The facts that answer `question` from `tables`: the matching cells, or the result of the
 * operation the question asks for over them (one per series: a row or column of one table). An
 * empty list means no cell matches.
 */
export function answerFromCells(question: string, tables: SourceTable[]): CellFact[] {
  for (const [re, item] of MARGIN_OF) {
    const phrase = question.match(re)?.[0];
    if (phrase) return marginFacts(question, phrase, item, tables);
  }
  const periods = questionPeriods(question);
  const points = pointsOf(candidates(matcherOf(question), periods, tables), periods);
  if (points.length === 0) return [];
  const operation = operationOf(question, periods.length);
  if (operation === "cell") return points.slice(0, 6).map(pointFact);
  const series = new Map<string, Point[]>();
  for (const p of points) series.set(p.series, [...(series.get(p.series) ?? []), p]);
  const facts: CellFact[] = [];
  for (const used of series.values()) {
    const sources = sourcesOf(used);
    const from = `from ${sources.map(describeSource).join("; ")}`;
    const label = used[0]!.label;
    const first = used[0]!;
    const last = used.at(-1)!;
    if (operation === "growth" || operation === "difference") {
      if (used.length < 2) continue;
      const ends = sourcesOf([first, last]);
      if (operation === "growth") {
        if (first.value === 0) continue;
        const value = ((last.value - first.value) / Math.abs(first.value)) * 100;
        const figure = formatPercent(value);
        facts.push({
          operation,
          value,
          unit: "percent",
          figure,
          text: `${label} growth from ${first.period} to ${last.period}: ${figure} = (${
            formula(last)
          } − ${formula(first)}) / ${formula(first)} (${from})`,
          cells: ends,
        });
      } else {
        const value = last.value - first.value;
        const figure = plain(value);
        facts.push({
          operation,
          value,
          unit: "number",
          figure,
          text: `${label} change from ${first.period} to ${last.period}: ${figure} = ${
            formula(last)
          } − ${formula(first)} (${from})`,
          cells: ends,
        });
      }
      continue;
    }
    const sum = used.reduce((s, p) => s + p.value, 0);
    const value = operation === "sum" ? sum : sum / used.length;
    const figure = plain(value);
    const what = operation === "sum" ? "total" : "average";
    const terms = used.map(formula).join(" + ");
    facts.push({
      operation,
      value,
      unit: used.every((p) => p.percent) ? "percent" : "number",
      figure,
      text: `${label} ${what} of ${used.map((p) => p.period ?? p.raw).join(", ")}: ${figure} = ${
        operation === "sum" ? terms : `(${terms}) / ${used.length}`
      } (${from})`,
      cells: sources,
    });
  }
  return facts.slice(0, 6);
}
