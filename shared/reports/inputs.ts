/**
 * Prerequisites of a report: which indexed tables (CSV/XLSX) of the workbench may hold what the
 * report type needs, judged from the first chunk of each table (its header and first rows). The
 * worker re-reads those files to compute the figures.
 */
import type { Tx } from "../db.ts";
import { mayHoldInput, REPORT_INPUTS } from "../kpi/inputs.ts";
import type { ReportType } from "../kpi/types.ts";

export interface InputCheck {
  /** Indexed files that may hold the input, oldest first. */
  candidates: { id: string; file_name: string }[];
  /** Tables not indexed yet (they may hold it once indexed). */
  pending: string[];
}

export async function checkInputs(
  tx: Tx,
  workbenchId: string,
  type: ReportType,
): Promise<InputCheck> {
  const files = await tx<{ id: string; file_name: string; status: string }[]>`
    select id, file_name, status from public.workbench_files
     where workbench_id = ${workbenchId} and file_type in ('csv', 'xlsx')
     order by created_at, id
     limit 200`;
  const indexed = files.filter((f) => f.status === "indexed");
  const firstChunks = indexed.length === 0 ? [] : await tx<{ file_id: string; content: string }[]>`
    select distinct on (c.file_id, coalesce(c.metadata ->> 'sheet', '')) c.file_id, c.content
      from public.workbench_chunks c
     where c.workbench_id = ${workbenchId} and c.file_id = any(${indexed.map((f) => f.id)}::uuid[])
     order by c.file_id, coalesce(c.metadata ->> 'sheet', ''), c.chunk_index`;
  const matching = new Set(
    firstChunks.filter((c) => mayHoldInput(type, c.content)).map((c) => c.file_id),
  );
  return {
    candidates: indexed.filter((f) => matching.has(f.id)).map((f) => ({
      id: f.id,
      file_name: f.file_name,
    })),
    pending: files.filter((f) => f.status === "pending" || f.status === "processing").map((f) =>
      f.file_name
    ),
  };
}

export function missingInputDetails(type: ReportType, check: InputCheck) {
  return {
    report_type: type,
    missing: [REPORT_INPUTS[type].need],
    ...(check.pending.length ? { still_indexing: check.pending } : {}),
  };
}
