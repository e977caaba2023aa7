/**
 * Forms the search query of a chat turn from the question and the user's previous turns, so that a
 * follow-up ("and in 2025?" after "What was revenue in 2024?") searches for what it means
 * ("What was revenue in 2025?" in substance) rather than for its own few words.
 *
 * A question is a follow-up when it starts like one ("and …", "what about …", "how about …",
 * "same for …", "vs …"), or when it has no content word of its own (words that are not stop words,
 * numbers or periods: "in 2025?"), or when it refers back ("it", "that", "those", "them", "the
 * same") with at most three content words. Then the previous turn (itself resolved the same way) is its context: the periods the
 * follow-up names (years, quarters, halves, months, fiscal years) replace the periods of the same
 * kind in that context, and the follow-up's words are added. Otherwise the question is searched as
 * it is. Pure: no I/O.
 */

const MAX_QUERY_CHARS = 1000;
/** Earlier turns looked at, at most (a chain of follow-ups resolves through them). */
const MAX_TURNS = 6;

const FOLLOW_UP_START =
  /^\s*(?:and|also|but|or|then|plus|vs\.?|versus|compared\s+(?:to|with)|what\s+about|how\s+about|and\s+what\s+about|same\s+(?:for|in|with)|what\s+if|now|ok(?:ay)?,?\s+and|for)\b/i;
const REFERS_BACK =
  /\b(?:it|its|that|those|these|this|they|them|their|there|same|latter|former|previous)\b/i;

const STOP_WORDS = new Set(
  ("a an the and or but if then so of in on at to for from by with about as into over under " +
    "what which who whom whose when where why how is are was were be been being do does did " +
    "have has had can could should would will shall may might must i me my we our us you your " +
    "it its this that these those they them their there here please tell show give find list " +
    "much many more most less least any some all each per vs versus also now ok okay plus " +
    "compared same latter former previous not no yes")
    .split(" "),
);

/** Kinds of period a follow-up may swap for the previous turn's. */
const PERIODS: RegExp[] = [
  /\b(?:fy\s?)?(?:19|20)\d{2}(?:[-/](?:\d{2}|\d{4}))?\b/gi, // years, FY2025, 2024-25
  /\bfy\s?\d{2}\b/gi, // FY25
  /\bq[1-4]\b|\b(?:first|second|third|fourth)\s+quarter\b/gi,
  /\bh[12]\b|\b(?:first|second)\s+half\b/gi,
  /\b(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\b/gi,
];

function words(text: string): string[] {
  return text.toLowerCase().match(/[\p{L}\p{N}][\p{L}\p{N}'.-]*/gu) ?? [];
}

function isPeriodOrNumber(word: string): boolean {
  if (/^[\d.,%-]+$/.test(word)) return true;
  return PERIODS.some((re) => {
    re.lastIndex = 0;
    const m = re.exec(word);
    return m !== null && m[0].length === word.length;
  });
}

/** Words that carry the topic: not stop words, numbers or periods. */
export function contentWords(text: string): string[] {
  return words(text).filter((w) => !STOP_WORDS.has(w) && !isPeriodOrNumber(w));
}

/** Whether `question` only makes sense with the previous turn. */
export function isFollowUp(question: string): boolean {
  const content = contentWords(question).length;
  if (FOLLOW_UP_START.test(question)) return true;
  if (content === 0) return true;
  return REFERS_BACK.test(question) && content <= 3;
}

function clean(text: string): string {
  return text.replace(/\s+/g, " ").replace(/\s+([?.!,;:])/g, "$1").trim();
}

function withoutLead(question: string): string {
  return question.replace(FOLLOW_UP_START, " ");
}

/** `context` with the periods of each kind that `followUp` names removed. */
function swapPeriods(context: string, followUp: string): string {
  let out = context;
  for (const re of PERIODS) {
    re.lastIndex = 0;
    if (re.test(followUp)) {
      re.lastIndex = 0;
      out = out.replace(re, " ");
    }
    re.lastIndex = 0;
  }
  return out;
}

function truncate(text: string): string {
  if (text.length <= MAX_QUERY_CHARS) return text;
  return text.slice(0, MAX_QUERY_CHARS).replace(/\s+\S*$/, "");
}

/**
 * The text to search for `question`, given the user's earlier turns in this session (oldest
 * first; only user turns: the assistant's answers would pull the search towards what was already
 * found).
 */
export function formSearchQuery(question: string, previousUserTurns: string[] = []): string {
  const q = clean(question);
  const turns = previousUserTurns.slice(-MAX_TURNS).map(clean).filter(Boolean);
  if (turns.length === 0 || !isFollowUp(q)) return truncate(q);
  const context = formSearchQuery(turns[turns.length - 1]!, turns.slice(0, -1));
  return truncate(clean(`${swapPeriods(context, q)} ${withoutLead(q)}`));
}
