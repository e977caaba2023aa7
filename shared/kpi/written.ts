/**
 * Numbers as a text writes them, and the check that every number of a generated text is one of
 * its sources' figures. One rule for the report narrative (its KPI table) and for chat answers
 * (the cited passages, cells and computed facts), so a figure verified in one is verified in the
 * other: "1,20,000", "120000" and "120,000.00" are the same number; "11.5%" is 11.5; "₹1,200",
 * "Rs. 1,200" and "$1,200" are 1,200 (the currency sign is not part of the number); "1.2 lakh",
 * "0.12 crore", "1.2M" and "120K" are 120,000 at the precision written.
 */

const SCALES: Record<string, number> = {
  thousand: 1e3,
  k: 1e3,
  lakh: 1e5,
  lakhs: 1e5,
  lac: 1e5,
  lacs: 1e5,
  l: 1e5,
  crore: 1e7,
  crores: 1e7,
  cr: 1e7,
  m: 1e6,
  mn: 1e6,
  million: 1e6,
  millions: 1e6,
  b: 1e9,
  bn: 1e9,
  billion: 1e9,
};

const NUMBER =
  /(\d[\d,]*(?:\.\d+)?|\.\d+)(\s*(?:%|percent\b|thousand\b|k\b|lakhs?\b|lacs?\b|l\b|crores?\b|cr\b|mn\b|m\b|millions?\b|bn\b|b\b|billion\b))?/gi;

export interface WrittenNumber {
  text: string;
  value: number;
  /** Half a unit of the last digit written, times the scale: how far the true value may be. */
  tolerance: number;
}

/** The numbers written in `text`, with their scale words ("1.2 lakh" is 120,000 ± 5,000). */
export function writtenNumbers(text: string): WrittenNumber[] {
  const out: WrittenNumber[] = [];
  for (const m of text.matchAll(NUMBER)) {
    const digits = m[1]!.replace(/,/g, "");
    const unit = (m[2] ?? "").trim().toLowerCase();
    const scale = unit === "%" || unit === "percent" || !unit ? 1 : SCALES[unit] ?? 1;
    const decimals = digits.includes(".") ? digits.length - digits.indexOf(".") - 1 : 0;
    out.push({
      text: m[0].trim(),
      value: Number(digits) * scale,
      tolerance: 0.5 * 10 ** -decimals * scale,
    });
  }
  return out;
}

/** Whether the written number `w` is `value` at the precision it is written in (signs ignored). */
export function writtenAs(w: WrittenNumber, value: number): boolean {
  const v = Math.abs(value);
  return Math.abs(v - w.value) <= w.tolerance + 1e-9 * v;
}

/** Citation markers `[n]` of the `citations` sources, blanked so they are not read as numbers. */
export function withoutCitations(text: string, citations: number): string {
  return text.replace(
    /\[(\d+)\]/g,
    (m, n) => (Number(n) >= 1 && Number(n) <= citations ? " " : m),
  );
}

/**
 * The numbers of `text` that are none of `allowed` (at the precision written, signs ignored), as
 * written, each once. Citation markers of the `citations` sources are not numbers.
 */
export function unmatchedNumbers(text: string, allowed: number[], citations = 0): string[] {
  const out: string[] = [];
  for (const w of writtenNumbers(withoutCitations(text, citations))) {
    if (!allowed.some((v) => writtenAs(w, v)) && !out.includes(w.text)) out.push(w.text);
  }
  return out;
}

/**
 * The values a source text states: each written number, with its scale word applied and also as
 * the digits alone ("3.2 lakh" allows 320,000 and 3.2).
 */
export function statedValues(texts: string[]): number[] {
  const values: number[] = [];
  for (const t of texts) {
    for (const m of t.matchAll(NUMBER)) {
      const raw = Number(m[1]!.replace(/,/g, ""));
      values.push(raw);
      const w = writtenNumbers(m[0])[0];
      if (w && w.value !== raw) values.push(w.value);
    }
  }
  return values;
}
