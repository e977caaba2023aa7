/**
 * `POST /report-worker` (service role only): runs one step of one queued report (worker.ts) and
 * answers with what it did.
 */
import { serviceTaskRoute } from "../../shared/auth.ts";
import type { Route } from "../../shared/http.ts";
import type { ReportWorkerDeps } from "./deps.ts";
import { processNextReport } from "./worker.ts";

export function stepRoute(deps: ReportWorkerDeps): Route {
  return serviceTaskRoute("/", deps.verifier, () => processNextReport(deps), {
    summary: "Run one step of one queued report",
  });
}
