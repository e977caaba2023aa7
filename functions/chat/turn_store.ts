/**
 * The database side of one question and answer: three statements (each two round trips, since
 * postgres.js without prepared statements first asks for a statement's parameter types).
 *
 * - `startTurn` (service connection, one statement: `private.start_chat_turn`): the account's
 *   deactivation (401) and suspension (403), looked up here rather than by requireUser; the
 *   `chat` rate limit (429), the caller's own session (404), the wallet (402) and the session's
 *   answering marker (409) when there is something to search; the preflight (files not indexed,
 *   files the question names, the previous turns); then the question saved.
 * - `retrieveAsCaller` (one statement, `private.chat_retrieve_as_caller`): the caller's claims and
 *   role as shared/db.ts asUser sets them, then the search and the typed rows as the caller (RLS).
 * - `finishTurn` (service connection, one statement: `private.finish_chat_turn`): the answer
 *   saved (files cited that were deleted meanwhile redacted from it), counted once per assistant
 *   message id when metered and complete, and the marker released. An interrupted answer (the
 *   client went away) is saved as `interrupted` and counted nowhere.
 * - `abortTurn`: releases the marker after a failure (the question stays; nothing is counted).
 */
import type { Claims } from "../../shared/auth.ts";
import type { DeletedSource, Source } from "../../shared/chat/mod.ts";
import {
  mentionedFileNames,
  mergeFileStates,
  namedFileFilter,
  type Warning,
  type WorkbenchFileState,
} from "../../shared/chat/mod.ts";
import { httpErrorFromPostgres, type Sql } from "../../shared/db.ts";
import { currentRequest, HttpError } from "../../shared/http.ts";
import type { TypedCell } from "../../shared/kpi/mod.ts";
import type { SearchRow } from "../../shared/retrieval/mod.ts";
import { clientIp } from "../../shared/rate_limit.ts";
import type { PhaseTimer } from "../../shared/timing.ts";

export const SESSION_NOT_FOUND = "Chat session not found.";

export interface HistoryTurn {
  role: "user" | "assistant";
  content: string;
}

export interface StartedTurn {
  userMessageId: string;
  assistantMessageId: string;
  /** The answering marker; null when nothing is indexed (an answer that is not metered). */
  token: string | null;
  hasIndexed: boolean;
}

type Ms = Partial<Record<"rate_limit" | "preflight" | "metering" | "persistence", number>>;

/** Splits a round trip's time into the phases the database measured (the rest is `rest`). */
function addPhases(timer: PhaseTimer, total: number, ms: Ms, rest: keyof Ms): void {
  let inside = 0;
  for (const [phase, value] of Object.entries(ms)) {
    if (phase === rest || value === undefined) continue;
    timer.add(phase, value);
    inside += value;
  }
  timer.add(rest, Math.max(0, total - inside));
}

export async function startTurn(
  sql: Sql,
  req: Request,
  userId: string,
  sessionId: string,
  content: string,
  timer: PhaseTimer,
): Promise<StartedTurn & TurnPreflight> {
  const began = performance.now();
  const named = namedFileFilter(mentionedFileNames(content));
  // The plan's chat_answers_month is checked in the same statement and raises (PT403
  // plan_limit_reached → 403) before anything is written or any model is called.
  const [row] = await sql<
    { r: Record<string, unknown> & PreflightRow & { status: string; ms: Ms } }[]
  >`
    select private.start_chat_turn(${userId}, ${sessionId}, ${content}, ${clientIp(req)},
                                   ${named.exact}::text[], ${named.suffixes}::text[]) as r`
    .catch((err) => {
      throw httpErrorFromPostgres(err);
    });
  const r = row!.r;
  addPhases(timer, performance.now() - began, r.ms ?? {}, "persistence");
  switch (r.status) {
    case "ok":
      return {
        userMessageId: String(r.user_message_id),
        assistantMessageId: crypto.randomUUID(),
        token: (r.token as string | null) ?? null,
        hasIndexed: r.has_indexed === true,
        ...preflightOf(r),
      };
    case "account_deactivated":
      throw httpErrorFromPostgres({ code: "PT401" });
    case "tenant_suspended":
      throw httpErrorFromPostgres({ code: "PT403", message: "tenant_suspended" });
    case "rate_limited": {
      const wait = Math.max(1, Math.ceil(Number(r.retry_after_seconds)));
      throw new HttpError(
        429,
        "rate_limited",
        `Too many messages; try again in ${wait} s.`,
        undefined,
        {
          "retry-after": String(wait),
        },
      );
    }
    case "insufficient_credits":
      throw new HttpError(
        402,
        "insufficient_credits",
        "Not enough credits for this answer. Top up your wallet.",
      );
    case "answer_in_progress":
      throw new HttpError(
        409,
        "answer_in_progress",
        "This session is still answering the previous message; send the next one after it.",
      );
    default:
      throw new HttpError(404, "not_found", SESSION_NOT_FOUND);
  }
}

interface PreflightRow {
  workbench_id: string;
  /** Files not indexed (pending, processing, failed), oldest first, at most 50. */
  unindexed: WorkbenchFileState[];
  /** Files, of any status, the question's file names match (checked against all files). */
  named: WorkbenchFileState[];
  /** The last turns before the question, oldest first. */
  history: HistoryTurn[];
}

/** What `startTurn` read for the preflight, with the turn started. */
export interface TurnPreflight {
  workbenchId: string;
  files: WorkbenchFileState[];
  /** Earlier messages of the session, oldest first (the last few only). */
  history: HistoryTurn[];
}

function preflightOf(r: PreflightRow): TurnPreflight {
  return {
    workbenchId: r.workbench_id,
    files: mergeFileStates(r.unindexed ?? [], r.named ?? []),
    history: r.history ?? [],
  };
}

/** What the caller's statement found: the search's rows and the typed rows asked for. */
export interface Retrieved {
  rows: SearchRow[];
  cells: TableRowRecord[];
}

/** A typed row as `lookupCells` reads it. */
export interface TableRowRecord {
  file_name: string;
  sheet: string;
  row_number: number;
  header: string[];
  cells: TypedCell[];
}

/** `private.chat_retrieve_as_caller`: the claims, headers, `SEARCH_SQL`'s 11, the row cap. */
const RETRIEVE_SQL = `select * from private.chat_retrieve_as_caller($1::text::jsonb,
  $2::text::jsonb, $3::uuid, $4::extensions.vector, $5::text, $6::text, $7::integer, $8::integer,
  $9::integer, $10::double precision, $11::double precision, $12::integer, $13::integer,
  $14::integer)`;

type RetrieveRow = SearchRow & Omit<TableRowRecord, "file_name">;

/**
 * The search and the typed rows as the caller, in ONE statement (`private.chat_retrieve_as_caller`
 * does what shared/db.ts asUser does, then reads as the caller: row level security applies).
 * `searchParams` are `SEARCH_SQL`'s; `cellRows` 0 reads no typed rows. `sql` is the client, never
 * a transaction: the role and claims it sets last to the end of the statement's own transaction.
 */
export async function retrieveAsCaller(
  sql: Sql,
  claims: Claims,
  searchParams: (string | number | null)[],
  cellRows: number,
): Promise<Retrieved> {
  if (claims.role !== "authenticated") throw new Error(`refusing to assume role ${claims.role}`);
  const request = currentRequest();
  const headers = JSON.stringify({
    "x-request-id": request?.requestId ?? null,
    "x-forwarded-for": request?.ip ?? null,
  });
  try {
    const found = await sql.unsafe<RetrieveRow[]>(RETRIEVE_SQL, [
      JSON.stringify(claims),
      headers,
      ...searchParams,
      cellRows,
    ]);
    const out: Retrieved = { rows: [], cells: [] };
    for (const r of found) {
      if (r.chunk_id !== null) {
        out.rows.push({
          chunk_id: r.chunk_id,
          file_id: r.file_id,
          file_name: r.file_name,
          chunk_index: r.chunk_index,
          content: r.content,
          metadata: r.metadata,
          vector_rank: r.vector_rank,
          text_rank: r.text_rank,
          score: r.score,
        });
      } else {
        out.cells.push({
          file_name: r.file_name,
          sheet: r.sheet,
          row_number: r.row_number,
          header: r.header,
          cells: r.cells,
        });
      }
    }
    return out;
  } catch (err) {
    throw httpErrorFromPostgres(err, SESSION_NOT_FOUND);
  }
}

export interface AnswerToSave {
  content: string;
  sources: Source[];
  warnings: Warning[];
  model: string | null;
  promptTokens: number;
  completionTokens: number;
  /** The client went away before the answer was complete: saved as such, not counted. */
  interrupted?: boolean;
}

/** The answer as saved: after redaction of files deleted while it was being made. */
export interface SavedMessage {
  id: string;
  created_at: string;
  content: string;
  sources: (Source | DeletedSource)[];
  warnings: Warning[];
}

export interface WalletAfter {
  counted: boolean;
  charged: boolean;
  balance: number;
  chat_inference_counter: number;
}

/**
 * Saves the answer and, when metered, counts it and releases the marker, in one transaction. A
 * count the balance cannot cover (another session spent it meanwhile) is a 402 and saves nothing.
 */
export async function finishTurn(
  sql: Sql,
  userId: string,
  sessionId: string,
  started: StartedTurn,
  answer: AnswerToSave,
  timer: PhaseTimer,
): Promise<{ message: SavedMessage; wallet: WalletAfter }> {
  const began = performance.now();
  try {
    const [row] = await sql<{ r: { message: SavedMessage; wallet: WalletAfter; ms: Ms } }[]>`
      select private.finish_chat_turn(
        ${userId}, ${sessionId}, ${started.assistantMessageId}, ${started.token},
        ${answer.content}, ${sql.json(answer.sources as never)}, ${
      sql.json(answer.warnings as never)
    },
        ${answer.model}, ${answer.promptTokens}, ${answer.completionTokens},
        ${answer.interrupted === true}) as r`;
    const r = row!.r;
    addPhases(timer, performance.now() - began, r.ms ?? {}, "persistence");
    return { message: r.message, wallet: r.wallet };
  } catch (err) {
    await abortTurn(sql, sessionId, started);
    throw httpErrorFromPostgres(err);
  }
}

export async function abortTurn(sql: Sql, sessionId: string, started: StartedTurn): Promise<void> {
  if (!started.token) return;
  await sql`select private.end_chat_answer(${sessionId}, ${started.token})`.catch(() => {});
}
