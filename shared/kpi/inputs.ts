/**
 * What each report type needs, and whether a workbench's tables hold it. `checkInputs` (in the
 * caller's transaction) rebuilds each indexed CSV/XLSX's tables from its stored table chunks and
 * runs the same table detection and KPI computation the worker runs (`computeKpis`) on them: a
 * table found below title rows, in either orientation, with the inputs the type needs. The
 * reports function answers 422 with what it found and what it lacks, before any credit moves;
 * the report worker re-reads the files that pass, in full, from Storage (the numbers are always
 * read from the file). `mayHoldInput` is the old cheap text test, kept for callers that only
 * have text.
 */
import type { Tx } from "../db.ts";
import { computeKpis } from "./compute.ts";
import { MissingInputError } from "./financial.ts";
import { normaliseLabel } from "./labels.ts";
import { locateHeader } from "./layout.ts";
import { chunkTable } from "./rows.ts";
import type { SourceTable } from "./tables.ts";
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
      "a P&L (income statement) table as CSV or XLSX: line items such as Revenue, COGS, Operating expenses and Net income as rows with periods as columns, one row per period with line items as columns, or columns period, account, amount",
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

/** The table rows the check reads per table (sheet) of a file: 8 chunks, about 25 KB. */
const CHUNKS_PER_TABLE = 8;

/**
 * A file's tables rebuilt from its indexed table chunks (in chunk order): each chunk is
 * "Sheet: …" (XLSX), "Section: …" when it has one, the header cells joined by " | ", then its
 * rows; `row_start` numbers them. Chunks of one table (same sheet and header) are joined.
 */
export function tablesFromChunks(
  fileName: string,
  chunks: { content: string; metadata: Record<string, unknown> | string | null }[],
): SourceTable[] {
  const tables: SourceTable[] = [];
  let key = "";
  for (const chunk of chunks) {
    const meta: Record<string, unknown> =
      (typeof chunk.metadata === "string" ? JSON.parse(chunk.metadata) : chunk.metadata) ?? {};
    const table = chunkTable(chunk.content, meta);
    if (!table) continue; // a text chunk
    const thisKey = `${table.sheet ?? ""}\u0000${table.headerLine}`;
    const last = tables.at(-1);
    if (last && thisKey === key && last.firstRow + last.rows.length === table.firstRow) {
      last.rows.push(...table.rows);
      continue;
    }
    key = thisKey;
    tables.push({
      file: fileName,
      ...(table.sheet !== undefined ? { sheet: table.sheet } : {}),
      header: table.header,
      rows: table.rows,
      firstRow: table.firstRow,
    });
  }
  return tables;
}

/** Whether the tables hold the input of `type`: the worker's own computation, run on them. */
export interface Detection {
  ok: boolean;
  /** What was found, for the 422 answer (tables, their header row and line items). */
  found: string[];
  /** What is lacking, with the labels looked for. */
  lacks: string[];
  message?: string;
}

export function detectInputs(type: ReportType, tables: SourceTable[]): Detection {
  try {
    computeKpis(type, tables);
    return { ok: true, found: [], lacks: [] };
  } catch (err) {
    if (!(err instanceof MissingInputError)) throw err;
    const found = err.details.found ?? tables.map((t) => {
      const located = locateHeader(t);
      return `${t.file}${t.sheet !== undefined ? `, sheet ${t.sheet}` : ""} (header at row ${
        located.firstRow - 1
      }: ${located.header.slice(0, 8).join(", ")})`;
    });
    return { ok: false, found, lacks: err.details.lacks ?? [], message: err.message };
  }
}

export interface InputCheck {
  /** Indexed files whose tables hold the input, oldest first. */
  candidates: { id: string; file_name: string }[];
  /** Tables not indexed yet (they may hold it once indexed). */
  pending: string[];
  /** What the other indexed tables hold, and what they lack. */
  found: string[];
  lacks: string[];
}

/**
 * The report type's input in a workbench's indexed tables, checked by running the KPI
 * computation on the stored table rows (the first chunks of each table), so `POST /reports`
 * refuses (422) what the worker would refuse, before any credit moves. The worker runs the same
 * check to pick the files it re-reads in full.
 */
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
  type ChunkRow = { file_id: string; content: string; metadata: Record<string, unknown> | null };
  const chunks: ChunkRow[] = indexed.length === 0 ? [] : await tx<ChunkRow[]>`
    select file_id, content, metadata from (
      select c.file_id, c.content, c.metadata, c.chunk_index,
             row_number() over (partition by c.file_id, coalesce(c.metadata ->> 'sheet', '')
                                order by c.chunk_index) as n
        from public.workbench_chunks c
       where c.workbench_id = ${workbenchId} and c.file_id = any(${
    indexed.map((f) => f.id)
  }::uuid[])
    ) t
     where n <= ${CHUNKS_PER_TABLE}
     order by file_id, chunk_index`;
  const byFile = new Map<string, ChunkRow[]>();
  for (const c of chunks) {
    const list = byFile.get(c.file_id) ?? [];
    list.push(c);
    byFile.set(c.file_id, list);
  }
  const candidates: InputCheck["candidates"] = [];
  const found: string[] = [];
  const lacks = new Set<string>();
  for (const f of indexed) {
    const detection = detectInputs(type, tablesFromChunks(f.file_name, byFile.get(f.id) ?? []));
    if (detection.ok) candidates.push({ id: f.id, file_name: f.file_name });
    else {
      found.push(...detection.found);
      for (const l of detection.lacks) lacks.add(l);
    }
  }
  return {
    candidates,
    pending: files.filter((f) => f.status === "pending" || f.status === "processing").map((f) =>
      f.file_name
    ),
    found: found.length > 20 ? [...found.slice(0, 20), `… and ${found.length - 20} more`] : found,
    lacks: [...lacks],
  };
}

export function missingInputDetails(type: ReportType, check: InputCheck) {
  return {
    report_type: type,
    missing: [REPORT_INPUTS[type].need],
    found: check.found,
    lacks: check.lacks.length ? check.lacks : [REPORT_INPUTS[type].need],
    ...(check.pending.length ? { still_indexing: check.pending } : {}),
  };
}
