/**
 * What the streaming readers emit: text (one block, or one paragraph of a block) and tables row by
 * row. The chunker (shared/chunking.ts) consumes it during indexing; BlockCollector turns it back
 * into the blocks of `extract()`.
 */
import type { Block, TableBlock, TextBlock } from "./types.ts";

export interface TextMeta {
  page?: number;
  heading?: string;
  /** This text starts a new block (a page, a section); otherwise it continues the last one. */
  newBlock?: boolean;
}

export interface TableStart {
  sheet?: string;
  heading?: string;
  header: string[];
  /** 1-based source row number of the first data row. */
  firstRow: number;
}

export interface BlockSink {
  /** Text; paragraphs inside are separated by blank lines. */
  text(text: string, meta: TextMeta): void;
  tableStart(table: TableStart): void;
  row(cells: string[]): void;
  tableEnd(): void;
}

/** Collects what a reader emits as blocks: text continuing a block is joined with a blank line. */
export class BlockCollector implements BlockSink {
  readonly blocks: Block[] = [];
  private table: TableBlock | undefined;

  text(text: string, meta: TextMeta): void {
    this.table = undefined;
    const last = this.blocks[this.blocks.length - 1];
    if (
      !meta.newBlock && last?.kind === "text" && last.heading === meta.heading &&
      last.page === meta.page
    ) {
      last.text += `\n\n${text}`;
      return;
    }
    const block: TextBlock = { kind: "text", text };
    if (meta.page !== undefined) block.page = meta.page;
    if (meta.heading !== undefined) block.heading = meta.heading;
    this.blocks.push(block);
  }

  tableStart(table: TableStart): void {
    const block: TableBlock = {
      kind: "table",
      header: table.header,
      rows: [],
      firstRow: table.firstRow,
    };
    if (table.sheet !== undefined) block.sheet = table.sheet;
    if (table.heading !== undefined) block.heading = table.heading;
    this.table = block;
    this.blocks.push(block);
  }

  row(cells: string[]): void {
    this.table?.rows.push(cells);
  }

  tableEnd(): void {
    this.table = undefined;
  }
}
