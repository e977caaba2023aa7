/**
 * The parsers' light face: the table readers (CSV, XLSX), the block sink and the shared types,
 * without the PDF and DOCX parsers. Code that must stay small imports this instead of mod.ts:
 * upload checks (they only name file types) and the report worker (it re-reads tables, never a
 * PDF or a DOCX). Each function is bundled with everything its imports reach, so importing
 * mod.ts for a type or for the CSV reader would ship unpdf (about 2 MB) as well.
 */
export { extractCsv } from "./csv.ts";
export { extractXlsx } from "./xlsx.ts";
export * from "./sink.ts";
export * from "./types.ts";
