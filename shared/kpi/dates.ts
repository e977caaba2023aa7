/** Dates as bank statements write them, to a month key "YYYY-MM". */

const MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];

export interface DateParts {
  year: number;
  month: number;
  day: number;
}

function year(y: string): number {
  const n = Number(y);
  return y.length === 2 ? 2000 + n : n;
}

/**
 * Parses ISO (2025-04-03, 2025/04/03), numeric day-first or month-first (03/04/2025; `dayFirst`
 * decides when both parts could be a month), and named months (03-Apr-2025, 3 April 2025,
 * Apr 3, 2025). Returns undefined for anything else.
 */
export function parseDate(text: string, dayFirst = true): DateParts | undefined {
  const s = text.trim().toLowerCase();
  let m = /^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[ t].*)?$/.exec(s);
  if (m) return valid(Number(m[1]), Number(m[2]), Number(m[3]));
  m = /^(\d{1,2})[-/.](\d{1,2})[-/.](\d{2}|\d{4})$/.exec(s);
  if (m) {
    const a = Number(m[1]);
    const b = Number(m[2]);
    const df = a > 12 ? true : b > 12 ? false : dayFirst;
    return df ? valid(year(m[3]!), b, a) : valid(year(m[3]!), a, b);
  }
  m = /^(\d{1,2})[-/ .]([a-z]{3,9})[-/ .,]+(\d{2}|\d{4})$/.exec(s);
  if (m) return valid(year(m[3]!), MONTHS.indexOf(m[2]!.slice(0, 3)) + 1, Number(m[1]));
  m = /^([a-z]{3,9})[-/ .]+(\d{1,2}),?[-/ .]+(\d{4})$/.exec(s);
  if (m) return valid(Number(m[3]), MONTHS.indexOf(m[1]!.slice(0, 3)) + 1, Number(m[2]));
  return undefined;
}

function valid(y: number, month: number, day: number): DateParts | undefined {
  if (month < 1 || month > 12 || day < 1 || day > 31 || y < 1900 || y > 2200) return undefined;
  return { year: y, month, day };
}

export function monthKey(d: DateParts): string {
  return `${d.year}-${String(d.month).padStart(2, "0")}`;
}

/** Whether numeric dates in this column put the day first (any first part above 12 says so). */
export function guessDayFirst(texts: string[]): boolean {
  for (const t of texts) {
    const m = /^(\d{1,2})[-/.](\d{1,2})[-/.]\d{2,4}$/.exec(t.trim());
    if (!m) continue;
    if (Number(m[1]) > 12) return true;
    if (Number(m[2]) > 12) return false;
  }
  return true;
}
