/** Document text extraction: file type sniffing and one entry point dispatching to each parser. */
import { extractCsv } from "./csv.ts";
import { extractDocx } from "./docx.ts";
import { extractPdf, type PageRange } from "./pdf.ts";
import { extractPlainText } from "./text.ts";
import type { ExtractResult, FileType } from "./types.ts";
import { extractXlsx } from "./xlsx.ts";
import { zipEntryNames } from "./zip.ts";

export { extractCsv } from "./csv.ts";
export { extractDocx } from "./docx.ts";
export { extractPdf, type PageRange, pdfPageCount } from "./pdf.ts";
export { extractPlainText } from "./text.ts";
export { extractXlsx } from "./xlsx.ts";
export { zipExpandedSize, zipInflatedSize } from "./zip.ts";
export * from "./types.ts";

export const MIME_TYPES: Record<FileType, string> = {
  pdf: "application/pdf",
  docx: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
  xlsx: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
  csv: "text/csv",
  txt: "text/plain",
  md: "text/markdown",
};

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

const EXTENSIONS = new Set<string>(["pdf", "docx", "xlsx", "csv", "txt", "md"]);
const SNIFF_BYTES = 64 * 1024;

function startsWith(bytes: Uint8Array, magic: string): boolean {
  if (bytes.length < magic.length) return false;
  for (let i = 0; i < magic.length; i++) if (bytes[i] !== magic.charCodeAt(i)) return false;
  return true;
}

/** True when the start of the file is UTF-8 (a sequence cut at the end is fine) without NULs. */
function looksLikeText(bytes: Uint8Array): boolean {
  const head = bytes.subarray(0, SNIFF_BYTES);
  if (head.includes(0)) return false;
  try {
    new TextDecoder("utf-8", { fatal: true }).decode(head, { stream: head.length < bytes.length });
    return true;
  } catch {
    return false;
  }
}

type ContentKind = "pdf" | "docx" | "xlsx" | "zip" | "text" | "binary";

function contentKind(bytes: Uint8Array): ContentKind {
  if (startsWith(bytes, "%PDF-")) return "pdf";
  if (startsWith(bytes, "PK\x03\x04")) {
    const names = zipEntryNames(bytes) ?? [];
    if (names.includes("word/document.xml")) return "docx";
    if (names.includes("xl/workbook.xml")) return "xlsx";
    return "zip";
  }
  return looksLikeText(bytes) ? "text" : "binary";
}

const KIND_OF: Record<FileType, ContentKind> = {
  pdf: "pdf",
  docx: "docx",
  xlsx: "xlsx",
  csv: "text",
  txt: "text",
  md: "text",
};

const DESCRIBED: Record<ContentKind, string> = {
  pdf: "a PDF",
  docx: "a Word document",
  xlsx: "a spreadsheet",
  zip: "a ZIP archive",
  text: "text",
  binary: "binary data",
};

export type Detection =
  | { type: FileType }
  | { type: null; reason: "unsupported" | "mismatch"; message: string };

/**
 * Decides a file's type from its extension and its content, which must agree: a supported
 * extension needs matching content (PDF magic, a Word or Excel ZIP, UTF-8 text); without a
 * supported extension the content decides (PDF, DOCX, XLSX, else UTF-8 text is TXT).
 */
export function detectFileType(bytes: Uint8Array, fileName: string): Detection {
  const base = fileName.split(/[/\\]/).pop() ?? "";
  const dot = base.lastIndexOf(".");
  const ext = dot > 0 ? base.slice(dot + 1).toLowerCase() : "";
  const kind = contentKind(bytes);
  if (EXTENSIONS.has(ext)) {
    const type = ext as FileType;
    if (KIND_OF[type] === kind) return { type };
    return {
      type: null,
      reason: "mismatch",
      message: `${base} is not a valid ${type.toUpperCase()} file: its content is ${
        DESCRIBED[kind]
      }.`,
    };
  }
  if (kind === "pdf" || kind === "docx" || kind === "xlsx") return { type: kind };
  if (kind === "text") return { type: "txt" };
  return {
    type: null,
    reason: "unsupported",
    message: `${
      base || "The file"
    } is not a supported file type. Upload PDF, DOCX, XLSX, CSV, TXT or MD files.`,
  };
}

/** The detected type, or null when the file is unsupported or its content contradicts its name. */
export function sniffFileType(bytes: Uint8Array, fileName: string): FileType | null {
  return detectFileType(bytes, fileName).type;
}
