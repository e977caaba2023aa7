/**
 * The background work that pg_net and pg_cron do inside a Supabase database, done locally for their
 * SQL stand-ins: send the HTTP requests queued in net.http_request_queue (after their transaction
 * committed) and record each outcome in net._http_response; run cron.job commands when due and
 * record each run in cron.job_run_details.
 */
import type { Sql } from "../shared/db.ts";
import { log } from "../shared/log.ts";
import { matchesMinute, parseSchedule } from "./cron.ts";

export interface LocalWorkerOptions {
  sql: () => Sql;
  net: boolean;
  cron: boolean;
  intervalMs?: number;
  /** Requests taken per tick. */
  batch?: number;
  /** Tick on a timer (default true); otherwise only when `tick()` is called. */
  auto?: boolean;
}

interface QueuedRequest {
  id: string;
  method: string;
  url: string;
  headers: Record<string, string> | null;
  body: Uint8Array | null;
  timeout_milliseconds: number;
}

export interface LocalWorker {
  /** Runs one pass now (starts sending what is queued, runs due jobs). */
  tick(): Promise<void>;
  /** Resolves when every request started so far has its response recorded. */
  settled(): Promise<void>;
  stop(): Promise<void>;
}

export function startLocalWorker(opts: LocalWorkerOptions): LocalWorker {
  const intervalMs = opts.intervalMs ?? 200;
  const lastRun = new Map<string, number>();
  let running: Promise<void> | undefined;
  let stopped = false;

  const controllers = new Set<AbortController>();

  async function send(req: QueuedRequest): Promise<void> {
    const controller = new AbortController();
    controllers.add(controller);
    const timer = setTimeout(() => controller.abort(), req.timeout_milliseconds);
    let row: Record<string, unknown>;
    try {
      const res = await fetch(req.url, {
        method: req.method,
        headers: req.headers ?? {},
        body: req.method === "GET" ? undefined : (req.body as BodyInit | null),
        signal: controller.signal,
      });
      const content = await res.text();
      row = {
        status_code: res.status,
        content_type: res.headers.get("content-type"),
        headers: Object.fromEntries(res.headers),
        content,
        timed_out: false,
        error_msg: null,
      };
    } catch (err) {
      const timedOut = controller.signal.aborted;
      row = {
        status_code: null,
        content_type: null,
        headers: null,
        content: null,
        timed_out: timedOut,
        error_msg: timedOut
          ? `Timeout of ${req.timeout_milliseconds} ms reached`
          : (err instanceof Error ? err.message : String(err)),
      };
    } finally {
      clearTimeout(timer);
      controllers.delete(controller);
    }
    if (stopped) return;
    const sql = opts.sql();
    await sql`insert into net._http_response
                (id, status_code, content_type, headers, content, timed_out, error_msg)
              values (${req.id}, ${row.status_code as number | null}, ${row.content_type as
      | string
      | null},
                      ${row.headers ? sql.json(row.headers as Record<string, string>) : null},
                      ${row.content as string | null}, ${row.timed_out as boolean},
                      ${row.error_msg as string | null})`;
    if (row.error_msg) {
      log.warn("pg_net request failed", { id: req.id, url: req.url, error: row.error_msg });
    }
  }

  // Like pg_net's background worker, requests run concurrently and a slow one (a worker step may
  // take its whole wall-clock budget) never holds up the next tick.
  const sending = new Set<Promise<void>>();
  const maxInFlight = opts.batch ?? 20;

  async function sendQueued(): Promise<void> {
    const room = maxInFlight - sending.size;
    if (room <= 0) return;
    const taken = await opts.sql()<QueuedRequest[]>`
      delete from net.http_request_queue
      where id in (select id from net.http_request_queue order by id limit ${room})
      returning id, method, url, headers, body, timeout_milliseconds`;
    for (const req of taken) {
      const p: Promise<void> = send(req)
        .catch((err) => log.error("pg_net send failed", { id: req.id, error: String(err) }))
        .finally(() => sending.delete(p));
      sending.add(p);
    }
  }

  function isDue(job: { jobid: string; schedule: string }, now: number): boolean {
    let schedule;
    try {
      schedule = parseSchedule(job.schedule);
    } catch (err) {
      log.warn("cron job has an invalid schedule", { jobid: job.jobid, error: String(err) });
      return false;
    }
    const last = lastRun.get(job.jobid);
    if (schedule.kind === "interval") {
      // Like pg_cron, the first run comes one interval after the job is seen.
      if (last !== undefined && now - last < schedule.seconds * 1000) return false;
      lastRun.set(job.jobid, now);
      return last !== undefined;
    }
    const minute = Math.floor(now / 60_000);
    if (last === minute || !matchesMinute(schedule, new Date(now))) return false;
    lastRun.set(job.jobid, minute);
    return true;
  }

  async function runDueJobs(): Promise<void> {
    const jobs = await opts.sql()<{ jobid: string; schedule: string; command: string }[]>`
      select jobid, schedule, command from cron.job where active order by jobid`;
    const now = Date.now();
    for (const job of jobs) {
      if (!isDue(job, now)) continue;
      const started = new Date();
      let status = "succeeded";
      let message = "";
      try {
        const result = await opts.sql().unsafe(job.command);
        message = `${result.count ?? 0} row(s)`;
      } catch (err) {
        status = "failed";
        message = err instanceof Error ? err.message : String(err);
        log.warn("cron job failed", { jobid: job.jobid, error: message });
      }
      await opts.sql()`insert into cron.job_run_details
                         (jobid, database, username, command, status, return_message, start_time, end_time)
                       values (${job.jobid}, current_database(), current_user, ${job.command}, ${status},
                               ${message}, ${started}, now())`;
    }
  }

  function tick(): Promise<void> {
    if (running) return running;
    running = (async () => {
      try {
        if (opts.net) await sendQueued();
        if (opts.cron) await runDueJobs();
      } catch (err) {
        if (!stopped) log.error("local worker tick failed", { error: String(err) });
      }
    })().finally(() => {
      running = undefined;
    });
    return running;
  }

  const timer = (opts.auto ?? true) ? setInterval(() => void tick(), intervalMs) : undefined;

  return {
    tick,
    async settled() {
      while (sending.size > 0) await Promise.allSettled([...sending]);
    },
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
      for (const c of controllers) c.abort();
      await Promise.allSettled([...sending]);
    },
  };
}
