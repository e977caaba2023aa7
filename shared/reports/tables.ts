/**
 * Uploaded tables re-read for a report, from the file's bytes with the same readers as indexing
 * (shared/parsers: the CSV reader and the streaming XLSX reader), never from the indexed text.
 */
import type { SourceTable } from "../kpi/mod.ts";
import { extractCsv, extractXlsx, type TableBlock } from "../parsers/light.ts";

/** The tables of a CSV or XLSX file (one per sheet with data). */
export async function readTables(
  fileName: string,
  fileType: "csv" | "xlsx",
  bytes: Uint8Array,
): Promise<SourceTable[]> {
  const { blocks } = fileType === "csv" ? await extractCsv(bytes) : await extractXlsx(bytes);
  return blocks
    .filter((b): b is TableBlock => b.kind === "table")
    .map((b) => ({
      file: fileName,
      ...(b.sheet !== undefined ? { sheet: b.sheet } : {}),
      header: b.header,
      rows: b.rows,
      firstRow: b.firstRow,
    }));
}
