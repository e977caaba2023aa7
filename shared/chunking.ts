/**
 * Splits extracted blocks into chunks for embedding and search.
 *
 * Token estimate: 1 token ≈ 4 characters of English text (the usual rule of thumb for BPE
 * tokenizers such as Llama's and MiniLM's WordPiece on business prose); so the default of 800
 * tokens with 200 overlap is ≈ 3,200 characters with ≈ 800 characters carried over.
 *
 * - Text is packed paragraph by paragraph (long paragraphs by sentence, then by length) and never
 *   crosses a heading; consecutive chunks of one section overlap.
 * - Tables are chunked by rows with the header repeated in every chunk; no overlap.
 * - Metadata: page (and page_end), heading, sheet, row_start and row_end where known.
 */
import type { Block, TableBlock, TextBlock } from "./parsers/types.ts";

export const CHARS_PER_TOKEN = 4;

export function estimateTokens(text: string): number {
  return Math.ceil(text.length / CHARS_PER_TOKEN);
}

export interface ChunkOptions {
  maxTokens?: number;
  overlapTokens?: number;
}

export interface Chunk {
  content: string;
  metadata: Record<string, string | number>;
  tokenCount: number;
}

interface Unit {
  text: string;
  page?: number;
}

function splitLong(text: string, maxChars: number): string[] {
  if (text.length <= maxChars) return [text];
  const sentences = text.match(/[^.!?\n]+(?:[.!?]+|\n|$)\s*/g) ?? [text];
  const out: string[] = [];
  for (const s of sentences) {
    if (s.length <= maxChars) out.push(s.trim());
    else for (let i = 0; i < s.length; i += maxChars) out.push(s.slice(i, i + maxChars).trim());
  }
  return out.filter(Boolean);
}

function chunkText(
  blocks: TextBlock[],
  maxChars: number,
  overlapChars: number,
): Chunk[] {
  const chunks: Chunk[] = [];
  const heading = blocks[0]?.heading;
  const units: Unit[] = blocks.flatMap((b) =>
    b.text.split(/\n\s*\n/).map((p) => p.replace(/[ \t]+/g, " ").trim()).filter(Boolean)
      .flatMap((p) => splitLong(p, maxChars)).map((text) => ({ text, page: b.page }))
  );
  let current: Unit[] = [];
  let size = 0;
  const flush = () => {
    if (current.length === 0) return;
    const content = current.map((u) => u.text).join("\n\n");
    const pages = current.map((u) => u.page).filter((p): p is number => p !== undefined);
    const metadata: Record<string, string | number> = {};
    if (pages.length) {
      metadata.page = pages[0];
      if (pages[pages.length - 1] !== pages[0]) metadata.page_end = pages[pages.length - 1];
    }
    if (heading) metadata.heading = heading;
    chunks.push({ content, metadata, tokenCount: estimateTokens(content) });
  };
  for (const unit of units) {
    if (size > 0 && size + unit.text.length + 2 > maxChars) {
      flush();
      // Carry the tail of the previous chunk over as overlap.
      const carried: Unit[] = [];
      let carriedSize = 0;
      for (let i = current.length - 1; i >= 0; i--) {
        const len = current[i].text.length + 2;
        if (carriedSize + len > overlapChars || carried.length === current.length - 1) break;
        carried.unshift(current[i]);
        carriedSize += len;
      }
      if (carried.length === 0 && overlapChars > 0) {
        // The last paragraph alone is longer than the overlap: carry its tail, from a word start.
        const last = current[current.length - 1];
        const tail = last.text.slice(-overlapChars).replace(/^\S*\s+/, "");
        if (tail) {
          carried.push({ text: tail, page: last.page });
          carriedSize = tail.length + 2;
        }
      }
      current = carried;
      size = carriedSize;
    }
    current.push(unit);
    size += unit.text.length + 2;
  }
  flush();
  return chunks;
}

function chunkTable(block: TableBlock, maxChars: number): Chunk[] {
  const prefix = [
    block.sheet ? `Sheet: ${block.sheet}` : undefined,
    block.heading ? `Section: ${block.heading}` : undefined,
    block.header.join(" | "),
  ].filter(Boolean).join("\n");
  const chunks: Chunk[] = [];
  let rows: string[] = [];
  let start = block.firstRow;
  let size = prefix.length;
  const flush = (endRow: number) => {
    if (rows.length === 0) return;
    const content = `${prefix}\n${rows.join("\n")}`;
    const metadata: Record<string, string | number> = { row_start: start, row_end: endRow };
    if (block.sheet) metadata.sheet = block.sheet;
    if (block.heading) metadata.heading = block.heading;
    chunks.push({ content, metadata, tokenCount: estimateTokens(content) });
  };
  block.rows.forEach((cells, i) => {
    const line = cells.join(" | ");
    const rowNumber = block.firstRow + i;
    if (rows.length > 0 && size + line.length + 1 > maxChars) {
      flush(rowNumber - 1);
      rows = [];
      start = rowNumber;
      size = prefix.length;
    }
    rows.push(line);
    size += line.length + 1;
  });
  flush(block.firstRow + block.rows.length - 1);
  return chunks;
}

/** Chunks blocks in order; text blocks that share a heading are packed together. */
export function chunkBlocks(blocks: Block[], opts: ChunkOptions = {}): Chunk[] {
  const maxChars = (opts.maxTokens ?? 800) * CHARS_PER_TOKEN;
  const overlapChars = (opts.overlapTokens ?? 200) * CHARS_PER_TOKEN;
  if (overlapChars >= maxChars) throw new Error("overlap must be smaller than the chunk size");
  const chunks: Chunk[] = [];
  let run: TextBlock[] = [];
  const flushRun = () => {
    if (run.length) chunks.push(...chunkText(run, maxChars, overlapChars));
    run = [];
  };
  for (const block of blocks) {
    if (block.kind === "table") {
      flushRun();
      chunks.push(...chunkTable(block, maxChars));
    } else {
      if (run.length && run[0].heading !== block.heading) flushRun();
      run.push(block);
    }
  }
  flushRun();
  return chunks;
}
