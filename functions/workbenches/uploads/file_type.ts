/**
 * File types: what an extension promises, what the first bytes show, and the MIME type each type
 * is stored with. No parser is imported here, so upload checks stay light.
 */
import type { FileType } from "../../../shared/parsers/light.ts";
import { zipEntryNames } from "./zip.ts";

export type { FileType };

export const MIME_TYPES: Record<FileType, string> = {
  pdf: "application/pdf",
  docx: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
  xlsx: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
  csv: "text/csv",
  txt: "text/plain",
  md: "text/markdown",
};

/** How many leading bytes decide whether a file is text. */
export const SNIFF_BYTES = 64 * 1024;

const EXTENSIONS = new Set<string>(["pdf", "docx", "xlsx", "csv", "txt", "md"]);

/** What the bytes are: "zip" until its entries say Word document or workbook. */
export type ContentKind = "pdf" | "docx" | "xlsx" | "zip" | "text" | "binary";

/** The kind each type's content must have. */
export const KIND_OF: Record<FileType, ContentKind> = {
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

/** The file's base name (without folders). */
export function baseName(fileName: string): string {
  return fileName.split(/[/\\]/).pop() ?? "";
}

/** The supported type the name's extension claims, or null (no or another extension). */
export function typeFromExtension(fileName: string): FileType | null {
  const base = baseName(fileName);
  const dot = base.lastIndexOf(".");
  const ext = dot > 0 ? base.slice(dot + 1).toLowerCase() : "";
  return EXTENSIONS.has(ext) ? ext as FileType : null;
}

function startsWith(bytes: Uint8Array, magic: string): boolean {
  if (bytes.length < magic.length) return false;
  for (let i = 0; i < magic.length; i++) if (bytes[i] !== magic.charCodeAt(i)) return false;
  return true;
}

/**
 * True when `head` is UTF-8 without NULs; `more` says the file goes on after it, so a sequence
 * cut at the end is fine.
 */
export function looksLikeText(head: Uint8Array, more: boolean): boolean {
  if (head.includes(0)) return false;
  try {
    new TextDecoder("utf-8", { fatal: true }).decode(head, { stream: more });
    return true;
  } catch {
    return false;
  }
}

/**
 * The kind of content from the first bytes (at least `SNIFF_BYTES` of them, or the whole file
 * when `more` is false). A ZIP stays "zip": its entries decide later.
 */
export function kindOfHead(head: Uint8Array, more: boolean): "pdf" | "zip" | "text" | "binary" {
  if (startsWith(head, "%PDF-")) return "pdf";
  if (startsWith(head, "PK\x03\x04")) return "zip";
  return looksLikeText(head.subarray(0, SNIFF_BYTES), more || head.length > SNIFF_BYTES)
    ? "text"
    : "binary";
}

/** A readable ZIP is a Word document when it has word/document.xml, else a workbook, else a ZIP. */
export function kindOfZip(entryNames: readonly string[] | null): ContentKind {
  if (entryNames === null) return "zip";
  if (entryNames.includes("word/document.xml")) return "docx";
  if (entryNames.includes("xl/workbook.xml")) return "xlsx";
  return "zip";
}

export type Detection =
  | { type: FileType }
  | { type: null; reason: "unsupported" | "mismatch"; message: string };

/**
 * The type of a file named `fileName` whose content is `kind`, which must agree with a supported
 * extension; without one the content decides (PDF, DOCX, XLSX, else text is TXT).
 */
export function decideType(fileName: string, kind: ContentKind): Detection {
  const base = baseName(fileName);
  const claimed = typeFromExtension(fileName);
  if (claimed) {
    if (KIND_OF[claimed] === kind) return { type: claimed };
    return {
      type: null,
      reason: "mismatch",
      message: `${base} is not a valid ${claimed.toUpperCase()} file: its content is ${
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

/**
 * Decides a file's type from its extension and its content, which must agree: a supported
 * extension needs matching content (PDF magic, a Word or Excel ZIP, UTF-8 text); without a
 * supported extension the content decides (PDF, DOCX, XLSX, else UTF-8 text is TXT).
 */
export function detectFileType(bytes: Uint8Array, fileName: string): Detection {
  const head = kindOfHead(bytes, false);
  return decideType(fileName, head === "zip" ? kindOfZip(zipEntryNames(bytes)) : head);
}

/** The detected type, or null when the file is unsupported or its content contradicts its name. */
export function sniffFileType(bytes: Uint8Array, fileName: string): FileType | null {
  return detectFileType(bytes, fileName).type;
}
