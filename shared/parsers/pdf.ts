/** PDF text extraction with unpdf (pdf.js): page count, and one text block per page of a range. */
import { getResolvedPDFJS } from "unpdf";
import { type ReadBudget, type ReadResult, UNLIMITED } from "./budget.ts";
import type { BlockSink } from "./sink.ts";
import { type ExtractResult, ParseError, type TextBlock } from "./types.ts";

type PdfJs = Awaited<ReturnType<typeof getResolvedPDFJS>>;
type PdfDocument = Awaited<ReturnType<PdfJs["getDocument"]>["promise"]>;

export interface PageRange {
  /** First page to extract, 1-based (default 1). */
  fromPage?: number;
  /** Last page to extract, inclusive (default: the last page; clamped to the page count). */
  toPage?: number;
}

function toParseError(error: unknown): ParseError {
  if (error instanceof ParseError) return error;
  if (error instanceof Error && error.name === "PasswordException") {
    return new ParseError("PDF is encrypted");
  }
  return new ParseError("file is not a valid PDF");
}

/** Opens the PDF, runs `use` on it and always destroys the document afterwards. */
async function withPdf<T>(
  bytes: Uint8Array,
  use: (pdf: PdfDocument) => T | Promise<T>,
): Promise<T> {
  // Loading pdf.js itself is not the file's fault: let a failure here propagate as is.
  const { getDocument } = await getResolvedPDFJS();
  // pdf.js transfers (detaches) the buffer it is given: hand it a copy.
  const task = getDocument({ data: bytes.slice(), verbosity: 0, disableFontFace: true });
  try {
    return await use(await task.promise);
  } catch (error) {
    throw toParseError(error);
  } finally {
    await task.destroy().catch(() => {});
  }
}

/** Joins a page's text items into lines, with runs of blanks collapsed and empty lines dropped. */
function pageText(items: ReadonlyArray<object>): string {
  let raw = "";
  for (const item of items) {
    if (!("str" in item)) continue; // marked-content markers carry no text
    raw += String(item.str);
    if ("hasEOL" in item && item.hasEOL) raw += "\n";
  }
  return raw.split("\n").map((line) => line.replace(/\s+/g, " ").trim()).filter(Boolean).join(
    "\n",
  );
}

function checkPage(name: string, value: number | undefined): void {
  if (value !== undefined && (!Number.isInteger(value) || value < 1)) {
    throw new RangeError(`${name} must be a positive integer, got ${value}`);
  }
}

/** The number of pages in the PDF. */
export function pdfPageCount(bytes: Uint8Array): Promise<number> {
  return withPdf(bytes, (pdf) => pdf.numPages);
}

/** Extracts the text of pages `fromPage..toPage` (1-based, inclusive), one block per page. */
export async function extractPdf(bytes: Uint8Array, opts: PageRange = {}): Promise<ExtractResult> {
  checkPage("fromPage", opts.fromPage);
  checkPage("toPage", opts.toPage);
  const from = opts.fromPage ?? 1;
  if (opts.toPage !== undefined && opts.toPage < from) {
    throw new RangeError(`toPage (${opts.toPage}) is before fromPage (${from})`);
  }
  return await withPdf(bytes, async (pdf) => {
    const to = Math.min(opts.toPage ?? pdf.numPages, pdf.numPages);
    const blocks: TextBlock[] = [];
    for (let n = from; n <= to; n++) {
      const page = await pdf.getPage(n);
      try {
        const text = pageText((await page.getTextContent()).items);
        if (text) blocks.push({ kind: "text", text, page: n });
      } finally {
        page.cleanup();
      }
    }
    return { blocks, pageCount: pdf.numPages };
  });
}

/** Where a read of a PDF goes on from: the next page to extract (1-based). */
export interface PdfCursor {
  next_page: number;
}

/**
 * Reads pages into `sink` (one text block per page) from `cursor` (undefined: page 1), at most
 * `maxPages` pages and while the budget lasts (checked after each page).
 */
export async function readPdf(
  bytes: Uint8Array,
  cursor: PdfCursor | undefined,
  sink: BlockSink,
  budget: ReadBudget = UNLIMITED,
  maxPages = Infinity,
): Promise<ReadResult<PdfCursor>> {
  checkPage("next_page", cursor?.next_page);
  let next = cursor?.next_page ?? 1;
  return await withPdf(bytes, async (pdf) => {
    let read = 0;
    while (next <= pdf.numPages && read < maxPages && !(read > 0 && budget.exhausted())) {
      const page = await pdf.getPage(next);
      try {
        const text = pageText((await page.getTextContent()).items);
        if (text) sink.text(text, { page: next, newBlock: true });
      } finally {
        page.cleanup();
      }
      next++;
      read++;
      await budget.pause();
    }
    const done = next > pdf.numPages;
    return {
      done,
      cursor: { next_page: next },
      fraction: pdf.numPages === 0 ? 1 : (next - 1) / pdf.numPages,
      pageCount: pdf.numPages,
    };
  });
}
