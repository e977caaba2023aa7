/** How file rows are read and returned: the columns (with computed `progress`) and JSON shape. */

/** Progress (0–1): how much of the file the steps have read; 1 once indexed. */
export const FILE_COLUMNS = `id, workbench_id, file_name, file_type, mime_type, size_bytes,
  content_hash, status, error_message, page_count, attempts, chunks_done, chunks_total, created_at,
  updated_at, indexed_at,
  round(case when status = 'indexed' then 1 else least(1, greatest(0,
    -- Files in one pass (read, chunk, embed, insert per step): how much of the file was read.
    case when progress ? 'fraction' then (progress ->> 'fraction')::numeric
    -- Files left in the previous two-phase format.
    else 0.2 * case when progress ->> 'phase' = 'embed' then 1
                    when file_type = 'pdf' and coalesce(page_count, 0) > 0
                      then least(1, (coalesce((progress ->> 'next_page')::numeric, 1) - 1)
                                    / page_count)
                    else 0 end
       + 0.8 * case when coalesce(chunks_total, 0) > 0 then chunks_done::numeric / chunks_total
                    else 0 end
    end)) end, 3)::float8 as progress`;

/** A file row as JSON (`size_bytes` is a bigint in the database). */
export function fileJson<T extends { size_bytes?: unknown }>(row: T): T & { size_bytes: number } {
  return { ...row, size_bytes: Number(row.size_bytes) };
}

/** The columns the upload code reads; the rest are passed through to clients. */
export interface FileRow {
  id: string;
  status: string;
  file_type: string;
  size_bytes: string | number;
  [column: string]: unknown;
}
