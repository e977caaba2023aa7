/**
 * One report job as the worker sees it: the report row it reads, what one step answers, and the
 * failure whose message is fit for end users.
 */
import type { KpiResult, ReportType } from "../../shared/kpi/mod.ts";

export interface ReportRowForWorker {
  id: string;
  workbench_id: string;
  /** The owner: the narrative's passages are searched with this user's rights. */
  user_id: string;
  report_type: ReportType;
  title: string;
  notes: string | null;
  status: string;
  stage: "kpis" | "narrative" | "render" | "done";
  kpis: KpiResult | null;
  narrative: string | null;
}

export type ReportWorkResult =
  | { status: "idle" }
  | { status: "skipped"; report_id: string; reason: string }
  | { status: "stepped"; report_id: string; stage: string; ms: number }
  | { status: "ready"; report_id: string; ms: number; bytes: number }
  | { status: "retry"; report_id: string; attempts: number; retry_in_sec: number; error: string }
  | { status: "failed"; report_id: string; error: string };

/** A failure with a message fit for end users. */
export class StepFailure extends Error {
  override name = "StepFailure";
  constructor(message: string, readonly permanent = false, options?: ErrorOptions) {
    super(message, options);
  }
}
