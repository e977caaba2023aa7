/**
 * Splits extracted text and tables into chunks for embedding and search.
 *
 * Token estimate: 1 token ≈ 4 characters of English text (the usual rule of thumb for BPE
 * tokenizers such as Llama's and MiniLM's WordPiece on business prose); so the default of 800
 * tokens with 200 overlap is ≈ 3,200 characters with ≈ 800 characters carried over.
 *
 * - Text is packed paragraph by paragraph (long paragraphs by sentence, then by length) and never
 *   crosses a heading; consecutive chunks of one section overlap.
 * - Tables are chunked by rows with the header repeated in every chunk; no overlap.
 * - Metadata: page (and page_end), heading, sheet, row_start and row_end where known.
 *
 * `Chunker` does this incrementally, fed by a streaming reader, and its state (what it holds for
 * the next chunk) is plain JSON: an indexing step saves it with its cursor and the next step goes
 * on from it, so a file chunked over many steps gives exactly the chunks of one pass.
 * `chunkBlocks()` runs it over whole blocks.
 */
import { z } from "zod";
import type { Block, BlockSink, TableStart, TextMeta } from "./parsers/light.ts";

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

const Unit = z.object({ text: z.string(), page: z.number().int().optional() });
type Unit = z.infer<typeof Unit>;

/** What the chunker holds between steps (JSON). */
export const ChunkerState = z.discriminatedUnion("mode", [
  z.object({ mode: z.literal("idle") }),
  z.object({
    mode: z.literal("text"),
    heading: z.string().optional(),
    units: z.array(Unit),
    size: z.number().int().nonnegative(),
  }),
  z.object({
    mode: z.literal("table"),
    prefix: z.string(),
    sheet: z.string().optional(),
    heading: z.string().optional(),
    /** Row number of the first row held, and of the next row to come. */
    start: z.number().int(),
    next: z.number().int(),
    rows: z.array(z.string()),
    size: z.number().int().nonnegative(),
  }),
]);
export type ChunkerState = z.infer<typeof ChunkerState>;

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

export class Chunker implements BlockSink {
  private readonly maxChars: number;
  private readonly overlapChars: number;
  private s: ChunkerState;
  /** Called with every chunk as it is completed. */
  onChunk: (chunk: Chunk) => void = () => {};

  constructor(opts: ChunkOptions = {}, state: ChunkerState = { mode: "idle" }) {
    this.maxChars = (opts.maxTokens ?? 800) * CHARS_PER_TOKEN;
    this.overlapChars = (opts.overlapTokens ?? 200) * CHARS_PER_TOKEN;
    if (this.overlapChars >= this.maxChars) {
      throw new Error("overlap must be smaller than the chunk size");
    }
    this.s = structuredClone(state);
  }

  /** The state to resume from (a copy). */
  state(): ChunkerState {
    return structuredClone(this.s);
  }

  text(text: string, meta: TextMeta): void {
    if (this.s.mode === "table") this.tableEnd();
    if (this.s.mode === "text" && this.s.heading !== meta.heading) this.endText();
    if (this.s.mode === "idle") {
      this.s = meta.heading === undefined
        ? { mode: "text", units: [], size: 0 }
        : { mode: "text", heading: meta.heading, units: [], size: 0 };
    }
    for (const paragraph of text.split(/\n\s*\n/)) {
      const p = paragraph.replace(/[ \t]+/g, " ").trim();
      if (!p) continue;
      for (const piece of splitLong(p, this.maxChars)) {
        this.addUnit(meta.page === undefined ? { text: piece } : { text: piece, page: meta.page });
      }
    }
  }

  private addUnit(unit: Unit): void {
    const s = this.s;
    if (s.mode !== "text") return;
    if (s.size > 0 && s.size + unit.text.length + 2 > this.maxChars) {
      this.emitText();
      // Carry the tail of the previous chunk over as overlap.
      const current = s.units;
      const carried: Unit[] = [];
      let carriedSize = 0;
      for (let i = current.length - 1; i >= 0; i--) {
        const len = current[i].text.length + 2;
        if (carriedSize + len > this.overlapChars || carried.length === current.length - 1) break;
        carried.unshift(current[i]);
        carriedSize += len;
      }
      if (carried.length === 0 && this.overlapChars > 0) {
        // The last paragraph alone is longer than the overlap: carry its tail, from a word start.
        const last = current[current.length - 1];
        const tail = last.text.slice(-this.overlapChars).replace(/^\S*\s+/, "");
        if (tail) {
          carried.push(last.page === undefined ? { text: tail } : { text: tail, page: last.page });
          carriedSize = tail.length + 2;
        }
      }
      s.units = carried;
      s.size = carriedSize;
    }
    s.units.push(unit);
    s.size += unit.text.length + 2;
  }

  private emitText(): void {
    const s = this.s;
    if (s.mode !== "text" || s.units.length === 0) return;
    const content = s.units.map((u) => u.text).join("\n\n");
    const pages = s.units.map((u) => u.page).filter((p): p is number => p !== undefined);
    const metadata: Record<string, string | number> = {};
    if (pages.length) {
      metadata.page = pages[0];
      if (pages[pages.length - 1] !== pages[0]) metadata.page_end = pages[pages.length - 1];
    }
    if (s.heading) metadata.heading = s.heading;
    this.onChunk({ content, metadata, tokenCount: estimateTokens(content) });
  }

  private endText(): void {
    this.emitText();
    this.s = { mode: "idle" };
  }

  tableStart(table: TableStart): void {
    if (this.s.mode === "text") this.endText();
    if (this.s.mode === "table") this.tableEnd();
    const prefix = [
      table.sheet ? `Sheet: ${table.sheet}` : undefined,
      table.heading ? `Section: ${table.heading}` : undefined,
      table.header.join(" | "),
    ].filter(Boolean).join("\n");
    this.s = {
      mode: "table",
      prefix,
      start: table.firstRow,
      next: table.firstRow,
      rows: [],
      size: prefix.length,
    };
    if (table.sheet !== undefined) this.s.sheet = table.sheet;
    if (table.heading !== undefined) this.s.heading = table.heading;
  }

  row(cells: string[]): void {
    const s = this.s;
    if (s.mode !== "table") return;
    const line = cells.join(" | ");
    if (s.rows.length > 0 && s.size + line.length + 1 > this.maxChars) {
      this.emitRows(s.next - 1);
      s.rows = [];
      s.start = s.next;
      s.size = s.prefix.length;
    }
    s.rows.push(line);
    s.size += line.length + 1;
    s.next++;
  }

  private emitRows(endRow: number): void {
    const s = this.s;
    if (s.mode !== "table" || s.rows.length === 0) return;
    const content = `${s.prefix}\n${s.rows.join("\n")}`;
    const metadata: Record<string, string | number> = { row_start: s.start, row_end: endRow };
    if (s.sheet) metadata.sheet = s.sheet;
    if (s.heading) metadata.heading = s.heading;
    this.onChunk({ content, metadata, tokenCount: estimateTokens(content) });
  }

  tableEnd(): void {
    if (this.s.mode !== "table") return;
    this.emitRows(this.s.next - 1);
    this.s = { mode: "idle" };
  }

  /** Emits whatever is held: the input is complete. */
  end(): void {
    if (this.s.mode === "text") this.endText();
    else this.tableEnd();
  }
}

/** Chunks blocks in order; text blocks that share a heading are packed together. */
export function chunkBlocks(blocks: Block[], opts: ChunkOptions = {}): Chunk[] {
  const chunker = new Chunker(opts);
  const chunks: Chunk[] = [];
  chunker.onChunk = (chunk) => chunks.push(chunk);
  for (const block of blocks) {
    if (block.kind === "table") {
      chunker.tableStart(block);
      for (const row of block.rows) chunker.row(row);
      chunker.tableEnd();
    } else {
      chunker.text(block.text, block);
    }
  }
  chunker.end();
  return chunks;
}
