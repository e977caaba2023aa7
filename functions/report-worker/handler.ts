/**
 * The `report-worker` function: called by the database (pg_net) with the service role key; runs
 * one step of one queued report and answers with what it did.
 *
 * - step_route.ts: `POST /`
 * - worker.ts: the steps (kpis, narrative, render), retries and refunds; job.ts: what a job is
 * - grounding.ts: the model that writes the narrative and the passages it is grounded in
 * - deps.ts: what the worker needs, and `reportWorkerDepsFromEnv()` for index.ts
 */
import { router } from "../../shared/http.ts";
import type { ReportWorkerDeps } from "./deps.ts";
import { stepRoute } from "./step_route.ts";

export function createReportWorkerHandler(deps: ReportWorkerDeps) {
  return router([stepRoute(deps)]);
}
