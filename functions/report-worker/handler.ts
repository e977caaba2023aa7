/**
 * `POST /report-worker`: called by the database (pg_net) with the service role key; runs one step
 * of one queued report and answers with what it did.
 */
import { type JwtVerifier, requireServiceRole } from "../../shared/auth.ts";
import { json, router } from "../../shared/http.ts";
import { processNextReport, type ReportWorkerDeps } from "../../shared/reports/worker.ts";

export function createReportWorkerHandler(deps: ReportWorkerDeps & { verifier: JwtVerifier }) {
  return router([{
    method: "POST",
    pattern: "/",
    handler: async (req) => {
      requireServiceRole(req, deps.verifier);
      await req.body?.cancel();
      return json(await processNextReport(deps));
    },
  }]);
}
