/**
 * Turns the messages one client sent into the bytes PGlite runs, and reads what PGlite answered.
 *
 * Named prepared statements: the session is reset (DEALLOCATE ALL among others) whenever it passes
 * to another client, so a client's statements may be gone when it next binds them. Like
 * pgbouncer's prepared-statement support, the pooler remembers each client's Parse messages and,
 * before a batch that binds or describes a statement the session no longer has, sends Close + that
 * Parse again; the CloseComplete and ParseComplete they produce are taken out of the answer.
 */
import { copiesFromStdin, REFUSE_COPY_SQL } from "./sql_guard.ts";
import {
  backendMessages,
  buildParse,
  close,
  concat,
  type Message,
  query,
  readBindStatement,
  readCommandTag,
  readErrorFields,
  readFirstColumn,
  readParameterStatus,
  readParse,
  readQuery,
  readTarget,
} from "./wire.ts";

/** What a client prepared, by statement name: the Parse message to send again. */
export type ClientStatements = Map<string, Uint8Array>;

export interface Batch {
  bytes: Uint8Array;
  /** How many Close+Parse pairs were put in front (their answers are stripped). */
  injected: number;
  /** Statement names this batch (re)creates on the server, if it runs without error. */
  parsed: string[];
  /** Statement names this batch closes. */
  closed: string[];
  /**
   * Whether the last message completes a unit (Sync, simple Query, FunctionCall); undefined when
   * the batch holds only Flush messages, which change nothing.
   */
  endsUnit?: boolean;
}

const ENDS_UNIT = new Set(["S", "Q", "F"]);

/**
 * Builds the batch for `messages`. `serverHas` tells which named statements the session holds
 * now (null: PGlite is skipping messages until a Sync, so nothing is sent again); `statements`
 * (the client's, updated here) which ones the client believes exist.
 */
export function buildBatch(
  messages: Message[],
  statements: ClientStatements,
  serverHas: ReadonlySet<string> | null,
): Batch {
  const front: Uint8Array[] = [];
  const body: Uint8Array[] = [];
  const parsedHere = new Set<string>();
  const closed: string[] = [];
  const injectedNames = new Set<string>();
  let endsUnit: boolean | undefined;

  const need = (name: string) => {
    if (!serverHas || !name || parsedHere.has(name) || serverHas.has(name)) return;
    if (injectedNames.has(name)) return;
    const parse = statements.get(name);
    if (!parse) return; // unknown to the client too: PGlite answers "does not exist"
    front.push(close("S", name), parse);
    injectedNames.add(name);
  };

  for (const m of messages) {
    let bytes = m.bytes;
    switch (m.type) {
      case "P": {
        const p = readParse(bytes);
        if (copiesFromStdin(p.sql)) bytes = buildParse(p.name, REFUSE_COPY_SQL, p.rest);
        if (p.name) {
          statements.set(p.name, bytes);
          parsedHere.add(p.name);
        }
        break;
      }
      case "B":
        need(readBindStatement(bytes));
        break;
      case "D": {
        const t = readTarget(bytes);
        if (t.kind === "S") need(t.name);
        break;
      }
      case "C": {
        const t = readTarget(bytes);
        if (t.kind === "S" && t.name) {
          statements.delete(t.name);
          parsedHere.delete(t.name);
          closed.push(t.name);
        }
        break;
      }
      case "Q":
        if (copiesFromStdin(readQuery(bytes))) bytes = query(REFUSE_COPY_SQL);
        break;
    }
    body.push(bytes);
    if (ENDS_UNIT.has(m.type)) endsUnit = true;
    else if (m.type !== "H") endsUnit = false;
  }
  return {
    bytes: concat([...front, ...body]),
    injected: injectedNames.size,
    parsed: [...injectedNames, ...parsedHere],
    closed,
    endsUnit,
  };
}

export interface Answer {
  /** The bytes for the client (the answers to injected messages removed). */
  bytes: Uint8Array;
  /** Transaction status of the last ReadyForQuery, if any. */
  status?: string;
  /** Whether an ErrorResponse came after the last ReadyForQuery (PGlite skips to the next Sync). */
  failedAfterLastReady: boolean;
  /** Whether any ErrorResponse came. */
  failed: boolean;
  /** ParameterStatus values reported. */
  params: [string, string][];
  /** Whether named statements were dropped by SQL (DEALLOCATE, DISCARD ALL). */
  deallocated: boolean;
  /** The fields of the first ErrorResponse. */
  error?: Record<string, string>;
  /** The first column of the first DataRow, as text. */
  firstValue?: string;
}

/** Reads PGlite's answer; drops the CloseComplete/ParseComplete of `injected` pairs in front. */
export function readAnswer(out: Uint8Array, injected = 0): Answer {
  const answer: Answer = {
    bytes: out,
    failedAfterLastReady: false,
    failed: false,
    params: [],
    deallocated: false,
  };
  let strip = injected * 2;
  let start = 0;
  let expect = "3";
  for (const m of backendMessages(out)) {
    if (strip > 0 && m.type === expect) {
      strip--;
      expect = expect === "3" ? "1" : "3";
      start = m.bytes.byteOffset - out.byteOffset + m.bytes.length;
      continue;
    }
    strip = 0;
    switch (m.type) {
      case "Z":
        answer.status = String.fromCharCode(m.bytes[5]);
        answer.failedAfterLastReady = false;
        break;
      case "E":
        answer.error ??= readErrorFields(m.bytes);
        answer.failed = true;
        answer.failedAfterLastReady = true;
        break;
      case "S":
        answer.params.push(readParameterStatus(m.bytes));
        break;
      case "D":
        answer.firstValue ??= readFirstColumn(m.bytes);
        break;
      case "C": {
        const tag = readCommandTag(m.bytes);
        if (tag.startsWith("DEALLOCATE") || tag === "DISCARD ALL") answer.deallocated = true;
        break;
      }
    }
  }
  answer.bytes = out.subarray(start);
  return answer;
}
