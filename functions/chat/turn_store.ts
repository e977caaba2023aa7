/**
 * The database side of one question and answer.
 *
 * - `loadTurn` runs as the caller (RLS): their session (else 404), the files the preflight needs,
 *   the previous turns, and retrieval (security invoker) in one transaction.
 * - `startTurn`, `finishTurn`, `abortTurn` use the service connection, because clients may not
 *   write messages or credits: the affordability check (402), the session's answering marker
 *   (409), the question; then the answer, its count (`private.record_chat_inference`, once per
 *   assistant message id) and the marker's release in one transaction.
 */
import type { Claims } from "../../shared/auth.ts";
import type { Source } from "../../shared/chat/citations.ts";
import type { Warning, WorkbenchFileState } from "../../shared/chat/preflight.ts";
import { asCaller, httpErrorFromPostgres, type Sql, type Tx } from "../../shared/db.ts";
import { HttpError } from "../../shared/http.ts";
import type { PhaseTimer } from "./timing.ts";

export const SESSION_NOT_FOUND = "Chat session not found.";

export interface SessionRow {
  id: string;
  workbench_id: string;
  has_indexed: boolean;
}

export interface HistoryTurn {
  role: "user" | "assistant";
  content: string;
}

export interface TurnContext<R> {
  session: SessionRow;
  files: WorkbenchFileState[];
  /** Earlier messages of the session, oldest first (the last few only). */
  history: HistoryTurn[];
  /** What `retrieve` returned; undefined when nothing is indexed. */
  retrieved: R | undefined;
}

function likePattern(name: string): string {
  return "%" + name.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`);
}

export function loadTurn<R>(
  sql: Sql,
  claims: Claims,
  sessionId: string,
  mentions: string[],
  timer: PhaseTimer,
  retrieve: (tx: Tx, session: SessionRow, history: HistoryTurn[]) => Promise<R>,
): Promise<TurnContext<R>> {
  return asCaller(sql, claims, async (tx) => {
    const { session, files, history } = await timer.time("preflight", async () => {
      const [session] = await tx<SessionRow[]>`
        select s.id, s.workbench_id,
               exists (select 1 from public.workbench_files f
                        where f.workbench_id = s.workbench_id and f.status = 'indexed') as has_indexed
          from public.chat_session s where s.id = ${sessionId}`;
      if (!session) throw new HttpError(404, "not_found", SESSION_NOT_FOUND);
      const files = await tx<WorkbenchFileState[]>`
        select id, file_name, status, error_message from public.workbench_files
         where workbench_id = ${session.workbench_id}
           and (status <> 'indexed' or lower(file_name) like any(${
        mentions.map(likePattern)
      }::text[]))
         order by created_at limit 50`;
      const recent = await tx<HistoryTurn[]>`
        select role, content from public.message
         where session_id = ${sessionId} and role in ('user', 'assistant')
         order by created_at desc, id desc limit 6`;
      return { session, files: [...files], history: [...recent].reverse() };
    });
    const retrieved = session.has_indexed
      ? await timer.time("retrieval", () => retrieve(tx, session, history))
      : undefined;
    return { session, files, history, retrieved };
  }, SESSION_NOT_FOUND);
}

export interface StartedTurn {
  userMessageId: string;
  assistantMessageId: string;
  /** The answering marker; undefined for an answer that is not metered (nothing to search). */
  token?: string;
}

/**
 * Checks the wallet (402) and takes the session's answering marker (409), then saves the
 * question. With `metered` false (nothing to search) only the question is saved.
 */
export async function startTurn(
  sql: Sql,
  userId: string,
  sessionId: string,
  content: string,
  metered: boolean,
  timer: PhaseTimer,
): Promise<StartedTurn> {
  return await sql.begin(async (tx) => {
    let token: string | undefined;
    if (metered) {
      const [afford] = await timer.time(
        "metering",
        () => tx<{ ok: boolean }[]>`select private.can_afford_chat(${userId}) as ok`,
      );
      if (!afford?.ok) {
        throw new HttpError(
          402,
          "insufficient_credits",
          "Not enough credits for this answer. Top up your wallet.",
        );
      }
      const [marker] = await timer.time(
        "persistence",
        () =>
          tx<{ token: string | null }[]>`
          select private.begin_chat_answer(${sessionId}, ${userId}) as token`,
      );
      if (!marker?.token) {
        throw new HttpError(
          409,
          "answer_in_progress",
          "This session is still answering the previous message; send the next one after it.",
        );
      }
      token = marker.token;
    }
    const [row] = await timer.time("persistence", () =>
      tx<{ id: string }[]>`
        insert into public.message (session_id, role, content)
        values (${sessionId}, 'user', ${content}) returning id`);
    return { userMessageId: row!.id, assistantMessageId: crypto.randomUUID(), token };
  }) as StartedTurn;
}

export interface AnswerToSave {
  content: string;
  sources: Source[];
  warnings: Warning[];
  model: string | null;
  promptTokens: number;
  completionTokens: number;
}

export interface WalletAfter {
  counted: boolean;
  charged: boolean;
  balance: number;
  chat_inference_counter: number;
}

export interface SavedAnswer {
  id: string;
  session_id: string;
  role: "assistant";
  content: string;
  model: string | null;
  created_at: string;
}

/**
 * Saves the answer and, when metered, counts it and releases the marker, all in one transaction.
 * A count the balance cannot cover (another session spent it meanwhile) is a 402 and saves nothing.
 */
export async function finishTurn(
  sql: Sql,
  userId: string,
  sessionId: string,
  started: StartedTurn,
  answer: AnswerToSave,
  timer: PhaseTimer,
): Promise<{ message: SavedAnswer; wallet: WalletAfter }> {
  try {
    return await sql.begin(async (tx) => {
      const [message] = await timer.time("persistence", () =>
        tx<SavedAnswer[]>`
          with m as (
            insert into public.message (id, session_id, role, content, sources, warnings, model,
                                        prompt_tokens, completion_tokens)
            values (${started.assistantMessageId}, ${sessionId}, 'assistant', ${answer.content},
                    ${tx.json(answer.sources as never)}, ${tx.json(answer.warnings as never)},
                    ${answer.model}, ${answer.promptTokens}, ${answer.completionTokens})
            returning id, session_id, role, content, model, created_at),
          s as (update public.chat_session set last_message_at = now() where id = ${sessionId})
          select * from m`);
      let wallet: WalletAfter | null = null;
      if (started.token) {
        const [counted] = await timer.time(
          "metering",
          () =>
            tx<{ r: { counted: boolean; counter: number; charged: boolean; balance: number } }[]>`
            select private.record_chat_inference(${userId}, ${started.assistantMessageId}) as r`,
        );
        const r = counted!.r;
        wallet = {
          counted: r.counted,
          charged: r.charged,
          balance: r.balance,
          chat_inference_counter: r.counter,
        };
        await timer.time(
          "persistence",
          () => tx`select private.end_chat_answer(${sessionId}, ${started.token!})`,
        );
      } else {
        const [w] = await tx<{ balance: number; counter: number }[]>`
          select w.balance, coalesce(c.chat_inference_counter, 0) as counter
            from public.wallet w left join public.wallet_counters c using (user_id)
           where w.user_id = ${userId}`;
        wallet = {
          counted: false,
          charged: false,
          balance: w?.balance ?? 0,
          chat_inference_counter: w?.counter ?? 0,
        };
      }
      return { message: message!, wallet: wallet! };
    }) as { message: SavedAnswer; wallet: WalletAfter };
  } catch (err) {
    if (started.token) await abortTurn(sql, sessionId, started);
    throw httpErrorFromPostgres(err);
  }
}

/** Releases the answering marker after a failed answer (the question stays; nothing is counted). */
export async function abortTurn(sql: Sql, sessionId: string, started: StartedTurn): Promise<void> {
  if (!started.token) return;
  await sql`select private.end_chat_answer(${sessionId}, ${started.token})`.catch(() => {});
}
