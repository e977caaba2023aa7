/**
 * `POST /report-worker`: called by the database (pg_net) with the service role key; runs one step
 * of one queued report and answers with what it did.
 */
import { type JwtVerifier, serviceTaskRoute } from "../../shared/auth.ts";
import { router } from "../../shared/http.ts";
import { processNextReport, type ReportWorkerDeps } from "../../shared/reports/worker.ts";

export function createReportWorkerHandler(deps: ReportWorkerDeps & { verifier: JwtVerifier }) {
  return router([serviceTaskRoute("/", deps.verifier, () => processNextReport(deps))]);
}
