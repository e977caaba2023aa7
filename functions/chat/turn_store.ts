/**
 * The database side of one question and answer.
 *
 * - `startTurn` (service connection, one round trip: `private.start_chat_turn`): the `chat` rate
 *   limit (429), the caller's own session (404), the wallet (402) and the session's answering
 *   marker (409) when there is something to search, then the question saved.
 * - `loadTurn` (as the caller, RLS): the session as they may see it (404 otherwise), the files the
 *   preflight needs, the previous turns, and retrieval (security invoker), in one transaction.
 * - `finishTurn` (service connection, one round trip: `private.finish_chat_turn`): the answer
 *   saved (files cited that were deleted meanwhile redacted from it), counted once per assistant
 *   message id when metered and complete, and the marker released. An interrupted answer (the
 *   client went away) is saved as `interrupted` and counted nowhere.
 * - `abortTurn`: releases the marker after a failure (the question stays; nothing is counted).
 */
import type { Claims } from "../../shared/auth.ts";
import type { DeletedSource, Source } from "./citations.ts";
import {
  mergeFileStates,
  namedFileFilter,
  PREFLIGHT_NAMED_LIMIT,
  PREFLIGHT_UNINDEXED_LIMIT,
  type Warning,
  type WorkbenchFileState,
} from "../../shared/chat/mod.ts";
import { asCaller, httpErrorFromPostgres, type Sql, type Tx } from "../../shared/db.ts";
import { HttpError } from "../../shared/http.ts";
import { clientIp } from "../../shared/rate_limit.ts";
import type { PhaseTimer } from "../../shared/timing.ts";

export const SESSION_NOT_FOUND = "Chat session not found.";

export interface HistoryTurn {
  role: "user" | "assistant";
  content: string;
}

export interface TurnContext<R> {
  workbenchId: string;
  files: WorkbenchFileState[];
  /** Earlier messages of the session, oldest first (the last few only). */
  history: HistoryTurn[];
  /** What `retrieve` returned; undefined when nothing is indexed. */
  retrieved: R | undefined;
}

export interface StartedTurn {
  userMessageId: string;
  assistantMessageId: string;
  /** The answering marker; null when nothing is indexed (an answer that is not metered). */
  token: string | null;
  hasIndexed: boolean;
}

type Ms = Partial<Record<"rate_limit" | "metering" | "persistence", number>>;

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
): Promise<StartedTurn> {
  const began = performance.now();
  // The plan's chat_answers_month is checked in the same statement and raises (PT403
  // plan_limit_reached → 403) before anything is written or any model is called.
  const [row] = await sql<{ r: Record<string, unknown> & { status: string; ms: Ms } }[]>`
    select private.start_chat_turn(${userId}, ${sessionId}, ${content}, ${clientIp(req)}) as r`
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
      };
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
  history: HistoryTurn[];
}

export function loadTurn<R>(
  sql: Sql,
  claims: Claims,
  sessionId: string,
  hasIndexed: boolean,
  mentions: string[],
  timer: PhaseTimer,
  retrieve: (tx: Tx, workbenchId: string, history: HistoryTurn[]) => Promise<R>,
): Promise<TurnContext<R>> {
  return asCaller(sql, claims, async (tx) => {
    const named = namedFileFilter(mentions);
    const [row] = await timer.time("preflight", () =>
      tx<PreflightRow[]>`
        select s.workbench_id,
               coalesce((select jsonb_agg(f) from (
                  select id, file_name, status, error_message from public.workbench_files
                   where workbench_id = s.workbench_id and status <> 'indexed'
                   order by created_at limit ${PREFLIGHT_UNINDEXED_LIMIT}) f), '[]') as unindexed,
               coalesce((select jsonb_agg(f) from (
                  select id, file_name, status, error_message from public.workbench_files
                   where workbench_id = s.workbench_id
                     and (lower(file_name) = any(${named.exact}::text[])
                          or lower(file_name) like any(${named.suffixes}::text[]))
                   order by created_at limit ${PREFLIGHT_NAMED_LIMIT}) f), '[]') as named,
               coalesce((select jsonb_agg(jsonb_build_object('role', h.role, 'content', h.content)
                                          order by h.created_at, h.id) from (
                  select role, content, created_at, id from public.message
                   where session_id = s.id and role in ('user', 'assistant')
                   order by created_at desc, id desc limit 7) h), '[]') as history
          from public.chat_session s where s.id = ${sessionId}`);
    if (!row) throw new HttpError(404, "not_found", SESSION_NOT_FOUND);
    // The question just saved is the last turn; the model gets it separately.
    const history = row.history.slice(0, -1);
    const retrieved = hasIndexed
      ? await timer.time("retrieval", () => retrieve(tx, row.workbench_id, history))
      : undefined;
    const files = mergeFileStates(row.unindexed, row.named);
    return { workbenchId: row.workbench_id, files, history, retrieved };
  }, SESSION_NOT_FOUND);
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
