/**
 * Plain text and Markdown extraction: strict UTF-8, CRLF / CR newlines read as LF, Markdown split
 * into sections at ATX headings (not inside code fences).
 *
 * Resumable: the first read checks that the whole file is UTF-8; then every read decodes only its
 * own slice of lines from the cursor's byte offset. Text goes to the sink paragraph by paragraph
 * (runs of non-blank lines); a paragraph longer than PARAGRAPH_CAP characters is passed on in
 * pieces of whole lines so the cursor never holds more than that.
 */
import { z } from "zod";
import { type ReadBudget, type ReadResult, UNLIMITED } from "./budget.ts";
import { BlockCollector, type BlockSink } from "./sink.ts";
import { type ExtractResult, ParseError } from "./types.ts";

export const TextCursor = z.object({
  /** Byte offset of the next line. */
  offset: z.number().int().nonnegative(),
  /** Lines of the paragraph in progress. */
  lines: z.array(z.string()),
  /** Markdown: the current section's heading, and the open code fence. */
  heading: z.string().optional(),
  fence: z.string().optional(),
  /** The next text starts a block (a section, or the file). */
  newBlock: z.boolean(),
  /** Some text was passed on. */
  emitted: z.boolean(),
});
export type TextCursor = z.infer<typeof TextCursor>;

const SLICE_BYTES = 256 * 1024;
const PARAGRAPH_CAP = 16 * 1024;
const ATX_HEADING = /^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$/;
const FENCE = /^ {0,3}(`{3,}|~{3,})/;
const BLANK = /^\s*$/;

/** Throws ParseError unless all of `bytes` is UTF-8 (checked piece by piece, nothing kept). */
export function assertUtf8(bytes: Uint8Array): void {
  const decoder = new TextDecoder("utf-8", { fatal: true });
  try {
    const piece = 1024 * 1024;
    for (let i = 0; i < bytes.length; i += piece) {
      decoder.decode(bytes.subarray(i, i + piece), { stream: true });
    }
    decoder.decode();
  } catch {
    throw new ParseError("the file is not UTF-8 text");
  }
}

/** The byte length of a UTF-8 BOM at the start of `bytes` (0 or 3). */
export function bomLength(bytes: Uint8Array): number {
  return bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
}

/** The end of the slice starting at `from`: just after the last LF within `size`, or EOF. */
function sliceEnd(bytes: Uint8Array, from: number, size: number): number {
  const limit = from + size;
  if (limit >= bytes.length) return bytes.length;
  const lf = bytes.lastIndexOf(0x0a, limit - 1);
  if (lf >= from) return lf + 1;
  const next = bytes.indexOf(0x0a, limit);
  return next < 0 ? bytes.length : next + 1;
}

/**
 * Reads a .txt or .md file into `sink` from `cursor` (undefined: from the start) until the budget
 * is spent. Throws ParseError for a file that is not UTF-8 or has no text.
 */
export async function readPlainText(
  bytes: Uint8Array,
  type: "txt" | "md",
  cursor: TextCursor | undefined,
  sink: BlockSink,
  budget: ReadBudget = UNLIMITED,
  sliceBytes = SLICE_BYTES,
): Promise<ReadResult<TextCursor>> {
  let at: TextCursor;
  if (cursor === undefined) {
    assertUtf8(bytes);
    at = { offset: bomLength(bytes), lines: [], newBlock: true, emitted: false };
  } else at = structuredClone(cursor);
  let paragraphSize = at.lines.reduce((n, line) => n + line.length + 1, 0);
  const flush = () => {
    if (at.lines.length === 0) return;
    const text = at.lines.join("\n").trim();
    at.lines = [];
    paragraphSize = 0;
    const meta = at.heading === undefined
      ? { newBlock: at.newBlock }
      : { heading: at.heading, newBlock: at.newBlock };
    sink.text(text, meta);
    at.newBlock = false;
    at.emitted = true;
  };
  const decoder = new TextDecoder("utf-8", { ignoreBOM: true });
  while (at.offset < bytes.length) {
    if (budget.exhausted()) {
      return { done: false, cursor: at, fraction: at.offset / bytes.length };
    }
    const end = sliceEnd(bytes, at.offset, sliceBytes);
    const lines = decoder.decode(bytes.subarray(at.offset, end)).replace(/\r\n?/g, "\n")
      .split("\n");
    if (lines[lines.length - 1] === "") lines.pop(); // after the slice's last line end
    for (const line of lines) {
      if (type === "md") {
        const fenceMatch = FENCE.exec(line);
        if (fenceMatch) {
          const marker = fenceMatch[1];
          if (at.fence === undefined) at.fence = marker;
          else if (marker[0] === at.fence[0] && marker.length >= at.fence.length) {
            at.fence = undefined;
          }
        }
        const heading = at.fence === undefined && !fenceMatch ? ATX_HEADING.exec(line) : null;
        if (heading) {
          flush();
          at.heading = (heading[2] ?? "").trim();
          at.newBlock = true;
        }
      }
      if (BLANK.test(line)) {
        flush();
        continue;
      }
      at.lines.push(line);
      paragraphSize += line.length + 1;
      if (paragraphSize > PARAGRAPH_CAP) flush();
    }
    at.offset = end;
    await budget.pause();
  }
  flush();
  if (!at.emitted) throw new ParseError("the file is empty");
  return { done: true, cursor: at, fraction: 1 };
}

/** Extracts a .txt file as one block, or a .md file as one block per heading section. */
export async function extractPlainText(
  bytes: Uint8Array,
  type: "txt" | "md",
): Promise<ExtractResult> {
  const sink = new BlockCollector();
  await readPlainText(bytes, type, undefined, sink);
  return { blocks: sink.blocks };
}
