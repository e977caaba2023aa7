/**
 * A report's document as the report worker, bench/ and local/ make it: the tables re-read from
 * the uploaded files (tables.ts), the narrative (narrative.ts) and the PDF (render_pdf.ts, with
 * its fonts as base64). Heavy (pdf-lib, the fonts, the parsers): the reports function, which only
 * checks inputs and charges, needs none of it (shared/kpi).
 */
export * from "./base64.ts";
export * from "./narrative.ts";
export * from "./render_pdf.ts";
export * from "./tables.ts";
export * from "./receipt_pdf.ts";
