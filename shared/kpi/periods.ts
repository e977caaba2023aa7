/**
 * Period labels as accounts write them, Indian and international: FY2025, FY 2024-25, 2024-25,
 * FY25, Q1 FY25, H1 FY26, Mar-25, March 2025, 2025-03, 03/2025, Apr-2025, 2025. A period keeps
 * its label as written; its kind and sort key let tables in reverse order (FY 2024-25 before
 * FY 2023-24, as Indian statements print them) be read oldest first, and tell a run of months or
 * quarters (which a total column sums) from years (which it does not).
 */

export interface Period {
  kind: "month" | "quarter" | "half" | "year";
  /** Orders periods of one kind: fiscal or calendar year × 100 + month, quarter or half. */
  sort: number;
}

const MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];

function fullYear(y: string): number {
  const n = Number(y);
  return y.length === 2 ? 2000 + n : n;
}

/** The year a span ends in: "2024-25" → 2025, "2024-2025" → 2025; undefined if not consecutive. */
function spanEnd(a: string, b: string): number | undefined {
  const start = fullYear(a);
  const end = b.length === 2 ? Math.floor(start / 100) * 100 + Number(b) : Number(b);
  const fixed = end < start ? end + 100 : end;
  return fixed === start + 1 ? fixed : undefined;
}

/** The year of "FY25", "FY2025", "FY 2024-25", "2024-25", "2025"; undefined for anything else. */
function fiscalYear(s: string): number | undefined {
  let m = /^(?:fy|f\.y\.?)?\s*'?(\d{4}|\d{2})\s*[-/–]\s*(\d{4}|\d{2})$/.exec(s);
  if (m && (m[1]!.length === 4 || s.startsWith("f"))) return spanEnd(m[1]!, m[2]!);
  m = /^(?:fy|f\.y\.?)\s*'?(\d{4}|\d{2})$/.exec(s);
  if (m) return fullYear(m[1]!);
  m = /^((?:19|20)\d{2})$/.exec(s);
  if (m) return Number(m[1]);
  return undefined;
}

/** The period a header or cell names, or undefined. */
export function parsePeriod(text: string): Period | undefined {
  const s = text.trim().toLowerCase().replace(/\s+/g, " ").replace(/^(fy|q[1-4]|h[12])[-_]/, "$1 ")
    .replace(/^(?:year ended|year ending|ye|for the year ended)\s+/, "");
  if (!s || s.length > 40) return undefined;
  // Quarter or half, with a year before or after: "Q1 FY25", "Q1 2025", "Q1-25", "FY25 Q1".
  let m = /^(q|h)([1-4])\s*[-'’ ]?\s*(.*)$/.exec(s) ?? /^(.*?)\s*[-' ]?\s*(q|h)([1-4])$/.exec(s);
  if (m) {
    const [kindChar, n, rest] = m[1] === "q" || m[1] === "h" ? [m[1], m[2]!, m[3]!] : [
      m[2]!,
      m[3]!,
      m[1]!,
    ];
    const max = kindChar === "q" ? 4 : 2;
    if (Number(n) > max) return undefined;
    const y = rest.trim() === "" ? 0 : fiscalYear(rest.trim()) ??
      (/^'?\d{2}$/.test(rest.trim()) ? fullYear(rest.trim().replace("'", "")) : undefined);
    if (y === undefined) return undefined;
    return { kind: kindChar === "q" ? "quarter" : "half", sort: y * 100 + Number(n) };
  }
  const fy = fiscalYear(s);
  if (fy !== undefined) return { kind: "year", sort: fy * 100 };
  // Months: "Mar-25", "Mar 2025", "March 2025", "Mar'25", "2025-03", "03/2025", "Mar".
  m = /^([a-z]{3,9})\.?\s*[-/' ’]?\s*(\d{4}|\d{2})?$/.exec(s);
  if (m) {
    const month = MONTHS.indexOf(m[1]!.slice(0, 3)) + 1;
    const full = [
      "january",
      "february",
      "march",
      "april",
      "may",
      "june",
      "july",
      "august",
      "september",
      "october",
      "november",
      "december",
    ];
    if (month === 0 || !(m[1]!.length === 3 || m[1] === "sept" || full.includes(m[1]!))) {
      return undefined;
    }
    return { kind: "month", sort: (m[2] ? fullYear(m[2]) : 0) * 100 + month };
  }
  m = /^(\d{4})[-/](\d{1,2})$/.exec(s);
  if (m && Number(m[2]) >= 1 && Number(m[2]) <= 12) {
    return { kind: "month", sort: Number(m[1]) * 100 + Number(m[2]) };
  }
  m = /^(\d{1,2})[-/](\d{4})$/.exec(s);
  if (m && Number(m[1]) >= 1 && Number(m[1]) <= 12) {
    return { kind: "month", sort: Number(m[2]) * 100 + Number(m[1]) };
  }
  return undefined;
}

/**
 * The periods oldest first when every one parses and they are of one kind (a table printed
 * newest first is read in time order); else as written.
 */
export function inTimeOrder(labels: string[]): string[] {
  const parsed = labels.map((l) => parsePeriod(l));
  if (parsed.some((p) => !p) || new Set(parsed.map((p) => p!.kind)).size !== 1) return labels;
  return labels.map((l, i) => ({ l, i, s: parsed[i]!.sort }))
    .sort((a, b) => a.s - b.s || a.i - b.i).map((x) => x.l);
}

/** Whether a total over these periods means something: months, quarters or halves, not years. */
export function summable(labels: string[]): boolean {
  if (labels.length < 2) return false;
  const kinds = new Set(labels.map((l) => parsePeriod(l)?.kind));
  return kinds.size === 1 && !kinds.has("year") && !kinds.has(undefined);
}
