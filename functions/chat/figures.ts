/**
 * Every figure of a model's answer is checked: a number it writes that is in none of the passages
 * it cites (their text, file name and location), none of the question's numbers and none of the
 * computed facts given to the model is flagged as an `unverified_figure` warning with the number
 * as written. The matching rule is the report narrative's (shared/kpi written.ts): grouping,
 * currency signs, percent signs and scale words (lakh, crore, million) do not make two numbers
 * different, and a rounding is the figure at the precision written. The answer itself is not
 * changed: the warning tells the reader which figure to check.
 */
import type { Warning } from "../../shared/chat/mod.ts";
import { statedValues, unmatchedNumbers } from "../../shared/kpi/mod.ts";
import { type Passage, passageLocation } from "../../shared/retrieval/mod.ts";
import type { QuestionTerms } from "../../shared/chat/mod.ts";

/** At most this many figures are flagged per answer (the rest would only repeat the point). */
const MAX_FLAGGED = 10;

/** The texts whose numbers the answer may state: the cited passages, with where they are. */
function citedTexts(passages: Passage[], cited: number[]): string[] {
  return cited.flatMap((n) => {
    const p = passages[n - 1];
    return p ? [p.content, p.fileName, passageLocation(p)] : [];
  });
}

/**
 * The `unverified_figure` warnings for an answer `text` citing the passages `cited` (1-based);
 * `facts` are texts computed by code that the model was given (their numbers are verified).
 */
export function unverifiedFigures(
  text: string,
  passages: Passage[],
  cited: number[],
  terms: QuestionTerms,
  facts: string[] = [],
): Warning[] {
  const allowed = [
    ...statedValues([...citedTexts(passages, cited), ...facts]),
    ...terms.numbers.map(Number),
  ];
  return unmatchedNumbers(text, allowed, passages.length).slice(0, MAX_FLAGGED).map((number) => ({
    code: "unverified_figure",
    number,
    message:
      `The answer states ${number}, which is not in any source it cites; check it before using it.`,
  }));
}
