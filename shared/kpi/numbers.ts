/**
 * Numbers as people write them in financial tables, and as reports print them.
 *
 * Parsing accepts: thousands separators in Western (1,200,000) and Indian (12,00,000) grouping,
 * spaces or apostrophes as separators, currency symbols and codes before or after (₹ Rs INR $ USD
 * € EUR £ GBP), parentheses or a leading/trailing minus (also U+2212) for negatives, a trailing
 * "%" (the number as written: "12.5%" is 12.5 with `percent`), and a trailing "Cr"/"Dr" of bank
 * statements (Dr negative). Indian grouping with no currency written is taken as INR. Anything
 * else (text, dates, "n/a", "-") is not a number; `parseCell` reads a table cell, where a lone
 * dash is how accountants write zero.
 */

export interface ParsedAmount {
  value: number;
  percent: boolean;
  /** ISO code of a currency sign or code written in the cell. */
  currency?: string;
}

const CURRENCIES: [RegExp, string][] = [
  [/₹|\brs\.?|\binr\b/i, "INR"],
  [/\$|\busd\b/i, "USD"],
  [/€|\beur\b/i, "EUR"],
  [/£|\bgbp\b/i, "GBP"],
];

export function parseAmount(raw: string): ParsedAmount | null {
  let s = raw.trim();
  if (!s) return null;
  let negative = false;
  let currency: string | undefined;
  for (const [re, code] of CURRENCIES) {
    if (re.test(s)) {
      currency = code;
      s = s.replace(re, "");
      break;
    }
  }
  s = s.replace(/\s+/g, " ").trim();
  const drCr = /\s*\b(dr|cr)\.?$/i.exec(s);
  if (drCr) {
    negative = drCr[1]!.toLowerCase() === "dr";
    s = s.slice(0, drCr.index).trim();
  }
  if (/^\(.*\)$/.test(s)) {
    negative = !negative;
    s = s.slice(1, -1).trim();
  }
  s = s.replace(/\u2212/g, "-");
  if (s.startsWith("-")) {
    negative = !negative;
    s = s.slice(1).trim();
  } else if (s.endsWith("-")) {
    negative = !negative;
    s = s.slice(0, -1).trim();
  } else if (s.startsWith("+")) s = s.slice(1).trim();
  // Currency after the sign: "-₹1,200" / "(₹ 1,200)".
  for (const [re, code] of CURRENCIES) {
    if (re.test(s)) {
      currency ??= code;
      s = s.replace(re, "").trim();
    }
  }
  let percent = false;
  if (s.endsWith("%")) {
    percent = true;
    s = s.slice(0, -1).trim();
  }
  if (!/^\d{1,3}([,' ]\d{2,3})*(\.\d+)?$|^\d+(\.\d+)?$|^\.\d+$/.test(s)) return null;
  const grouped = s.match(/^(\d{1,3})((?:[,' ]\d{2,3})*)(\.\d+)?$/);
  if (grouped && grouped[2]) {
    const groups = grouped[2].split(/[,' ]/).slice(1);
    // The last group has 3 digits; groups before it have 2 (Indian) or 3 (Western) digits.
    const last = groups[groups.length - 1]!;
    if (last.length !== 3) return null;
    const lengths = new Set(groups.slice(0, -1).map((g) => g.length));
    if (lengths.size > 1) return null;
    // Indian digit grouping (lakh, crore) without a sign: rupees.
    if (lengths.has(2) && !currency) currency = "INR";
  }
  const value = Number(s.replace(/[,' ]/g, ""));
  if (!Number.isFinite(value)) return null;
  return {
    value: negative ? -value : value,
    percent,
    ...(currency ? { currency } : {}),
  };
}

/**
 * A cell of a financial table: `parseAmount`, and a lone dash ("-", "–", "—") is zero, as
 * accounts write a nil line; a trailing "/-" (Indian "Rs. 1,200/-") is dropped.
 */
export function parseCell(raw: string): ParsedAmount | null {
  const s = raw.trim();
  if (/^[-\u2013\u2014\u2212]$/.test(s)) return { value: 0, percent: false };
  return parseAmount(s.replace(/\s*\/-$/, ""));
}

/** Groups the digits of a non-negative integer string: Indian 12,34,567 or Western 1,234,567. */
function group(digits: string, indian: boolean): string {
  if (digits.length <= 3) return digits;
  const last3 = digits.slice(-3);
  const rest = digits.slice(0, -3);
  const size = indian ? 2 : 3;
  const parts: string[] = [];
  for (let end = rest.length; end > 0; end -= size) {
    parts.unshift(rest.slice(Math.max(0, end - size), end));
  }
  return `${parts.join(",")},${last3}`;
}

/**
 * A money amount as reports print it: whole units when it is whole or at least 1,000, else two
 * decimals; Indian grouping for INR; a leading "-" for negatives (never parentheses); no symbol
 * (the currency is named once in the report's heading).
 */
export function formatMoney(value: number, currency: string | null): string {
  const decimals = Number.isInteger(value) || Math.abs(value) >= 1000 ? 0 : 2;
  const fixed = Math.abs(value).toFixed(decimals);
  const [int, frac] = fixed.split(".");
  const text = group(int!, currency === "INR") + (frac ? `.${frac}` : "");
  return (value < 0 && Number(fixed) !== 0 ? "-" : "") + text;
}

/** A percentage with one decimal: "12.5%". */
export function formatPercent(value: number): string {
  const fixed = value.toFixed(1);
  return `${fixed === "-0.0" ? "0.0" : fixed}%`;
}

/** Months with one decimal. */
export function formatMonths(value: number): string {
  return `${value.toFixed(1)} months`;
}

/** A figure's value as the report prints it. */
export function formatValue(
  value: number,
  unit: "money" | "percent" | "months" | "count",
  currency: string | null,
): string {
  switch (unit) {
    case "money":
      return formatMoney(value, currency);
    case "percent":
      return formatPercent(value);
    case "months":
      return formatMonths(value);
    case "count":
      return String(Math.round(value));
  }
}
