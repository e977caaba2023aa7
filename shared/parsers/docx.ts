/**
 * DOCX extraction with a streaming reader of word/document.xml (no DOM): paragraphs as text,
 * headings (paragraph styles "heading 1".."heading 6" and "Title") as the heading of the blocks
 * that follow them, tables as table blocks (first row = header, columns from the table grid), line
 * breaks and tabs, list paragraphs as "- item" / "1. item" lines indented by level. Text of
 * deleted revisions, field instructions and the duplicate "Choice" branch of alternate content is
 * skipped; text boxes are read where they stand.
 *
 * Resumable: the cursor is the byte offset in document.xml just after a paragraph, table or table
 * row at the top level of the body (or of a content control), the open elements there, and the
 * state that carries over (heading, list counters, the table's width). A later read inflates the
 * part up to the offset without tokenizing it.
 */
import { z } from "zod";
import { type ReadBudget, type ReadResult, UNLIMITED } from "./budget.ts";
import { OoxmlPackage, streamXml } from "./ooxml.ts";
import { BlockCollector, type BlockSink } from "./sink.ts";
import { normaliseTable } from "./table.ts";
import { type ExtractResult, ParseError } from "./types.ts";
import { type XmlHandler, XmlTokenizer } from "./xml.ts";

/** Word's limit on a table's columns. */
const MAX_COLUMNS = 63;

/**
 * A list level (`w:ilvl`): an integer 0–8 as Word allows, else 0. "x" gave NaN, and a NaN
 * level made `counters.length = NaN` throw a RangeError (found by fuzzing).
 */
function listLevel(value: string | undefined): number {
  const n = Number(value ?? 0);
  return Number.isInteger(n) ? Math.min(8, Math.max(0, n)) : 0;
}

export const DocxCursor = z.object({
  /** Byte offset in document.xml (0: the start). */
  offset: z.number().int().nonnegative(),
  /** Where inflating document.xml can resume (a deflate block start before the offset). */
  point: z.object({
    bit: z.number().int().nonnegative(),
    out: z.number().int().nonnegative(),
    window: z.string(),
  }).optional(),
  /** The elements open at the offset, outermost first. */
  stack: z.array(z.string()),
  heading: z.string().optional(),
  newBlock: z.boolean(),
  /** List counters per numbering id, one per level. */
  counters: z.record(z.string(), z.array(z.number().int())),
  /** Inside a table that has started: its width. */
  tableWidth: z.number().int().nonnegative().optional(),
  emitted: z.boolean(),
});
export type DocxCursor = z.infer<typeof DocxCursor>;

const NOT_DOCX = "file is not a valid DOCX";

interface StyleInfo {
  heading: boolean;
  numId?: string;
  ilvl?: number;
}

interface Document {
  pkg: OoxmlPackage;
  part: string;
  styles: Map<string, StyleInfo>;
  /** numId -> format per level ("bullet", "decimal", ...). */
  numbering: Map<string, string[]>;
}

function isHeadingName(name: string): boolean {
  return /^(heading\s*[1-6]|title)$/i.test(name.trim());
}

async function openDocument(bytes: Uint8Array): Promise<Document> {
  let pkg: OoxmlPackage;
  try {
    pkg = OoxmlPackage.open(bytes);
  } catch {
    throw new ParseError(NOT_DOCX);
  }
  const part = (await pkg.mainPart("officeDocument")) ?? "word/document.xml";
  if (!pkg.part(part)) throw new ParseError(NOT_DOCX);
  const rels = await pkg.relationships(part);
  const target = (type: string, fallback: string) =>
    rels.find((r) => r.type.endsWith(`/${type}`))?.target ?? fallback;
  const styles = new Map<string, StyleInfo>();
  let style: { id: string; info: StyleInfo } | undefined;
  await pkg.parse(target("styles", "word/styles.xml"), {
    open(name, tok) {
      if (name === "w:style" && tok.attr("w:type") === "paragraph") {
        const id = tok.attr("w:styleId") ?? "";
        style = { id, info: { heading: isHeadingName(id) } };
      } else if (style && name === "w:name") {
        style.info.heading = isHeadingName(tok.attr("w:val") ?? "") || style.info.heading;
      } else if (style && name === "w:numId") style.info.numId = tok.attr("w:val");
      else if (style && name === "w:ilvl") style.info.ilvl = listLevel(tok.attr("w:val"));
    },
    close(name) {
      if (name === "w:style" && style) {
        styles.set(style.id, style.info);
        style = undefined;
      }
    },
    text() {},
  });
  const abstract = new Map<string, string[]>();
  const nums = new Map<string, string>();
  let current: { id: string; levels: string[] } | undefined;
  let level = 0;
  let num: string | undefined;
  await pkg.parse(target("numbering", "word/numbering.xml"), {
    open(name, tok) {
      if (name === "w:abstractNum") {
        current = { id: tok.attr("w:abstractNumId") ?? "", levels: [] };
      } else if (current && name === "w:lvl") level = listLevel(tok.attr("w:ilvl"));
      else if (current && name === "w:numFmt") current.levels[level] = tok.attr("w:val") ?? "";
      else if (name === "w:num") num = tok.attr("w:numId");
      else if (num !== undefined && name === "w:abstractNumId") {
        nums.set(num, tok.attr("w:val") ?? "");
      }
    },
    close(name) {
      if (name === "w:abstractNum" && current) {
        abstract.set(current.id, current.levels);
        current = undefined;
      } else if (name === "w:num") num = undefined;
    },
    text() {},
  });
  const numbering = new Map<string, string[]>();
  for (const [id, abstractId] of nums) numbering.set(id, abstract.get(abstractId) ?? []);
  return { pkg, part, styles, numbering };
}

/** Collapses blanks within lines, trims lines and drops empty ones. */
function cleanLines(text: string): string {
  return text.split("\n").map((line) => line.replace(/\s+/g, " ").trim()).filter(Boolean).join(
    "\n",
  );
}

/** Elements whose content is skipped (duplicates, deleted or moved-away text). */
const SKIPPED = new Set(["mc:Choice", "w:del", "w:moveFrom", "w:delText", "w:instrText"]);
/** Containers of body content where a read can stop and resume. */
const CONTAINERS = new Set(["w:body", "w:sdtContent", "w:customXml"]);

interface Paragraph {
  text: string;
  style?: string;
  numId?: string;
  ilvl?: number;
}

interface Table {
  /** Nesting: 1 for a table in the body, more for tables inside its cells. */
  depth: number;
  grid: number;
  width: number;
  started: boolean;
  /** Rows read before the first non-empty one (the first is the header). */
  pending: string[][];
  row: string[] | undefined;
  cell: { lines: string[]; span: number } | undefined;
}

class DocumentHandler implements XmlHandler {
  private readonly stack: string[];
  private skip = 0;
  private paragraph: Paragraph | undefined;
  private paragraphDepth = 0;
  private table: Table | undefined;
  private tableDepth = 0;
  ended = false;

  constructor(
    private readonly doc: Document,
    private readonly at: DocxCursor,
    private readonly sink: BlockSink,
    private readonly budget: ReadBudget,
  ) {
    this.stack = [...at.stack];
    if (at.tableWidth !== undefined) {
      this.tableDepth = 1;
      this.table = {
        depth: 1,
        grid: 0,
        width: at.tableWidth,
        started: true,
        pending: [],
        row: undefined,
        cell: undefined,
      };
    }
  }

  /** The state to resume from just after the current token. */
  private resumable(tok: XmlTokenizer): void {
    this.at.stack = [...this.stack];
    this.at.tableWidth = this.table?.started ? this.table.width : undefined;
    if (this.at.tableWidth === undefined) delete this.at.tableWidth;
    if (this.budget.exhausted()) tok.stop();
  }

  open(name: string, tok: XmlTokenizer, selfClosing: boolean): void {
    if (this.stack.length === 0 && name !== "w:document") throw new ParseError(NOT_DOCX);
    const parent = this.stack[this.stack.length - 1];
    if (!selfClosing) this.stack.push(name);
    if (SKIPPED.has(name)) {
      if (!selfClosing) this.skip++;
      return;
    }
    if (this.skip > 0) return;
    const p = this.paragraph;
    switch (name) {
      case "w:p":
        if (this.paragraphDepth++ === 0) this.paragraph = { text: "" };
        else if (p) p.text += "\n"; // a paragraph in a text box inside this one
        break;
      case "w:t":
        if (p) tok.wantText = true;
        break;
      case "w:tab":
        if (p && parent === "w:r") p.text += "\t";
        break;
      case "w:br": {
        const type = tok.attr("w:type");
        if (p && type !== "page" && type !== "column") p.text += "\n";
        break;
      }
      case "w:cr":
        if (p) p.text += "\n";
        break;
      case "w:noBreakHyphen":
        if (p) p.text += "-";
        break;
      case "w:pStyle":
        if (p && this.paragraphDepth === 1) p.style = tok.attr("w:val");
        break;
      case "w:numId":
        if (p && this.paragraphDepth === 1) p.numId = tok.attr("w:val");
        break;
      case "w:ilvl":
        if (p && this.paragraphDepth === 1) p.ilvl = listLevel(tok.attr("w:val"));
        break;
      case "w:tbl":
        if (this.tableDepth++ === 0) {
          this.table = {
            depth: 1,
            grid: 0,
            width: 0,
            started: false,
            pending: [],
            row: undefined,
            cell: undefined,
          };
        }
        break;
      case "w:gridCol":
        if (this.table && this.tableDepth === 1) this.table.grid++;
        break;
      case "w:tr":
        if (this.table && this.tableDepth === 1) this.table.row = [];
        break;
      case "w:tc":
        if (this.table && this.tableDepth === 1) this.table.cell = { lines: [], span: 1 };
        break;
      case "w:gridSpan":
        if (this.table?.cell && this.tableDepth === 1) {
          const span = Number(tok.attr("w:val") ?? 1);
          // Word's tables have at most 63 columns; a span of 1e9 filled a row with a billion
          // cells (found by fuzzing).
          this.table.cell.span = Number.isInteger(span)
            ? Math.min(MAX_COLUMNS, Math.max(1, span))
            : 1;
        }
        break;
    }
  }

  close(name: string, tok: XmlTokenizer): void {
    if (this.stack[this.stack.length - 1] === name) this.stack.pop();
    if (SKIPPED.has(name)) {
      if (this.skip > 0) this.skip--;
      return;
    }
    if (this.skip > 0) return;
    switch (name) {
      case "w:t":
        tok.wantText = false;
        break;
      case "w:p":
        if (--this.paragraphDepth === 0 && this.paragraph) {
          const paragraph = this.paragraph;
          this.paragraph = undefined;
          this.endParagraph(paragraph);
          if (!this.table && CONTAINERS.has(this.stack[this.stack.length - 1])) {
            this.resumable(tok);
          }
        }
        if (this.paragraphDepth < 0) this.paragraphDepth = 0;
        break;
      case "w:tc": {
        const t = this.table;
        if (t?.cell && t.row && this.tableDepth === 1) {
          t.row.push(t.cell.lines.join(" "));
          for (let i = 1; i < t.cell.span; i++) t.row.push("");
          t.cell = undefined;
        }
        break;
      }
      case "w:tr": {
        const t = this.table;
        if (t?.row && this.tableDepth === 1) {
          this.endRow(t, t.row);
          t.row = undefined;
          if (t.started) this.resumable(tok);
        }
        break;
      }
      case "w:tbl":
        if (--this.tableDepth === 0 && this.table) {
          if (this.table.started) this.sink.tableEnd();
          this.table = undefined;
          if (CONTAINERS.has(this.stack[this.stack.length - 1])) this.resumable(tok);
        }
        if (this.tableDepth < 0) this.tableDepth = 0;
        break;
      case "w:body":
        this.ended = true;
        break;
    }
  }

  text(text: string): void {
    if (this.paragraph && this.skip === 0) this.paragraph.text += text;
  }

  private emit(text: string): void {
    const at = this.at;
    this.sink.text(
      text,
      at.heading === undefined
        ? { newBlock: at.newBlock }
        : { heading: at.heading, newBlock: at.newBlock },
    );
    at.newBlock = false;
    at.emitted = true;
  }

  private endParagraph(p: Paragraph): void {
    const text = cleanLines(p.text);
    const cell = this.table?.cell;
    if (cell) {
      if (text) cell.lines.push(text.replace(/\n/g, " "));
      return;
    }
    if (this.table) return; // text in a table outside any cell
    const style = p.style ? this.doc.styles.get(p.style) : undefined;
    if (style?.heading || (p.style && !style && isHeadingName(p.style))) {
      this.at.heading = text.replace(/\n/g, " ");
      this.at.newBlock = true;
      if (text) this.emit(this.at.heading);
      return;
    }
    const numId = p.numId ?? style?.numId;
    if (numId && numId !== "0" && text) {
      const level = Math.min(8, Math.max(0, p.ilvl ?? style?.ilvl ?? 0));
      const counters = (this.at.counters[numId] ??= []);
      counters[level] = (counters[level] ?? 0) + 1;
      counters.length = level + 1;
      const format = this.doc.numbering.get(numId)?.[level] ?? "bullet";
      const marker = format === "bullet" || format === "none" ? "-" : `${counters[level]}.`;
      this.emit(`${"  ".repeat(level)}${marker} ${text.replace(/\n/g, " ")}`);
      return;
    }
    if (text) this.emit(text);
  }

  private endRow(t: Table, cells: string[]): void {
    if (!t.started) {
      t.pending.push(cells);
      if (!cells.some(Boolean)) return;
      const [first, ...rest] = t.pending;
      t.width = Math.max(t.grid, first.length);
      const padded = [...first, ...Array<string>(Math.max(0, t.width - first.length)).fill("")];
      const { header } = normaliseTable(padded, []);
      const start = { header, firstRow: 2 };
      this.sink.tableStart(
        this.at.heading === undefined ? start : { ...start, heading: this.at.heading },
      );
      t.started = true;
      t.pending = [];
      this.at.emitted = true;
      for (const row of rest) this.emitRow(t, row);
      return;
    }
    this.emitRow(t, cells);
  }

  private emitRow(t: Table, cells: string[]): void {
    const row = cells.length < t.width
      ? [...cells, ...Array<string>(t.width - cells.length).fill("")]
      : cells;
    this.sink.row(row);
  }
}

/**
 * Reads a DOCX into `sink` from `cursor` (undefined: from the start) until the budget is spent.
 * Throws ParseError for a file that is not a Word document or has no text.
 */
export async function readDocx(
  bytes: Uint8Array,
  cursor: DocxCursor | undefined,
  sink: BlockSink,
  budget: ReadBudget = UNLIMITED,
): Promise<ReadResult<DocxCursor>> {
  const at: DocxCursor = cursor
    ? structuredClone(cursor)
    : { offset: 0, stack: [], newBlock: true, counters: {}, emitted: false };
  let done: boolean;
  let size = 1;
  try {
    const doc = await openDocument(bytes);
    const entry = doc.pkg.part(doc.part)!;
    size = entry.size || 1;
    const handler = new DocumentHandler(doc, at, sink, budget);
    const tok = new XmlTokenizer(handler, at.offset);
    const read = await streamXml(bytes, entry, tok, at, () => budget.pause());
    done = read.complete;
    if (!done) {
      const next = read.next();
      at.offset = next.offset;
      if (next.point) at.point = next.point;
      else delete at.point;
    }
  } catch (err) {
    if (err instanceof ParseError) throw err;
    throw new ParseError(NOT_DOCX, { cause: err });
  }
  if (done && !at.emitted) throw new ParseError("the document has no text");
  return { done, cursor: at, fraction: done ? 1 : Math.min(1, at.offset / size) };
}

/** Extracts a Word document: text blocks carry their nearest heading, tables become tables. */
export async function extractDocx(bytes: Uint8Array): Promise<ExtractResult> {
  const sink = new BlockCollector();
  await readDocx(bytes, undefined, sink);
  return { blocks: sink.blocks };
}
