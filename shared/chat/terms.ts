/** The words of a question that say what it is about (stop words removed), and its numbers. */

const STOP = new Set(
  ("a an and are as at be by can could did do does for from had has have how i in is it its me " +
    "my of on or our please show tell that the their them there these this those to us was we " +
    "were what when where which who whom why will with would you your about give find list any " +
    "all much many much than then into over per").split(" "),
);

export interface QuestionTerms {
  /** Lower-cased content words (stop words removed). */
  words: string[];
  /** Numbers written in the question, digits only ("1,200" → "1200"). */
  numbers: string[];
  /** The question asks for a figure (a number, an amount, a rate), so a table row answers it best. */
  numeric: boolean;
}

/** Words that ask for a figure. */
const NUMERIC =
  /\b(?:how (?:much|many)|total|amount|value|sum|average|avg|revenue|sales|turnover|income|cost|costs|spend|spent|expenses?|profit|margin|ebitda|growth|grew|rate|ratio|percent(?:age)?|price|balance|budget|figure|number|count)\b|%|\d/i;

export function questionTerms(question: string): QuestionTerms {
  const lower = question.toLowerCase();
  const words = [...new Set(lower.match(/[\p{L}][\p{L}\p{N}_-]*/gu) ?? [])]
    .filter((w) => w.length > 1 && !STOP.has(w));
  const numbers = [...new Set((lower.match(/\d[\d,]*(?:\.\d+)?/g) ?? []).map(digitsOf))];
  return { words, numbers, numeric: NUMERIC.test(lower) };
}

/** A number as digits only, for comparing "1,200", "1200" and "1200.00". */
export function digitsOf(raw: string): string {
  return raw.replace(/,/g, "").replace(/\.0+$/, "");
}

/** How well a piece of text matches the question: matching words, numbers count double. */
export function matchScore(text: string, terms: QuestionTerms): number {
  const lower = text.toLowerCase();
  const tokens = new Set(lower.match(/[\p{L}][\p{L}\p{N}_-]*/gu) ?? []);
  const numbers = new Set((lower.match(/\d[\d,]*(?:\.\d+)?/g) ?? []).map(digitsOf));
  let score = 0;
  for (const w of terms.words) {
    if (tokens.has(w)) score += 1;
    else if (
      w.length > 3 && [...tokens].some((t) => t.startsWith(w) || w.startsWith(t) && t.length > 3)
    ) {
      score += 0.5;
    }
  }
  for (const n of terms.numbers) if (numbers.has(n)) score += 2;
  return score;
}
