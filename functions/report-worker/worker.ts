/**
 * The report worker's loop body: take one message from pgmq `report_jobs` and run the next step
 * of its report, each step small enough for the Edge limits (~2 s CPU):
 *   kpis       re-read the candidate tables from Storage (the indexing parsers) and compute the
 *              KPIs; a workbench without a usable table fails at once (refunded)
 *   narrative  the model's text grounded in the KPIs and cited passages, checked number by number,
 *              or the template
 *   render     the PDF, stored in the private `reports` bucket; the report is `ready`
 * Each step saves its result on the report row and re-queues the message. An attempt is counted
 * before each step and reset when one succeeds; failures are retried with backoff, and after
 * `maxAttempts` the report is `failed` with a readable reason and its credit refunded (once).
 */
import type { Sql } from "../../shared/db.ts";
import {
  checkInputs,
  computeKpis,
  type KpiResult,
  MissingInputError,
  type SourceTable,
} from "../../shared/kpi/mod.ts";
import { log } from "../../shared/log.ts";
import { ParseError } from "../../shared/parsers/light.ts";
import { QUEUES } from "../../shared/queues.ts";
import { REPORTS_BUCKET, WORKBENCH_BUCKET } from "../../shared/storage.ts";
import { readTables, renderReportPdf, writeNarrative } from "../../shared/reports/mod.ts";
import type { ReportWorkerDeps } from "./deps.ts";
import { type ReportRowForWorker, type ReportWorkResult, StepFailure } from "./job.ts";

async function wrap<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof StepFailure) throw err;
    if (err instanceof MissingInputError || err instanceof ParseError) {
      throw new StepFailure(err.message, true);
    }
    throw new StepFailure(what, false, { cause: err });
  }
}

async function computeStep(
  deps: ReportWorkerDeps,
  sql: Sql,
  report: ReportRowForWorker,
): Promise<KpiResult> {
  const check = await sql.begin((tx) => checkInputs(tx, report.workbench_id, report.report_type));
  const ids = check.candidates.slice(0, deps.config.maxFiles).map((c) => c.id);
  const files = ids.length === 0 ? [] : await sql<
    {
      id: string;
      file_name: string;
      file_type: "csv" | "xlsx";
      storage_path: string;
      size_bytes: number;
    }[]
  >`
    select id, file_name, file_type, storage_path, size_bytes from public.workbench_files
     where id = any(${ids}::uuid[]) and storage_path is not null order by created_at, id`;
  const tables: SourceTable[] = [];
  const tooLarge: string[] = [];
  const mb = (n: number) =>
    n < 1048576 ? `${Math.ceil(n / 1024)} KB` : `${(n / 1048576).toFixed(1)} MB`;
  for (const f of files) {
    if (f.size_bytes > deps.config.maxFileBytes) {
      tooLarge.push(`${f.file_name} (${mb(f.size_bytes)})`);
      continue;
    }
    const bytes = await wrap(
      `the file ${f.file_name} could not be read from storage`,
      () => deps.store.download(WORKBENCH_BUCKET, f.storage_path),
    );
    tables.push(
      ...await wrap(
        `the file ${f.file_name} could not be read`,
        () => readTables(f.file_name, f.file_type, bytes),
      ),
    );
  }
  const limit = `a report reads tables of at most ${mb(deps.config.maxFileBytes)}`;
  if (tables.length === 0 && tooLarge.length > 0) {
    throw new StepFailure(`the tables are too large: ${tooLarge.join(", ")}; ${limit}`, true);
  }
  const kpis = await wrap(
    "the figures could not be computed",
    () =>
      Promise.resolve(
        computeKpis(report.report_type, tables, {
          varianceThresholdPct: deps.config.varianceThresholdPct,
        }),
      ),
  );
  for (const name of tooLarge) kpis.warnings.push(`${name} was not read: ${limit}`);
  return kpis;
}

/** A taken pgmq message and the report it names, claimed (attempts counted, `processing`). */
interface Job {
  sql: Sql;
  msgId: string;
  report: ReportRowForWorker;
  attempts: number;
}

const queue = QUEUES.reportJobs;

function deleteMessage(sql: Sql, msgId: string) {
  return sql`select pgmq.delete(${queue}, ${msgId}::bigint)`;
}

function redispatch(sql: Sql) {
  return sql`select private.redispatch(${queue}, 'report-worker')`;
}

/**
 * Takes the next message and claims its report, or says why there is nothing to do: no message
 * (idle), or a report that is gone, finished or no longer being made (the message is deleted).
 */
async function claimNext(deps: ReportWorkerDeps, sql: Sql): Promise<Job | ReportWorkResult> {
  const [msg] = await sql<{ msg_id: string; message: { report_id?: string } }[]>`
    select msg_id, message from pgmq.read(${queue}, ${deps.config.visibilityTimeoutSec}, 1)`;
  if (!msg) return { status: "idle" };
  const reportId = msg.message.report_id ?? "";
  const [report] = /^[0-9a-f-]{36}$/i.test(reportId)
    ? await sql<ReportRowForWorker[]>`
        select id, workbench_id, user_id, report_type, title, notes, status, stage, kpis, narrative
          from public.reports where id = ${reportId}`
    : [];
  if (!report || report.status === "ready" || report.status === "failed") {
    await deleteMessage(sql, msg.msg_id);
    await redispatch(sql);
    return {
      status: "skipped",
      report_id: reportId,
      reason: report ? `the report is already ${report.status}` : "the report no longer exists",
    };
  }
  const [claim] = await sql<{ attempts: number }[]>`
    update public.reports set attempts = attempts + 1, status = 'processing'
     where id = ${report.id} and status in ('queued', 'processing') returning attempts`;
  if (!claim) {
    await deleteMessage(sql, msg.msg_id);
    return {
      status: "skipped",
      report_id: report.id,
      reason: "the report is no longer being made",
    };
  }
  return { sql, msgId: msg.msg_id, report, attempts: claim.attempts };
}

/** Fails the report for good (refunded once by private.fail_report) and archives its message. */
async function failJob(job: Job, text: string): Promise<ReportWorkResult> {
  const { sql, report } = job;
  await sql`select private.fail_report(${report.id}, ${text})`;
  await sql`select pgmq.archive(${queue}, ${job.msgId}::bigint)`;
  await redispatch(sql);
  return { status: "failed", report_id: report.id, error: text };
}

/** A retry with backoff, or the failure when the attempts are used up or it is permanent. */
async function retryOrFail(deps: ReportWorkerDeps, job: Job, err: unknown) {
  const { sql, report, attempts } = job;
  const failure = err instanceof StepFailure
    ? err
    : new StepFailure("an internal error occurred while making the report", false, { cause: err });
  log.warn("report step failed", {
    report_id: report.id,
    stage: report.stage,
    attempts,
    permanent: failure.permanent,
    error: failure.message,
    cause: failure.cause ? String(failure.cause) : undefined,
  });
  if (failure.permanent) return await failJob(job, failure.message);
  if (attempts >= deps.config.maxAttempts) {
    return await failJob(job, `report failed after ${attempts} attempts: ${failure.message}`);
  }
  const delay = deps.config.retryBaseSec * 4 ** (attempts - 1);
  await sql`update public.reports set error_message = ${`attempt ${attempts} failed: ${failure.message}`}
             where id = ${report.id} and status = 'processing'`;
  await sql`select pgmq.set_vt(${queue}, ${job.msgId}::bigint, ${delay})`;
  return {
    status: "retry" as const,
    report_id: report.id,
    attempts,
    retry_in_sec: delay,
    error: failure.message,
  };
}

/** Step `kpis`: the KPIs, saved; next is `narrative`. */
async function kpisStep(deps: ReportWorkerDeps, { sql, report }: Job): Promise<void> {
  const kpis = await computeStep(deps, sql, report);
  await sql`update public.reports set kpis = ${
    sql.json(JSON.parse(JSON.stringify(kpis)))
  }, stage = 'narrative', attempts = 0, error_message = null
             where id = ${report.id} and status = 'processing'`;
}

/** Step `narrative`: the model's checked text or the template, saved; next is `render`. */
async function narrativeStep(deps: ReportWorkerDeps, { sql, report }: Job): Promise<void> {
  const passages = deps.passages
    ? await wrap("the workbench's passages could not be searched", () => deps.passages!(report))
    : [];
  const narrative = await wrap(
    "the narrative service failed",
    () =>
      writeNarrative(report.kpis!, {
        title: report.title,
        notes: report.notes,
        passages,
        generate: deps.generate,
      }),
  );
  if (narrative.rejected_numbers?.length) {
    log.warn("narrative rejected: numbers not in the KPI table", {
      report_id: report.id,
      numbers: narrative.rejected_numbers,
    });
  }
  await sql`update public.reports set narrative = ${narrative.text}, narrative_source = ${narrative.source},
                   stage = 'render', attempts = 0, error_message = null
             where id = ${report.id} and status = 'processing'`;
}

/** Step `render`: the PDF, stored; the report is `ready`. Returns the PDF's size. */
async function renderStep(deps: ReportWorkerDeps, { sql, report }: Job): Promise<number> {
  const bytes = await wrap("the PDF could not be drawn", () =>
    renderReportPdf({
      title: report.title,
      reportType: report.report_type,
      notes: report.notes,
      narrative: report.narrative ?? "",
      kpis: report.kpis!,
      generatedAt: deps.now?.() ?? new Date(),
    }));
  const path = `${report.workbench_id}/${report.id}.pdf`;
  // The path is on the row before the bytes are stored, so no stored PDF is ever unclaimed.
  await sql`update public.reports set storage_path = ${path} where id = ${report.id} and status = 'processing'`;
  await wrap(
    "the PDF could not be stored",
    () => deps.store.upload(REPORTS_BUCKET, path, bytes, "application/pdf"),
  );
  await sql`update public.reports set status = 'ready', stage = 'done', completed_at = now(), error_message = null
             where id = ${report.id} and status = 'processing'`;
  return bytes.length;
}

/** Runs the claimed report's current step; after `kpis` and `narrative` the message is re-queued. */
async function runStep(deps: ReportWorkerDeps, job: Job): Promise<ReportWorkResult> {
  const { sql, report } = job;
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  if (report.stage === "render") {
    const bytes = await renderStep(deps, job);
    await deleteMessage(sql, job.msgId);
    await redispatch(sql);
    log.info("report ready", { report_id: report.id, ms: elapsed(), bytes });
    return { status: "ready", report_id: report.id, ms: elapsed(), bytes };
  }
  if (report.stage === "kpis") await kpisStep(deps, job);
  else await narrativeStep(deps, job);
  await sql`select pgmq.set_vt(${queue}, ${job.msgId}::bigint, 0)`;
  await sql`select private.kick_worker('report-worker', ${sql.json({ queue })})`;
  log.info("report step", { report_id: report.id, stage: report.stage, ms: elapsed() });
  return { status: "stepped", report_id: report.id, stage: report.stage, ms: elapsed() };
}

export async function processNextReport(deps: ReportWorkerDeps): Promise<ReportWorkResult> {
  const job = await claimNext(deps, deps.sql());
  if (!("msgId" in job)) return job;
  if (job.attempts > deps.config.maxAttempts) {
    return await failJob(
      job,
      `report failed after ${deps.config.maxAttempts} attempts: the worker was stopped (too large or too slow to process)`,
    );
  }
  try {
    return await runStep(deps, job);
  } catch (err) {
    return await retryOrFail(deps, job, err);
  }
}
