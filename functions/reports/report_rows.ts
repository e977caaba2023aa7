/** How report rows are read and returned. */
import type { Tx } from "../../shared/db.ts";
import { type ObjectStore, REPORTS_BUCKET, safeObjectName } from "../../shared/storage.ts";

export interface ReportRow {
  id: string;
  workbench_id: string;
  user_id: string;
  report_type: string;
  title: string;
  notes: string | null;
  status: "queued" | "processing" | "ready" | "failed";
  error_message: string | null;
  storage_path: string | null;
  cost_credits: number;
  attempts: number;
  kpis: unknown;
  narrative: string | null;
  narrative_source: string | null;
  created_at: string;
  updated_at: string;
  completed_at: string | null;
}

export async function readReport(tx: Tx, id: string): Promise<ReportRow | undefined> {
  const [row] = await tx<ReportRow[]>`
    select id, workbench_id, user_id, report_type, title, notes, status, error_message, storage_path,
           cost_credits, attempts, kpis, narrative, narrative_source, created_at, updated_at,
           completed_at
      from public.reports where id = ${id}`;
  return row;
}

/** The name a downloaded report is saved under: its title (or type) and date, storage-safe. */
export function reportFileName(
  row: Pick<ReportRow, "title" | "report_type" | "created_at">,
): string {
  const created = new Date(row.created_at);
  const day = Number.isNaN(created.getTime()) ? "" : `-${created.toISOString().slice(0, 10)}`;
  // safeObjectName() keeps only the last path segment, so a "/" in a title becomes a space first.
  const name = `${row.title || row.report_type}`.replace(/[\\/]+/g, " ");
  return `${safeObjectName(`${name}${day}`)}.pdf`;
}

/** The client's view: no storage path; when ready, a signed download URL that expires. */
export async function presentReport(
  row: ReportRow,
  opts: { store: ObjectStore; ttlSeconds: number; withDetails: boolean },
) {
  const { storage_path, kpis, narrative, error_message, ...rest } = row;
  const out: Record<string, unknown> = { ...rest, error: error_message };
  if (opts.withDetails) {
    out.kpis = kpis;
    out.narrative = narrative;
  }
  if (row.status === "ready" && storage_path && opts.withDetails) {
    out.download_url = await opts.store.signedUrl(
      REPORTS_BUCKET,
      storage_path,
      opts.ttlSeconds,
      reportFileName(row),
    );
    out.download_expires_at = new Date(Date.now() + opts.ttlSeconds * 1000).toISOString();
  }
  return out;
}
