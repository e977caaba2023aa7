/**
 * Document text extraction: one entry point dispatching to each parser, and the parsers' public
 * face. File type sniffing (light, for upload checks) is the workbenches function's
 * (functions/workbenches/uploads/file_type.ts).
 */
import { extractCsv } from "./csv.ts";
import { extractDocx } from "./docx.ts";
import { extractPdf, type PageRange } from "./pdf.ts";
import { extractPlainText } from "./text.ts";
import type { ExtractResult, FileType } from "./types.ts";
import { extractXlsx } from "./xlsx.ts";

export { extractCsv } from "./csv.ts";
export { extractDocx } from "./docx.ts";
export { extractPdf, type PageRange, pdfPageCount } from "./pdf.ts";
export { extractPlainText } from "./text.ts";
export { extractXlsx } from "./xlsx.ts";
export * from "./read.ts";
export * from "./sink.ts";
export * from "./types.ts";

/** Extracts the text of a file of a known type; `opts` (a page range) only applies to PDFs. */
export function extract(
  type: FileType,
  bytes: Uint8Array,
  opts: PageRange = {},
): Promise<ExtractResult> {
  switch (type) {
    case "pdf":
      return extractPdf(bytes, opts);
    case "docx":
      return extractDocx(bytes);
    case "xlsx":
      return extractXlsx(bytes);
    case "csv":
      return extractCsv(bytes);
    case "txt":
    case "md":
      return extractPlainText(bytes, type);
  }
}
