/**
 * The channel worker's loop: reads queued inbound messages (pgmq `channel_inbound`) and answers
 * each exactly once.
 *
 * For one message: an opted-out subscriber or a disabled channel gets nothing; otherwise, unless
 * an earlier attempt already recorded the answer's parts, the wallet of the channel's owner is
 * asked first (private.can_afford_chat, as chat does): when it cannot pay, the tenant's
 * `unavailable_text` is the answer and no model is called; else the answer is made (answer.ts)
 * and split at WhatsApp's 4,096 characters. The parts are recorded as `sending` and the answer
 * counted (private.record_channel_answer, once per inbound id) BEFORE any sendContent; each part
 * is then claimed (private.claim_channel_send) and sent. A part found still `sending` after an
 * attempt that was never recorded (the worker was stopped between sendContent and the record) is
 * marked `unconfirmed` and never sent again: at most one answer, never two.
 *
 * Failures: ManyChat's 4xx (the 24-hour window, an unknown subscriber) are final at once; a
 * model failure, a ManyChat 5xx / 429 or a network error is retried with exponential backoff
 * (`retryBaseSec` · 2^(attempt-1)) up to `maxAttempts`, then the message is marked failed with a
 * readable reason the tenant sees in GET /channels/{id}/messages and /status.
 */
import type { Sql } from "../../shared/db.ts";
import { log } from "../../shared/log.ts";
import { dynamicBlock, splitForWhatsApp } from "../../shared/manychat.ts";
import { QUEUES } from "../../shared/queues.ts";
import { answerQuestion, type Turn } from "./answer.ts";
import type { ChannelWorkerDeps } from "./deps.ts";

const QUEUE = QUEUES.channelInbound;

const NOTHING_FOUND: Record<string, string> = {
  fr: "Je n'ai trouvé aucune réponse dans les documents.",
  en: "I found no answer in the documents.",
};

interface InboundRow {
  id: string;
  text: string;
  status: string;
  created_at: Date;
  subscriber_ref: string;
  subscriber_id: string;
  opted_out: boolean;
  channel_id: string;
  workbench_id: string;
  created_by: string;
  unavailable_text: string;
  language: string;
  enabled: boolean;
}

interface Part {
  id: string;
  part: number;
  text: string;
  status: string;
}

export interface QueueStep {
  handled: number;
  outcomes: string[];
}

class FinalFailure extends Error {}

export async function processQueue(deps: ChannelWorkerDeps): Promise<QueueStep> {
  const sql = deps.sql();
  const msgs = await sql<{ msg_id: string; read_ct: number; message: { message_id?: string } }[]>`
    select msg_id, read_ct, message
      from pgmq.read(${QUEUE}, ${deps.config.visibilityTimeoutSec}, ${deps.config.batch})`;
  const outcomes: string[] = [];
  for (const msg of msgs) {
    outcomes.push(await handleMessage(deps, sql, msg));
  }
  if (msgs.length > 0) {
    await sql`select private.redispatch(${QUEUE}, 'channel-worker')`.catch(() => {});
  }
  return { handled: msgs.length, outcomes };
}

async function handleMessage(
  deps: ChannelWorkerDeps,
  sql: Sql,
  msg: { msg_id: string; read_ct: number; message: { message_id?: string } },
): Promise<string> {
  const done = () => sql`select pgmq.delete(${QUEUE}, ${msg.msg_id}::bigint)`;
  const [row] = await sql<InboundRow[]>`
    select m.id, m.text, m.status, m.created_at, m.subscriber_ref, s.subscriber_id, s.opted_out,
           c.id as channel_id, c.workbench_id, c.created_by, c.unavailable_text, c.language,
           c.enabled
      from public.channel_messages m
      join public.channel_subscribers s on s.id = m.subscriber_ref
      join public.channels c on c.id = m.channel_id
     where m.id = ${msg.message.message_id ?? null}::uuid and m.direction = 'inbound'`;
  if (!row || row.status !== "queued") {
    await done();
    return "gone";
  }
  const mark = (status: string, error: string | null = null) =>
    sql`select private.mark_channel_message(${row.id}, ${status}, ${error})`;
  if (row.opted_out || !row.enabled) {
    await mark("ignored");
    await done();
    return "ignored";
  }
  try {
    const { parts, outcome } = await partsToSend(deps, sql, row);
    await sendParts(deps, sql, row, parts);
    await mark(outcome);
    await done();
    return outcome;
  } catch (err) {
    const reason = (err as Error).message || String(err);
    const final = err instanceof FinalFailure || msg.read_ct >= deps.config.maxAttempts;
    if (final) {
      await mark("failed", reason.slice(0, 1000));
      await sql`update public.channel_messages set status = 'failed',
                       error = coalesce(error, 'not sent: the answer failed'),
                       updated_at = clock_timestamp()
                 where inbound_id = ${row.id} and status = 'sending'`;
      await done();
      log.warn("channel message failed", { message_id: row.id, reason });
      return "failed";
    }
    await mark("queued", reason.slice(0, 1000));
    const delay = Math.round(deps.config.retryBaseSec * 2 ** Math.max(0, msg.read_ct - 1));
    await sql`select pgmq.set_vt(${QUEUE}, ${msg.msg_id}::bigint, ${delay})`;
    return "retry";
  }
}

/** The parts recorded by an earlier attempt, or the answer made now and recorded. */
async function partsToSend(
  deps: ChannelWorkerDeps,
  sql: Sql,
  row: InboundRow,
): Promise<{ parts: Part[]; outcome: string }> {
  const earlier = await sql<(Part & { model: string | null })[]>`
    select id, part, text, status, model from public.channel_messages
     where inbound_id = ${row.id} and direction = 'outbound' order by part`;
  if (earlier.length > 0) {
    return { parts: [...earlier], outcome: earlier[0]!.model ? "answered" : "unavailable" };
  }
  const [{ ok }] = await sql<{ ok: boolean }[]>`
    select private.can_afford_chat(private.workbench_wallet(${row.workbench_id})) as ok`;
  if (!ok) {
    return {
      parts: await record(sql, row.id, [row.unavailable_text], null),
      outcome: "unavailable",
    };
  }
  const answer = await answerQuestion(deps, {
    ownerId: row.created_by,
    workbenchId: row.workbench_id,
    question: row.text,
    language: row.language,
    history: await history(sql, row),
  });
  const text = answer.text ||
    (NOTHING_FOUND[row.language.slice(0, 2)] ?? NOTHING_FOUND.en!);
  return {
    parts: await record(sql, row.id, splitForWhatsApp(text), answer.model),
    outcome: "answered",
  };
}

async function record(sql: Sql, inboundId: string, texts: string[], model: string | null) {
  const [{ parts }] = await sql<{ parts: Part[] }[]>`
    select private.record_channel_answer(${inboundId}, ${texts}::text[], ${model},
                                         ${model !== null}) as parts`;
  return parts;
}

/** The subscriber's last answered turns before this message, oldest first. */
async function history(sql: Sql, row: InboundRow): Promise<Turn[]> {
  const rows = await sql<{ question: string; answer: string | null }[]>`
    select m.text as question,
           (select string_agg(o.text, E'\n' order by o.part) from public.channel_messages o
             where o.inbound_id = m.id and o.status in ('sent', 'unconfirmed')) as answer
      from public.channel_messages m
     where m.subscriber_ref = ${row.subscriber_ref} and m.direction = 'inbound'
       and m.status = 'answered' and m.created_at < ${row.created_at}
     order by m.created_at desc limit 3`;
  return rows.reverse().filter((r) => r.answer).map((r) => ({
    question: r.question,
    answer: r.answer!,
  }));
}

async function sendParts(deps: ChannelWorkerDeps, sql: Sql, row: InboundRow, parts: Part[]) {
  let token: string | undefined;
  for (const part of parts) {
    if (part.status !== "sending") continue;
    const [{ claimed }] = await sql<{ claimed: boolean }[]>`
      select private.claim_channel_send(${part.id}) as claimed`;
    if (!claimed) continue;
    token ??= (await sql<{ t: string | null }[]>`
      select private.channel_token(${row.channel_id}) as t`)[0]!.t ?? "";
    const res = await deps.manychat.sendContent(
      token,
      row.subscriber_id,
      dynamicBlock([part.text]),
    );
    const response = sql.json((res.body ?? null) as never);
    if (res.ok) {
      await sql`select private.mark_channel_message(${part.id}, 'sent', null, ${response})`;
      continue;
    }
    if (res.permanent) {
      await sql`select private.mark_channel_message(${part.id}, 'failed', ${res.reason!},
                                                    ${response})`;
      throw new FinalFailure(res.reason);
    }
    // Not delivered: the part stays `sending` with its error, so the next attempt sends it.
    await sql`select private.mark_channel_message(${part.id}, 'sending', ${res.reason!},
                                                  ${response})`;
    throw new Error(res.reason);
  }
}
