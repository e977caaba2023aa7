/**
 * XLSX extraction with a streaming reader: one table block per sheet that has data, cells as text.
 *
 * The sheet XML is inflated and tokenized piece by piece (shared/parsers/ooxml.ts, xml.ts), never
 * held whole. Cells: shared and inline strings (rich text runs joined, phonetic runs skipped),
 * numbers, booleans (TRUE/FALSE), errors (#N/A), formulas by their cached value, and numbers whose
 * cell style has a date format (built-in 14–22, 45–47, or a custom code with d/m/y/h/s) as ISO
 * dates (1900 or 1904 date system). A sheet's table: the header is its first non-empty row, data
 * rows follow (empty rows inside kept, trailing ones dropped), and the columns are the sheet's used
 * range as the workbook records it (`<dimension>`), widened to the header; without a dimension,
 * the header's columns.
 *
 * Resumable: the cursor is (sheet, byte offset in its XML after the last row read, the table's
 * columns and last row). A later read inflates the sheet up to the offset without tokenizing it,
 * and resolves only the shared strings its own rows use.
 */
import { z } from "zod";
import { type ReadBudget, type ReadResult, UNLIMITED } from "./budget.ts";
import { OoxmlPackage, streamXml } from "./ooxml.ts";
import { BlockCollector, type BlockSink } from "./sink.ts";
import { normaliseTable } from "./table.ts";
import { type ExtractResult, ParseError } from "./types.ts";
import { decodeXmlEntities, XmlTokenizer } from "./xml.ts";
import { entryPieces, type ZipEntry } from "./zip_reader.ts";

const SheetTable = z.object({
  /** The sheet's used range from `<dimension>` (0 when it has none). */
  dimMin: z.number().int().nonnegative(),
  dimMax: z.number().int().nonnegative(),
  minCol: z.number().int().nonnegative(),
  /** 0 until known. */
  maxCol: z.number().int().nonnegative(),
  /** The row number of the header (0: not found yet) and of the last row emitted. */
  headerRow: z.number().int().nonnegative(),
  lastRow: z.number().int().nonnegative(),
});
type SheetTable = z.infer<typeof SheetTable>;

const SavedPoint = z.object({
  bit: z.number().int().nonnegative(),
  out: z.number().int().nonnegative(),
  window: z.string(),
});

export const XlsxCursor = z.object({
  sheet: z.number().int().nonnegative(),
  /** Byte offset in the sheet's XML where the next read starts (0: the sheet's start). */
  offset: z.number().int().nonnegative(),
  /** Where inflating the sheet can resume (a deflate block start before the offset). */
  point: SavedPoint.optional(),
  table: SheetTable,
  /** Some sheet had data. */
  found: z.boolean(),
});
export type XlsxCursor = z.infer<typeof XlsxCursor>;

interface SheetInfo {
  name: string;
  part: string;
}

interface Workbook {
  pkg: OoxmlPackage;
  sheets: SheetInfo[];
  date1904: boolean;
  /** Per cell style (cellXfs index): whether numbers in it are dates. */
  dateStyles: boolean[];
  sharedStrings: ZipEntry | undefined;
}

const NOT_XLSX = "file is not a valid XLSX";

/** Local name of a possibly prefixed element name ("x:c" -> "c"). */
function local(name: string): string {
  const colon = name.indexOf(":");
  return colon < 0 ? name : name.slice(colon + 1);
}

/** Excel's limits (XFD1048576): references past them are not a sheet's. */
const MAX_COLUMN = 16_384;
const MAX_ROW = 1_048_576;

/**
 * 1-based column of a cell reference ("AB12" -> 28), or 0 (also past Excel's last column XFD: a
 * reference like "ZZZZZZZZ1" made a row billions of cells wide; found by fuzzing).
 */
export function columnOf(ref: string): number {
  let col = 0;
  for (let i = 0; i < ref.length; i++) {
    const c = ref.charCodeAt(i) | 0x20; // lower case
    if (c < 97 || c > 122) break;
    col = col * 26 + (c - 96);
    if (col > MAX_COLUMN) return 0;
  }
  return col;
}

/**
 * A row's `r`: an integer within Excel's rows, else the row after the last. A bad `r` ("x",
 * "1e9") gave NaN (a cursor that could not be saved) or filled a billion empty rows (fuzzing).
 */
function rowNumber(r: string | undefined, last: number): number {
  const n = r === undefined ? NaN : Number(r);
  return Number.isInteger(n) && n >= 1 && n <= MAX_ROW ? n : last + 1;
}

const BUILTIN_DATE_FORMATS = new Set([14, 15, 16, 17, 18, 19, 20, 21, 22, 45, 46, 47]);

/** Whether a number format code shows a date or time (d, m, y, h, s outside literals). */
export function isDateFormatCode(code: string): boolean {
  const section = code.split(";")[0]
    .replace(/"[^"]*"/g, "")
    .replace(/\\./g, "")
    .replace(/[_*]./g, "")
    .replace(/\[(?![hms]+\])[^\]]*\]/gi, "")
    .replace(/General/gi, "");
  return /[dmyhs]/i.test(section);
}

/** A date as YYYY-MM-DD, or YYYY-MM-DDTHH:MM:SS when it has a time (to the nearest second). */
export function isoDate(date: Date): string {
  const ms = date.getTime();
  if (Number.isNaN(ms)) return "";
  const iso = new Date(Math.round(ms / 1000) * 1000).toISOString();
  return iso.endsWith("T00:00:00.000Z") ? iso.slice(0, 10) : iso.slice(0, 19);
}

/** An Excel serial date (days since 1899-12-30, or since 1904-01-01) as a Date. */
export function excelSerialToDate(serial: number, date1904: boolean): Date {
  return new Date(Math.round((serial - (date1904 ? 24107 : 25569)) * 86_400_000));
}

async function openWorkbook(bytes: Uint8Array): Promise<Workbook> {
  let pkg: OoxmlPackage;
  try {
    pkg = OoxmlPackage.open(bytes);
  } catch {
    throw new ParseError(NOT_XLSX);
  }
  const main = (await pkg.mainPart("officeDocument")) ?? "xl/workbook.xml";
  if (!pkg.part(main)) throw new ParseError(NOT_XLSX);
  const declared: Array<{ name: string; rid: string }> = [];
  let date1904 = false;
  let isWorkbook = false;
  await pkg.parse(main, {
    open(name, tok) {
      const n = local(name);
      if (n === "workbook") isWorkbook = true;
      else if (n === "sheet") {
        const rid = tok.attr("r:id") ?? tok.attr("id");
        declared.push({ name: tok.attr("name") ?? "", rid: rid ?? "" });
      } else if (n === "workbookPr") {
        const v = tok.attr("date1904");
        date1904 = v === "1" || v === "true";
      }
    },
    close() {},
    text() {},
  });
  if (!isWorkbook) throw new ParseError(NOT_XLSX);
  const rels = await pkg.relationships(main);
  const sheets: SheetInfo[] = [];
  for (const s of declared) {
    const rel = rels.find((r) => r.id === s.rid);
    if (rel && rel.type.endsWith("/worksheet") && pkg.part(rel.target)) {
      sheets.push({ name: s.name, part: rel.target });
    }
  }
  const stylesName = rels.find((r) => r.type.endsWith("/styles"))?.target ?? "xl/styles.xml";
  const sstName = rels.find((r) => r.type.endsWith("/sharedStrings"))?.target ??
    "xl/sharedStrings.xml";
  return {
    pkg,
    sheets,
    date1904,
    dateStyles: await readDateStyles(pkg, stylesName),
    sharedStrings: pkg.part(sstName),
  };
}

/** styles.xml: which cell formats (cellXfs) show numbers as dates. */
async function readDateStyles(pkg: OoxmlPackage, name: string): Promise<boolean[]> {
  const custom = new Map<number, string>();
  const formats: number[] = [];
  let inCellXfs = false;
  await pkg.parse(name, {
    open(n, tok) {
      const l = local(n);
      if (l === "numFmt") {
        custom.set(Number(tok.attr("numFmtId")), tok.attr("formatCode") ?? "");
      } else if (l === "cellXfs") inCellXfs = true;
      else if (l === "xf" && inCellXfs) formats.push(Number(tok.attr("numFmtId") ?? 0));
    },
    close(n) {
      if (local(n) === "cellXfs") inCellXfs = false;
    },
    text() {},
  });
  return formats.map((id) => {
    const code = custom.get(id);
    return code !== undefined ? isDateFormatCode(code) : BUILTIN_DATE_FORMATS.has(id);
  });
}

const enum Kind {
  Number,
  Shared,
  Text,
  Bool,
  Date,
}

interface RawCell {
  col: number;
  kind: Kind;
  value: string;
  style: number;
}

interface RawRow {
  num: number;
  cells: RawCell[];
}

/** Tokenizes rows of a sheet into raw cells until the sheet ends or the budget says stop. */
class SheetHandler {
  rows: RawRow[] = [];
  ended = false;
  private row: RawRow | undefined;
  private lastRowNum: number;
  private cell: RawCell | undefined;
  private type = "";
  private inValue = false;
  private inInline = false;
  private phonetic = 0;
  private lastCol = 0;

  constructor(private readonly budget: ReadBudget, private readonly table: SheetTable) {
    this.lastRowNum = table.lastRow;
  }

  open(name: string, tok: XmlTokenizer): void {
    switch (local(name)) {
      case "row": {
        const r = tok.attr("r");
        this.lastRowNum = rowNumber(r || undefined, this.lastRowNum);
        this.row = { num: this.lastRowNum, cells: [] };
        this.lastCol = 0;
        break;
      }
      case "c": {
        const ref = tok.attr("r");
        const col = ref ? columnOf(ref) : this.lastCol + 1;
        this.lastCol = col;
        this.type = tok.attr("t") ?? "n";
        const style = Number(tok.attr("s") ?? 0);
        const kind = this.type === "s"
          ? Kind.Shared
          : this.type === "b"
          ? Kind.Bool
          : this.type === "d"
          ? Kind.Date
          : this.type === "n"
          ? Kind.Number
          : Kind.Text;
        this.cell = { col, kind, value: "", style };
        break;
      }
      case "v":
        if (this.cell && this.type !== "inlineStr") {
          this.inValue = true;
          tok.wantText = true;
        }
        break;
      case "is":
        if (this.cell) this.inInline = true;
        break;
      case "rPh":
        this.phonetic++;
        tok.wantText = false;
        break;
      case "t":
        if (this.inInline && this.phonetic === 0) tok.wantText = true;
        break;
      case "dimension": {
        const ref = tok.attr("ref");
        if (ref) {
          const [a, b = a] = ref.split(":");
          const min = columnOf(a.replace(/\$/g, ""));
          const max = columnOf(b.replace(/\$/g, ""));
          if (min > 0 && max >= min) {
            this.table.dimMin = min;
            this.table.dimMax = max;
          }
        }
        break;
      }
    }
  }

  close(name: string, tok: XmlTokenizer): void {
    switch (local(name)) {
      case "v":
        this.inValue = false;
        tok.wantText = false;
        break;
      case "t":
        tok.wantText = false;
        break;
      case "rPh":
        this.phonetic--;
        break;
      case "is":
        this.inInline = false;
        break;
      case "c":
        if (this.cell && this.row && this.cell.value !== "") this.row.cells.push(this.cell);
        this.cell = undefined;
        break;
      case "row":
        if (this.row && this.row.cells.length > 0) this.rows.push(this.row);
        this.row = undefined;
        if (this.budget.exhausted()) tok.stop();
        break;
      case "sheetData":
        this.ended = true;
        tok.stop();
        break;
    }
  }

  text(text: string): void {
    if (!this.cell) return;
    if (this.inValue || (this.inInline && this.phonetic === 0)) this.cell.value += text;
  }
}

/** Resolves shared string indexes to their text, scanning sharedStrings.xml once, forward only. */
async function sharedStrings(
  bytes: Uint8Array,
  entry: ZipEntry | undefined,
  needed: Set<number>,
): Promise<Map<number, string>> {
  const found = new Map<number, string>();
  if (!entry || needed.size === 0) return found;
  let last = 0;
  for (const i of needed) if (i > last) last = i;
  const decoder = new TextDecoder("utf-8", { fatal: true });
  let buf = "";
  let index = 0;
  let open = "";
  let close = "";
  for await (const piece of entryPieces(bytes, entry)) {
    buf += decoder.decode(piece, { stream: true });
    if (!open) {
      const root = /<([A-Za-z_][\w.-]*:)?sst[\s>]/.exec(buf);
      if (!root) continue;
      open = `<${root[1] ?? ""}si`;
      close = `</${root[1] ?? ""}si>`;
    }
    let pos = 0;
    while (true) {
      const at = buf.indexOf(open, pos);
      if (at < 0 || at + open.length >= buf.length) break;
      const after = buf.charCodeAt(at + open.length);
      if (
        after !== 62 && after !== 32 && after !== 47 && after !== 9 && after !== 10 && after !== 13
      ) {
        pos = at + open.length;
        continue;
      }
      const gt = buf.indexOf(">", at);
      if (gt < 0) break;
      let end: number;
      let body = "";
      if (buf.charCodeAt(gt - 1) === 47) end = gt + 1; // <si/>
      else {
        const stop = buf.indexOf(close, gt);
        if (stop < 0) break;
        end = stop + close.length;
        if (needed.has(index)) body = buf.slice(gt + 1, stop);
      }
      if (needed.has(index)) found.set(index, stringItemText(body));
      index++;
      pos = end;
      if (index > last) return found;
    }
    buf = buf.slice(pos);
  }
  return found;
}

/** The text of a shared string item: its <t> runs, without phonetic (<rPh>) runs. */
function stringItemText(body: string): string {
  const plain = body.replace(/<([\w.-]+:)?rPh\b[\s\S]*?<\/([\w.-]+:)?rPh>/g, "");
  let text = "";
  for (const m of plain.matchAll(/<(?:[\w.-]+:)?t(?:\s[^>]*)?>([\s\S]*?)<\/(?:[\w.-]+:)?t>/g)) {
    text += m[1];
  }
  return decodeXmlEntities(text);
}

/** Renders cells as text; dates repeat a lot in ledgers, so their text is cached. */
class CellRenderer {
  private readonly dates = new Map<number, string>();
  constructor(private readonly wb: Workbook, private readonly strings: Map<number, string>) {}

  text(cell: RawCell): string {
    switch (cell.kind) {
      case Kind.Shared:
        return this.strings.get(Number(cell.value)) ?? "";
      case Kind.Bool: {
        const v = cell.value.trim();
        return v === "1" || v === "true" ? "TRUE" : "FALSE";
      }
      case Kind.Date:
        return isoDate(new Date(cell.value.trim()));
      case Kind.Number: {
        const n = Number(cell.value);
        if (Number.isNaN(n) || cell.value.trim() === "") return cell.value;
        if (!this.wb.dateStyles[cell.style]) return String(n);
        let text = this.dates.get(n);
        if (text === undefined) {
          text = isoDate(excelSerialToDate(n, this.wb.date1904));
          this.dates.set(n, text);
        }
        return text;
      }
      default:
        return cell.value;
    }
  }
}

/** Emits tokenized rows into the sink, keeping the sheet's table state. */
function emitRows(
  rows: RawRow[],
  table: SheetTable,
  sheet: string,
  render: CellRenderer,
  sink: BlockSink,
): void {
  const texts: string[] = [];
  const cols: number[] = [];
  for (const row of rows) {
    texts.length = 0;
    cols.length = 0;
    let rowMin = Infinity;
    let rowMax = 0;
    for (const cell of row.cells) {
      const text = render.text(cell).trim();
      if (!text) continue;
      texts.push(text);
      cols.push(cell.col);
      if (cell.col < rowMin) rowMin = cell.col;
      if (cell.col > rowMax) rowMax = cell.col;
    }
    if (texts.length === 0) continue;
    const header = table.headerRow === 0;
    if (header) {
      table.minCol = table.dimMin > 0 ? Math.min(table.dimMin, rowMin) : rowMin;
      table.maxCol = Math.max(table.dimMax, rowMax);
    } else {
      const width = table.maxCol - table.minCol + 1;
      for (let n = table.lastRow + 1; n < row.num; n++) sink.row(Array<string>(width).fill(""));
    }
    const first = Math.min(table.minCol, rowMin);
    const cells = Array<string>(Math.max(table.maxCol, rowMax) - first + 1).fill("");
    for (let i = 0; i < texts.length; i++) cells[cols[i] - first] = texts[i];
    if (header) {
      sink.tableStart({ sheet, header: normaliseTable(cells, []).header, firstRow: row.num + 1 });
      table.headerRow = row.num;
    } else sink.row(cells);
    table.lastRow = row.num;
  }
}

const NEW_TABLE: SheetTable = {
  dimMin: 0,
  dimMax: 0,
  minCol: 0,
  maxCol: 0,
  headerRow: 0,
  lastRow: 0,
};
/** Rows tokenized before their shared strings are looked up and they are emitted. */
const ROW_BATCH = 1000;

/**
 * Reads an XLSX into `sink` from `cursor` (undefined: from the start) until the budget is spent.
 * Throws ParseError for a file that is not a workbook or has no data.
 */
export async function readXlsx(
  bytes: Uint8Array,
  cursor: XlsxCursor | undefined,
  sink: BlockSink,
  budget: ReadBudget = UNLIMITED,
): Promise<ReadResult<XlsxCursor>> {
  const wb = await openWorkbook(bytes);
  const at: XlsxCursor = cursor
    ? structuredClone(cursor)
    : { sheet: 0, offset: 0, table: { ...NEW_TABLE }, found: false };
  try {
    while (at.sheet < wb.sheets.length) {
      if (budget.exhausted()) break;
      const sheet = wb.sheets[at.sheet];
      const entry = wb.pkg.part(sheet.part)!;
      const handler = new SheetHandler(budget, at.table);
      const strings = new Map<number, string>();
      const render = new CellRenderer(wb, strings);
      const tok = new XmlTokenizer(handler, at.offset);
      const emit = async () => {
        const needed = new Set<number>();
        for (const row of handler.rows) {
          for (const c of row.cells) if (c.kind === Kind.Shared) needed.add(Number(c.value));
        }
        for (const i of needed) if (strings.has(i)) needed.delete(i);
        for (const [i, text] of await sharedStrings(bytes, wb.sharedStrings, needed)) {
          strings.set(i, text);
        }
        emitRows(handler.rows, at.table, sheet.name, render, sink);
        handler.rows = [];
      };
      const read = await streamXml(bytes, entry, tok, at, async () => {
        if (handler.rows.length >= ROW_BATCH) await emit();
        await budget.pause();
      });
      await emit();
      if (at.table.headerRow > 0) at.found = true;
      if (handler.ended || read.complete) {
        if (at.table.headerRow > 0) sink.tableEnd();
        at.sheet++;
        at.offset = 0;
        delete at.point;
        at.table = { ...NEW_TABLE };
      } else {
        const next = read.next();
        at.offset = next.offset;
        if (next.point) at.point = next.point;
        else delete at.point;
        break;
      }
      await budget.pause();
    }
  } catch (err) {
    if (err instanceof ParseError) throw err;
    // Broken ZIP, deflate data, UTF-8 or XML: the file's fault.
    throw new ParseError(NOT_XLSX, { cause: err });
  }
  const done = at.sheet >= wb.sheets.length;
  if (done && !at.found) throw new ParseError("the workbook has no data");
  const fraction = wb.sheets.length === 0 ? 1 : Math.min(
    1,
    (at.sheet +
      (at.offset > 0 ? at.offset / (wb.pkg.part(wb.sheets[at.sheet].part)!.size || 1) : 0)) /
      wb.sheets.length,
  );
  return { done, cursor: at, fraction };
}

/** Extracts every sheet that has data as a table block. */
export async function extractXlsx(bytes: Uint8Array): Promise<ExtractResult> {
  const sink = new BlockCollector();
  await readXlsx(bytes, undefined, sink);
  return { blocks: sink.blocks };
}
