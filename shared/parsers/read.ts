/**
 * Resumable reading of any supported file: one entry point over the streaming readers, and the
 * cursor each of them saves (JSON, validated when read back).
 */
import { z } from "zod";
import type { ReadBudget, ReadResult } from "./budget.ts";
import { CsvCursor, readCsv } from "./csv.ts";
import { DocxCursor, readDocx } from "./docx.ts";
import { readPdf } from "./pdf.ts";
import type { BlockSink } from "./sink.ts";
import { readPlainText, TextCursor } from "./text.ts";
import type { FileType } from "./types.ts";
import { readXlsx, XlsxCursor } from "./xlsx.ts";

export type { ReadBudget, ReadResult } from "./budget.ts";
export { UNLIMITED } from "./budget.ts";
export { BlockCollector, type BlockSink } from "./sink.ts";

export const ReaderCursor = z.union([
  z.object({ type: z.literal("csv"), at: CsvCursor }),
  z.object({ type: z.literal("xlsx"), at: XlsxCursor }),
  z.object({ type: z.literal("docx"), at: DocxCursor }),
  z.object({ type: z.literal("text"), at: TextCursor }),
  z.object({ type: z.literal("pdf"), at: z.object({ next_page: z.number().int().positive() }) }),
]);
export type ReaderCursor = z.infer<typeof ReaderCursor>;

export interface ReadOptions {
  /** PDF pages per read. */
  pdfPages?: number;
  /** CSV, TXT and MD are parsed in slices of this many bytes, between budget checks. */
  sliceBytes?: number;
}

/**
 * Reads `bytes` of type `type` into `sink` from `cursor` (undefined: the start) while `budget`
 * lasts. Throws ParseError for a bad file.
 */
export async function readFile(
  type: FileType,
  bytes: Uint8Array,
  cursor: ReaderCursor | undefined,
  sink: BlockSink,
  budget: ReadBudget,
  opts: ReadOptions = {},
): Promise<ReadResult<ReaderCursor>> {
  const mismatch = () => new Error(`a ${cursor?.type} cursor for a ${type} file`);
  switch (type) {
    case "csv": {
      if (cursor && cursor.type !== "csv") throw mismatch();
      const r = await readCsv(bytes, cursor?.at, sink, budget, opts.sliceBytes);
      return { ...r, cursor: { type, at: r.cursor } };
    }
    case "xlsx": {
      if (cursor && cursor.type !== "xlsx") throw mismatch();
      const r = await readXlsx(bytes, cursor?.at, sink, budget);
      return { ...r, cursor: { type, at: r.cursor } };
    }
    case "docx": {
      if (cursor && cursor.type !== "docx") throw mismatch();
      const r = await readDocx(bytes, cursor?.at, sink, budget);
      return { ...r, cursor: { type, at: r.cursor } };
    }
    case "txt":
    case "md": {
      if (cursor && cursor.type !== "text") throw mismatch();
      const r = await readPlainText(bytes, type, cursor?.at, sink, budget, opts.sliceBytes);
      return { ...r, cursor: { type: "text", at: r.cursor } };
    }
    case "pdf": {
      if (cursor && cursor.type !== "pdf") throw mismatch();
      const r = await readPdf(bytes, cursor?.at, sink, budget, opts.pdfPages);
      return { ...r, cursor: { type, at: r.cursor } };
    }
  }
}
