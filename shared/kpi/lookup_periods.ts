/**
 * The periods a question names, and which cells' periods answer them: the same period ("FY25"
 * for a column "FY 2024-25"), the same month or quarter of any year when the question gives none
 * ("June", "H1"), or the finer periods a range is made of ("H1 2025" over monthly columns, "Q1
 * FY25" over months, "2024" over quarters), so a total the file does not state is summed from
 * the cells it is made of. Fiscal periods ("FY25", "Q1 FY25", "H1 FY 2024-25") follow the Indian
 * year, April to March, as the tables this product reads keep them; calendar ones run January to
 * December.
 */
import { parsePeriod, type Period } from "./periods.ts";

export interface AskedPeriod {
  label: string;
  key: string;
  sort: number;
  kind: Period["kind"];
  /** An Indian fiscal year (April to March) rather than a calendar one. */
  fiscal: boolean;
  /** No year given ("June", "H1"): any year's, the latest one a series has. */
  anyYear: boolean;
}

const MONTH_WORDS =
  "january|february|march|april|june|july|august|september|october|november|december|jan|feb|mar|apr|jun|jul|aug|sept|sep|oct|nov|dec";

/** Periods with a year first (they win over a bare month or quarter inside them), then bare ones. */
const PERIOD_PATTERNS = [
  /\b(?:q[1-4]|h[12])\s*[-']?\s*(?:fy\s*)?'?\d{2,4}(?:\s*[-–]\s*\d{2,4})?\b/gi,
  /\bfy\s*'?\d{2,4}(?:\s*[-–]\s*\d{2,4})?\b/gi,
  /\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?[\s-]*'?\d{2,4}\b/gi,
  /\b(?:19|20)\d{2}(?:\s*[-–]\s*\d{2,4})?\b/g,
  /\b(?:q[1-4]|h[12])\b/gi,
  new RegExp(`\\b(?:${MONTH_WORDS})\\b`, "gi"),
  // "may" alone is a month only after "in", "for", "during" or "of".
  /(?<=\b(?:in|for|during|of)\s+)may\b/gi,
];

export function periodKey(p: Period): string {
  return `${p.kind}:${p.sort}`;
}

/** The question without its periods (each replaced by spaces). */
export function withoutPeriods(question: string): string {
  let rest = question;
  for (const re of PERIOD_PATTERNS) rest = rest.replace(re, (m) => " ".repeat(m.length));
  return rest;
}

/** The periods a question names, in the order written, as parsePeriod reads them. */
export function questionPeriods(question: string): AskedPeriod[] {
  let rest = question;
  const found: (AskedPeriod & { at: number })[] = [];
  for (const re of PERIOD_PATTERNS) {
    rest = rest.replace(re, (m, at: number) => {
      const p = parsePeriod(m.replace(/\.(?=\s|-|')/, ""));
      if (!p) return m;
      found.push({
        at,
        label: m.trim(),
        key: periodKey(p),
        sort: p.sort,
        kind: p.kind,
        fiscal: /fy|f\.y\.|\d\s*[-–]\s*\d/i.test(m),
        anyYear: p.sort < 100,
      });
      return " ".repeat(m.length);
    });
  }
  found.sort((a, b) => a.at - b.at);
  const seen = new Set<string>();
  return found.filter((f) => !seen.has(f.key) && seen.add(f.key)).map(({ at: _at, ...f }) => f);
}

/** How a cell's period answers an asked one: the same period, or one part of it. */
export type PeriodMatch =
  | { how: "same"; year: number }
  | { how: "part"; year: number; partKind: Period["kind"]; parts: number };

const MONTHS_IN: Record<Period["kind"], number> = { month: 1, quarter: 3, half: 6, year: 12 };

/** The months (as year × 12 + month − 1) an asked period covers in year `year`. */
function monthSpan(asked: AskedPeriod, year: number): [number, number] {
  const n = asked.kind === "year" ? 1 : asked.sort % 100;
  const length = MONTHS_IN[asked.kind];
  const start = (asked.fiscal ? (year - 1) * 12 + 3 : year * 12) + (n - 1) * length;
  return [start, start + length - 1];
}

/** Whether the cell's period `cell` answers `asked`, and how; undefined when it does not. */
export function matchPeriod(asked: AskedPeriod, cell: Period): PeriodMatch | undefined {
  const cellYear = Math.floor(cell.sort / 100);
  if (cell.kind === asked.kind) {
    if (cell.sort === asked.sort && !asked.anyYear) return { how: "same", year: cellYear };
    if (asked.anyYear && cellYear > 0 && cell.sort % 100 === asked.sort) {
      return { how: "same", year: cellYear };
    }
    return undefined;
  }
  if (MONTHS_IN[cell.kind] >= MONTHS_IN[asked.kind] || cellYear === 0) return undefined;
  const parts = MONTHS_IN[asked.kind] / MONTHS_IN[cell.kind];
  if (cell.kind === "month") {
    const at = cellYear * 12 + (cell.sort % 100) - 1;
    // The range's year: the asked one, or (any year) the one whose span holds this month.
    const years = asked.anyYear ? [cellYear, cellYear + 1] : [Math.floor(asked.sort / 100)];
    for (const year of years) {
      const [from, to] = monthSpan(asked, year);
      if (at >= from && at <= to) return { how: "part", year, partKind: "month", parts };
    }
    return undefined;
  }
  // Quarters of a half or a year, halves of a year: labelled with the same year as the range.
  const year = asked.anyYear ? cellYear : Math.floor(asked.sort / 100);
  if (cellYear !== year) return undefined;
  const n = cell.sort % 100;
  const inside = asked.kind === "year" || Math.ceil(n / parts) === asked.sort % 100;
  return inside ? { how: "part", year, partKind: cell.kind, parts } : undefined;
}
