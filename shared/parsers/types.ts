/** Types shared by the document parsers: file types, extracted blocks and ParseError. */

export type FileType = "pdf" | "docx" | "xlsx" | "csv" | "txt" | "md";

/**
 * A permanent, file-specific problem. `message` is shown to end users as is: short, readable,
 * no stack traces, no library jargon.
 */
export class ParseError extends Error {
  override name = "ParseError";
}

export interface TextBlock {
  kind: "text";
  text: string;
  page?: number;
  heading?: string;
}

export interface TableBlock {
  kind: "table";
  /** xlsx sheet name */
  sheet?: string;
  /** docx: nearest preceding heading */
  heading?: string;
  header: string[];
  /** data rows, cells as trimmed strings */
  rows: string[][];
  /** 1-based source row number of rows[0] (e.g. 2 for a CSV whose row 1 is the header) */
  firstRow: number;
}

export type Block = TextBlock | TableBlock;

export interface ExtractResult {
  blocks: Block[];
  pageCount?: number;
}
