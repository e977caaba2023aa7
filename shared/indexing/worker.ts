/**
 * The index worker's loop body: take one message from pgmq `file_index`, run one step on its
 * file, and settle the message:
 *   - step done, more to do: make the message visible again and kick the worker for the next step;
 *   - file indexed (or deleted meanwhile): delete the message;
 *   - a ParseError (the file itself is bad: encrypted, corrupt, empty...): the file is `error` with
 *     that readable message at once (retrying cannot help) and the message is archived;
 *   - any other failure: retried with backoff (the message reappears later) up to `maxAttempts`;
 *     then the file is `error` with a readable message and the message is archived.
 * An attempt is counted BEFORE each step (and reset when a step succeeds), so a worker that the
 * runtime kills mid-step (CPU, memory or wall-clock limit: no catch block runs) also uses up an
 * attempt: its message reappears after the visibility timeout, the step is redone (see step.ts for
 * why nothing is duplicated), and a file that kills every worker ends `error` instead of looping.
 */
import type { Sql } from "../db.ts";
import { EmbeddingError } from "../embeddings.ts";
import { log } from "../log.ts";
import { ParseError } from "../parsers/mod.ts";
import { QUEUES } from "../queues.ts";
import { type FileRow, runStep, StaleStepError, type StepDeps } from "./step.ts";

export interface WorkerConfig {
  visibilityTimeoutSec: number;
  maxAttempts: number;
  /** Seconds before retry n (1-based) is visible: base * 4^(n-1). */
  retryBaseSec: number;
}

export const DEFAULT_WORKER_CONFIG: WorkerConfig = {
  // Above the Edge wall-clock limit (150 s on the free plan), so a live step keeps its message.
  visibilityTimeoutSec: 160,
  maxAttempts: 3,
  retryBaseSec: 5,
};

export type WorkResult =
  | { status: "idle" }
  | { status: "collected"; objects: number }
  | { status: "skipped"; file_id: string; reason: string }
  | { status: "stepped"; file_id: string; phase: string }
  | { status: "indexed"; file_id: string; chunks: number }
  | { status: "retry"; file_id: string; attempts: number; retry_in_sec: number; error: string }
  | { status: "failed"; file_id: string; error: string }
  | { status: "stale"; file_id: string };

interface Message {
  msg_id: string;
  read_ct: number;
  message: { file_id?: string };
}

/** A message for end users: what went wrong, never a stack trace. */
export function readableFailure(err: unknown): string {
  if (err instanceof ParseError || err instanceof EmbeddingError) return err.message;
  return "an internal error occurred while indexing";
}

export async function processNextFile(
  deps: Omit<StepDeps, "sql"> & { sql: () => Sql; worker: WorkerConfig },
): Promise<WorkResult> {
  const sql = deps.sql();
  const queue = QUEUES.fileIndex;
  const [msg] = await sql<Message[]>`
    select msg_id, read_ct, message from pgmq.read(${queue}, ${deps.worker.visibilityTimeoutSec}, 1)`;
  if (!msg) return await collectStoredObjects(deps);
  const fileId = msg.message.file_id;
  const done = () => sql`select pgmq.delete(${queue}, ${msg.msg_id}::bigint)`;
  const archive = () => sql`select pgmq.archive(${queue}, ${msg.msg_id}::bigint)`;
  // Drain the queue promptly: another visible message gets its own worker invocation.
  const kickIfMore = () => sql`select private.redispatch(${queue}, 'index-worker')`;

  const [file] = fileId
    ? await sql<FileRow[]>`
        select id, workbench_id, file_type, storage_path, status, attempts, page_count, progress
          from public.workbench_files where id = ${fileId}`
    : [];
  if (!file) {
    await done();
    await kickIfMore();
    return { status: "skipped", file_id: fileId ?? "", reason: "the file no longer exists" };
  }
  if (file.status === "indexed" || file.status === "error") {
    await done();
    await kickIfMore();
    return { status: "skipped", file_id: file.id, reason: `the file is already ${file.status}` };
  }

  const fail = async (text: string, attempts: number) => {
    await sql`update public.workbench_files
                 set status = 'error', error_message = ${text}, attempts = ${attempts}
               where id = ${file.id} and status in ('pending', 'processing')`;
    await archive();
    await kickIfMore();
    return { status: "failed" as const, file_id: file.id, error: text };
  };

  // Count the attempt before working: a killed worker never reaches a catch block.
  const [claim] = await sql<{ attempts: number }[]>`
    update public.workbench_files set attempts = attempts + 1
     where id = ${file.id} and status in ('pending', 'processing')
    returning attempts`;
  if (!claim) {
    await done();
    return { status: "skipped", file_id: file.id, reason: "the file is no longer being indexed" };
  }
  const attempts = claim.attempts;
  if (attempts > deps.worker.maxAttempts) {
    log.warn("index step abandoned", { file_id: file.id, attempts, read_ct: msg.read_ct });
    return await fail(
      `indexing stopped after ${deps.worker.maxAttempts} attempts: the file is too large or too complex to process`,
      attempts - 1,
    );
  }

  const started = performance.now();
  try {
    const outcome = await runStep({ ...deps, sql }, { ...file, attempts });
    log.info("index step", {
      file_id: file.id,
      outcome,
      ms: Math.round(performance.now() - started),
      read_ct: msg.read_ct,
    });
    if (outcome.done) {
      await done();
      await kickIfMore();
      return { status: "indexed", file_id: file.id, chunks: outcome.chunks_total };
    }
    await sql`select pgmq.set_vt(${queue}, ${msg.msg_id}::bigint, 0)`;
    await sql`select private.kick_worker('index-worker', ${sql.json({ queue })})`;
    return { status: "stepped", file_id: file.id, phase: outcome.phase };
  } catch (err) {
    const [still] = await sql`select 1 from public.workbench_files where id = ${file.id}`;
    if (!still) {
      // Deleted while the step ran (with its workbench, say): the step's failure is expected,
      // whichever write found the file gone (the cursor's guard, or a chunk's foreign key).
      log.info("index step ended: the file was deleted", { file_id: file.id });
      await done();
      await kickIfMore();
      return { status: "skipped", file_id: file.id, reason: "the file no longer exists" };
    }
    if (err instanceof StaleStepError) {
      // Another worker owns the file now: leave the message and the row alone.
      log.warn("index step was stale", { file_id: file.id });
      return { status: "stale", file_id: file.id };
    }
    const message = readableFailure(err);
    const permanent = err instanceof ParseError;
    log.warn("index step failed", {
      file_id: file.id,
      attempts,
      permanent,
      error: err instanceof Error ? err.message : String(err),
      cause: (err as Error)?.cause ? String((err as Error).cause) : undefined,
      stack: permanent ? undefined : (err as Error)?.stack,
    });
    if (permanent) return await fail(message, attempts);
    if (attempts >= deps.worker.maxAttempts) {
      return await fail(`indexing failed after ${attempts} attempts: ${message}`, attempts);
    }
    const delay = deps.worker.retryBaseSec * 4 ** (attempts - 1);
    await sql`update public.workbench_files
                 set error_message = ${`attempt ${attempts} failed: ${message}`}
               where id = ${file.id} and status in ('pending', 'processing')`;
    await sql`select pgmq.set_vt(${queue}, ${msg.msg_id}::bigint, ${delay})`;
    return { status: "retry", file_id: file.id, attempts, retry_in_sec: delay, error: message };
  }
}

/** Removes stored objects of deleted files (queue `storage_gc`), up to 100 per call. */
async function collectStoredObjects(
  deps: Omit<StepDeps, "sql"> & { sql: () => Sql },
): Promise<WorkResult> {
  const sql = deps.sql();
  const queue = QUEUES.storageGc;
  const msgs = await sql<{ msg_id: string; message: { bucket?: string; path?: string } }[]>`
    select msg_id, message from pgmq.read(${queue}, 60, 100)`;
  if (msgs.length === 0) return { status: "idle" };
  const byBucket = new Map<string, string[]>();
  for (const m of msgs) {
    if (!m.message.bucket || !m.message.path) continue;
    byBucket.set(m.message.bucket, [...(byBucket.get(m.message.bucket) ?? []), m.message.path]);
  }
  // Removing an object that is already gone is not an error, so a redelivery is harmless. A bucket
  // whose removal fails keeps its messages (they come back after the visibility timeout).
  const failed = new Set<string>();
  for (const [bucket, paths] of byBucket) {
    await deps.store.remove(bucket, paths).catch((err) => {
      failed.add(bucket);
      log.warn("storage_gc removal failed", { bucket, objects: paths.length, error: String(err) });
    });
  }
  const settled = msgs.filter((m) => !failed.has(m.message.bucket ?? ""));
  if (settled.length) {
    await sql`select pgmq.delete(${queue}, ${settled.map((m) => m.msg_id)}::bigint[])`;
  }
  log.info("stored objects collected", { objects: settled.length });
  return { status: "collected", objects: settled.length };
}
