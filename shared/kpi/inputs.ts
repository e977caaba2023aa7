/**
 * What each report type needs, and how to tell from a table's indexed text (its header and first
 * rows, as the chunker wrote them) that a file may hold it. This only picks candidate files and
 * answers 422 early; the numbers themselves are always read from the file (shared/reports).
 *
 * `checkInputs` applies it to a workbench (in the caller's transaction): which indexed tables
 * (CSV/XLSX) may hold what the report type needs, judged from the first chunk of each table. The
 * reports function answers 422 with it; the report worker re-reads those files.
 */
import type { Tx } from "../db.ts";
import { normaliseLabel } from "./labels.ts";
import type { ReportType } from "./types.ts";

export interface ReportInput {
  /** What to upload, for the 422 answer. */
  need: string;
  /** Whether normalised table text looks like this input. */
  matches(text: string): boolean;
}

const has = (text: string, re: RegExp) => re.test(text);

export const REPORT_INPUTS: Record<ReportType, ReportInput> = {
  financial_summary: {
    need:
      "a P&L (income statement) table as CSV or XLSX: line items such as Revenue, COGS, Operating expenses and Net income as rows with periods as columns, or columns period, account, amount",
    matches: (t) =>
      has(t, /\b(revenue|revenues|sales|turnover|total income)\b/) &&
      has(t, /\b(cost of|cogs|expenses|net income|net profit|profit|ebitda|opex)\b/),
  },
  cash_flow: {
    need:
      "a bank statement (date, description, debit and credit or amount, balance) or a cash-flow table (inflows and outflows by period) as CSV or XLSX",
    matches: (t) =>
      (has(t, /\bdate\b/) &&
        (has(t, /\b(debit|withdrawal|withdrawals|money out)\b/) &&
            has(t, /\b(credit|deposit|deposits|money in)\b/) ||
          has(t, /\bbalance\b/) && has(t, /\bamount\b/))) ||
      (has(t, /\b(inflows?|receipts)\b/) && has(t, /\b(outflows?|payments)\b/)),
  },
  variance: {
    need:
      "a budget-vs-actual table as CSV or XLSX: a line item column with Budget and Actual columns",
    matches: (t) => has(t, /\b(budget|budgeted|plan|planned)\b/) && has(t, /\b(actual|actuals)\b/),
  },
};

/** Whether the indexed text of a table may hold the input of `type`. */
export function mayHoldInput(type: ReportType, text: string): boolean {
  return REPORT_INPUTS[type].matches(normaliseLabel(text));
}

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
