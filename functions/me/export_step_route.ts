/**
 * `POST /me/export-step` (service role only): one step of the next export that needs one
 * (export_builder.ts). The database kicks it when an export is asked for, each step kicks the
 * next, and the `export-redispatch` cron job kicks it again while an export waits (a step that
 * died leaves its lease to expire).
 */
import { serviceTaskRoute } from "../../shared/auth.ts";
import type { Route } from "../../shared/http.ts";
import type { MeDeps } from "./deps.ts";
import { runExportStep } from "./export_builder.ts";
import { ExportStep } from "./schemas.ts";

export function exportStepRoute(deps: MeDeps): Route {
  return serviceTaskRoute("/export-step", deps.verifier, () => runExportStep(deps), {
    summary: "One step of the next export that needs one",
    result: ExportStep,
  });
}
