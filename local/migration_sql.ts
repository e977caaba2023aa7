/**
 * How the Supabase CLI (2.117.0, whose `db push` is native TypeScript) reads a migration or seed
 * file: the statements it runs one by one and records in
 * `supabase_migrations.schema_migrations.statements`, whether the file runs in a transaction, and
 * which statements it takes out of the transaction. A port of the CLI's bundled code, quirks
 * included: where the CLI splits a file differently from Postgres (a backslash-escaped quote in an
 * E'' string, `$1$`, a nested parenthesis closing twice), the local runner fails the same way
 * `supabase db push` would, instead of hiding the problem until the deploy.
 *
 * The splitter is a small state machine over the code points of the text: `;` ends a statement
 * unless it is inside a quote ('…' or "…", doubled quotes kept), a dollar quote ($$ or $tag$), a
 * line comment, a (nested) block comment, parentheses or a BEGIN ATOMIC … END body; a backslash
 * outside those escapes the next character. Each statement keeps its leading comments and is
 * trimmed of whitespace and of its final `;`; empty statements are dropped.
 */

interface State {
  /** The next state after `ch`, which ends the token `text.slice(start, end)`; null: emit it. */
  next(ch: string, tok: Token): State | null;
}

/** The current token: `text.slice(start, end)` (the CLI builds this string; we index into it). */
interface Token {
  text: string;
  start: number;
  end: number;
}

const length = (t: Token) => t.end - t.start;
/** The token's last `n` code units (the whole token when shorter), like `token.slice(-n)`. */
const tail = (t: Token, n: number) => t.text.slice(Math.max(t.start, t.end - n), t.end);

const IDENTIFIER_CHAR = /[\p{L}\p{Nd}_$]/u;
const TAG_CHAR = /[\p{L}\p{Nd}_]/u;
const SPACE = /\s/u;

/** Whether the token ends with `BEGIN ATOMIC` (any case, any space between, whole words). */
function endsWithBeginAtomic(t: Token): boolean {
  let n = length(t) - 6;
  if (n < 0 || tail(t, 6).toUpperCase() !== "ATOMIC") return false;
  if (n > 0 && IDENTIFIER_CHAR.test(t.text[t.start + n - 1])) return false;
  // The CLI strips /\s+$/ from everything before ATOMIC, then looks for BEGIN at the end.
  let end = t.start + n;
  while (end > t.start && SPACE.test(t.text[end - 1])) end--;
  n = end - t.start - 5;
  if (n < 0 || t.text.slice(end - 5, end).toUpperCase() !== "BEGIN") return false;
  if (n === 0) return true;
  return !IDENTIFIER_CHAR.test(t.text[t.start + n - 1]);
}

class Ready implements State {
  next(ch: string, tok: Token): State | null {
    switch (ch) {
      case "$":
        return new Tag(length(tok) - ch.length);
      case "'":
      case '"':
        return new Quote(ch);
      case "-":
        return new Comment();
      case "/":
        return new Block();
      case "\\":
        return new Escape();
      case ";":
        return null;
      case "(":
        return new Atomic(new Ready(), ")");
      case "c":
      case "C":
        return endsWithBeginAtomic(tok) ? new Atomic(new Ready(), "END") : this;
      default:
        return this;
    }
  }
}

/** After one `-`: a second one opens a line comment. */
class Comment implements State {
  next(ch: string, tok: Token): State | null {
    return ch === "-" ? new Dollar("\n") : new Ready().next(ch, tok);
  }
}

/** After `/`: `/*` opens a block comment; nested ones count. */
class Block implements State {
  #depth = 0;
  next(ch: string, tok: Token): State | null {
    const window = tail(tok, 2);
    if (window === "/*") {
      this.#depth += 1;
      return this;
    }
    if (this.#depth === 0) return new Ready().next(ch, tok);
    if (window === "*/") {
      this.#depth -= 1;
      if (this.#depth === 0) return new Ready();
    }
    return this;
  }
}

/** Inside '…' or "…": a doubled delimiter stays inside. */
class Quote implements State {
  #escape = false;
  constructor(readonly delimiter: string) {}
  next(ch: string, tok: Token): State | null {
    if (this.#escape) {
      if (ch === this.delimiter) {
        this.#escape = false;
        return this;
      }
      return new Ready().next(ch, tok);
    }
    if (ch === this.delimiter) this.#escape = true;
    return this;
  }
}

/** Inside a dollar quote (or a line comment, whose delimiter is a newline): nothing is escaped. */
class Dollar implements State {
  constructor(readonly delimiter: string) {}
  next(_ch: string, tok: Token): State | null {
    return tail(tok, this.delimiter.length) === this.delimiter ? new Ready() : this;
  }
}

/** After `$`: letters, digits and `_` up to a second `$` make a dollar-quote tag. */
class Tag implements State {
  constructor(readonly offset: number) {}
  next(ch: string, tok: Token): State | null {
    if (ch === "$") return new Dollar(tok.text.slice(tok.start + this.offset, tok.end));
    if (TAG_CHAR.test(ch)) return this;
    return new Ready().next(ch, tok);
  }
}

/** After a backslash outside quotes: the next character is taken as is. */
class Escape implements State {
  next(): State | null {
    return new Ready();
  }
}

/** Inside parentheses or a BEGIN ATOMIC body: `;` does not split until the delimiter. */
class Atomic implements State {
  constructor(private prev: State, readonly delimiter: string) {}
  next(ch: string, tok: Token): State | null {
    const prev = this.prev.next(ch, tok);
    if (prev !== null) this.prev = prev;
    if (
      this.prev instanceof Ready &&
      tail(tok, this.delimiter.length).toUpperCase() === this.delimiter.toUpperCase()
    ) {
      return new Ready();
    }
    return this;
  }
}

/** The raw tokens: each up to and including its splitting `;`, and the unterminated rest. */
function tokens(text: string): string[] {
  const out: string[] = [];
  let state: State = new Ready();
  let start = 0;
  for (let i = 0; i < text.length;) {
    const step = (text.codePointAt(i) ?? 0) > 0xffff ? 2 : 1;
    const ch = text.slice(i, i + step);
    i += step;
    const next = state.next(ch, { text, start, end: i });
    if (next === null) {
      out.push(text.slice(start, i));
      start = i;
      state = new Ready();
    } else {
      state = next;
    }
  }
  if (start < text.length) out.push(text.slice(start));
  return out;
}

/** The statements of a SQL text, as the CLI splits a file (and records a migration's). */
export function splitStatements(text: string): string[] {
  return tokens(text).map((t) => t.replace(/;+$/u, "").trim()).filter((t) => t.length > 0);
}

/** A first line that makes the CLI run the migration's statements one by one, without a transaction. */
export const NO_TRANSACTION_MARKER = "-- pg-delta: transaction=false";

export interface ParsedMigration {
  statements: string[];
  /** "none": run statement by statement, outside any transaction (see NO_TRANSACTION_MARKER). */
  transactionMode: "transactional" | "none";
}

/** A migration file as the CLI reads it. */
export function parseMigration(text: string): ParsedMigration {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const newline = body.indexOf("\n");
  const first = newline < 0 ? body : body.slice(0, newline);
  if ((first.endsWith("\r") ? first.slice(0, -1) : first) === NO_TRANSACTION_MARKER) {
    return { statements: splitStatements(body), transactionMode: "none" };
  }
  return { statements: splitStatements(text), transactionMode: "transactional" };
}

/** The statement without its leading whitespace, byte order mark and comments (the CLI's rule). */
function withoutLeadingComments(statement: string): string {
  const skipSpace = (s: string) => s.replace(/^[ \t\n\r]+/u, "");
  let s = skipSpace(statement);
  while (s.charCodeAt(0) === 0xfeff) s = skipSpace(s.slice(1));
  for (;;) {
    if (s.startsWith("--")) {
      const end = s.indexOf("\n");
      if (end < 0) return "";
      s = skipSpace(s.slice(end + 1));
    } else if (s.startsWith("/*")) {
      const end = s.indexOf("*/");
      if (end < 0) return s;
      s = skipSpace(s.slice(end + 2));
    } else {
      return s.trim();
    }
  }
}

/** Only comments and whitespace: the server answers with an empty-query response. */
export function isEmptyStatement(statement: string): boolean {
  return withoutLeadingComments(statement) === "";
}

const OUTSIDE_TRANSACTION = [
  /^CREATE\s+(?:UNIQUE\s+)?INDEX\s+CONCURRENTLY(?:\s|$)/u,
  /^DROP\s+INDEX\s+CONCURRENTLY(?:\s|$)/u,
  /^REINDEX(?:\s|\().*\sCONCURRENTLY(?:\s|$)/u,
  /^VACUUM(?:\s|\(|$)/u,
  /^ALTER\s+SYSTEM(?:\s|$)/u,
  /^CLUSTER(?:\s|$)/u,
];

/** Statements the CLI runs on their own, between the transactions of the rest of the file. */
export function runsOutsideTransaction(statement: string): boolean {
  const s = withoutLeadingComments(statement).toUpperCase();
  return OUTSIDE_TRANSACTION.some((re) => re.test(s));
}

const TRANSACTION_CONTROL =
  /^(?:BEGIN|START\s+TRANSACTION|COMMIT|END|ABORT|PREPARE\s+TRANSACTION)(?:\s|$)/u;

/**
 * BEGIN, COMMIT, ROLLBACK (not ROLLBACK TO) and the like: a migration holding one is run statement
 * by statement, its own transaction commands deciding.
 */
export function isTransactionControl(statement: string): boolean {
  const s = withoutLeadingComments(statement).toUpperCase();
  const words = s.split(/\s+/u);
  if (words[0] === "ROLLBACK") {
    const i = words[1] === "WORK" || words[1] === "TRANSACTION" ? 2 : 1;
    return words[i] !== "TO";
  }
  return TRANSACTION_CONTROL.test(s);
}

/**
 * SAVEPOINT, RELEASE and ROLLBACK TO: Postgres refuses them in the implicit transaction in which
 * the CLI pipelines a migration ("can only be used in transaction blocks").
 */
export function needsExplicitTransaction(statement: string): boolean {
  const s = withoutLeadingComments(statement).toUpperCase();
  return /^(?:SAVEPOINT|RELEASE|ROLLBACK(?:\s+(?:WORK|TRANSACTION))?\s+TO)(?:\s|$)/u.test(s);
}
