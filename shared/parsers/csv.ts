/**
 * CSV extraction: UTF-8 only, delimiter guessed like papaparse does (`,` `\t` `|` `;` and the ASCII
 * record/unit separators), first non-empty record is the header, rows are padded to the widest
 * record. Rows are numbered by record as a spreadsheet numbers them (the header's record + 1 is
 * the first data row, blank records before it counted), and a blank record between data rows is
 * an empty row, as the XLSX reader gives one, so a cited row number is the file's; blank records
 * after the last data row are dropped.
 *
 * Resumable: the first read validates the whole file (UTF-8, delimiter, header, widest record,
 * at least one data row) with one byte-level scan, and the cursor keeps that plus the byte offset
 * of the next record, so every later read parses only its own slice of records.
 */
import { z } from "zod";
import { type ReadBudget, type ReadResult, UNLIMITED } from "./budget.ts";
import { BlockCollector, type BlockSink } from "./sink.ts";
import { normaliseTable } from "./table.ts";
import { assertUtf8, bomLength } from "./text.ts";
import { type ExtractResult, ParseError } from "./types.ts";

export const CsvCursor = z.object({
  delimiter: z.string().length(1),
  width: z.number().int().nonnegative(),
  /** Byte offset of the next record. */
  offset: z.number().int().nonnegative(),
  /** Blank records read since the last data row (emitted as empty rows if a data row follows). */
  blanks: z.number().int().nonnegative().optional(),
});
export type CsvCursor = z.infer<typeof CsvCursor>;

const QUOTE = 0x22;
const LF = 0x0a;
const CR = 0x0d;
/** Bytes parsed between two budget checks (by default). */
const SLICE_BYTES = 256 * 1024;

function isBlankByte(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0b || c === 0x0c || c === LF || c === CR;
}

interface RecordInfo {
  start: number;
  /** After the record's line end. */
  end: number;
  fields: number;
  /** Only blanks (ASCII whitespace) outside and inside quotes. */
  blank: boolean;
  /** Has non-ASCII bytes, which may be whitespace too (decide on the decoded text). */
  nonAscii: boolean;
}

/**
 * Scans records from `from` (a record start) at the byte level, calling `onRecord` for each,
 * until `onRecord` returns false or the end. Returns the offset after the last record scanned.
 */
function scanRecords(
  bytes: Uint8Array,
  from: number,
  delimiter: number,
  onRecord: (r: RecordInfo) => boolean,
): number {
  const n = bytes.length;
  let i = from;
  while (i < n) {
    const start = i;
    let fields = 1;
    let blank = true;
    let nonAscii = false;
    let fieldStart = i;
    let inQuotes = false;
    let end = n;
    while (i < n) {
      const c = bytes[i];
      if (inQuotes) {
        if (c === QUOTE) {
          if (bytes[i + 1] === QUOTE) {
            blank = false;
            i += 2;
            continue;
          }
          inQuotes = false;
        } else if (c >= 0x80) nonAscii = true;
        else if (!isBlankByte(c)) blank = false;
        i++;
        continue;
      }
      if (c === QUOTE && i === fieldStart) {
        inQuotes = true;
        i++;
        continue;
      }
      if (c === delimiter) {
        fields++;
        fieldStart = ++i;
        continue;
      }
      if (c === LF || c === CR) {
        end = c === CR && bytes[i + 1] === LF ? i + 2 : i + 1;
        break;
      }
      if (c >= 0x80) nonAscii = true;
      else if (c !== 0x20 && c !== 0x09 && c !== 0x0b && c !== 0x0c) blank = false;
      i++;
    }
    i = end;
    if (!onRecord({ start, end, fields, blank, nonAscii })) return end;
  }
  return i;
}

/** Parses decoded records into cells (quotes removed, `""` unescaped, line ends as `\n`). */
function parseRecords(text: string, delimiter: string, onRecord: (cells: string[]) => void): void {
  const n = text.length;
  const delimiterCode = delimiter.charCodeAt(0);
  let i = 0;
  while (i < n) {
    const cells: string[] = [];
    let cell = "";
    let atFieldStart = true;
    let ended = false;
    while (i < n) {
      const c = text[i];
      if (c === '"' && atFieldStart) {
        // Quoted field: up to the closing quote; what follows it up to the delimiter is kept.
        i++;
        while (i < n) {
          const q = text.indexOf('"', i);
          if (q < 0) {
            cell += text.slice(i);
            i = n;
            break;
          }
          cell += text.slice(i, q);
          if (text[q + 1] === '"') {
            cell += '"';
            i = q + 2;
          } else {
            i = q + 1;
            break;
          }
        }
        cell = cell.replace(/\r\n?/g, "\n");
        atFieldStart = false;
        continue;
      }
      if (c === delimiter) {
        cells.push(cell);
        cell = "";
        atFieldStart = true;
        i++;
        continue;
      }
      if (c === "\n" || c === "\r") {
        i += c === "\r" && text[i + 1] === "\n" ? 2 : 1;
        ended = true;
        break;
      }
      // Unquoted text up to the next delimiter, quote or line end.
      let j = i + 1;
      while (j < n) {
        const d = text.charCodeAt(j);
        if (d === delimiterCode || d === 10 || d === 13) break;
        j++;
      }
      cell += text.slice(i, j);
      atFieldStart = false;
      i = j;
    }
    cells.push(cell);
    onRecord(cells);
    if (!ended && i >= n) break;
  }
}

const CANDIDATES = [",", "\t", "|", ";", "\x1e", "\x1f"];

/** papaparse's guess: the delimiter giving the most consistent field count (> 1.99 on average). */
function guessDelimiter(sample: string): string {
  let bestDelta: number | undefined;
  let best: string | undefined;
  let maxFieldCount: number | undefined;
  for (const delimiter of CANDIDATES) {
    const rows: string[][] = [];
    parseRecords(sample, delimiter, (cells) => {
      if (rows.length < 10) rows.push(cells);
    });
    let delta = 0;
    let avg = 0;
    let empty = 0;
    let prev: number | undefined;
    for (const row of rows) {
      if (!row.join("").trim()) {
        empty++;
        continue;
      }
      avg += row.length;
      if (prev === undefined) prev = row.length;
      else if (row.length > 0) {
        delta += Math.abs(row.length - prev);
        prev = row.length;
      }
    }
    if (rows.length > 0) avg /= rows.length - empty;
    if (
      (bestDelta === undefined || delta <= bestDelta) &&
      (maxFieldCount === undefined || avg > maxFieldCount) && avg > 1.99
    ) {
      bestDelta = delta;
      best = delimiter;
      maxFieldCount = avg;
    }
  }
  return best ?? ",";
}

function decode(bytes: Uint8Array): string {
  return new TextDecoder("utf-8", { ignoreBOM: true }).decode(bytes);
}

function isBlankRecord(bytes: Uint8Array, r: RecordInfo): boolean {
  if (!r.blank) return false;
  if (!r.nonAscii) return true;
  return !decode(bytes.subarray(r.start, r.end)).replace(/"/g, "").trim();
}

/** Checks the file and finds its shape: the first read of a CSV. */
function prepare(
  bytes: Uint8Array,
): { cursor: CsvCursor; header: string[]; firstRow: number } {
  assertUtf8(bytes);
  const bom = bomLength(bytes);
  const sampleEnd = Math.min(bytes.length, bom + 64 * 1024);
  const delimiter = guessDelimiter(decode(bytes.subarray(bom, sampleEnd)));
  let header: RecordInfo | undefined;
  let before = 0;
  let rows = 0;
  let width = 0;
  scanRecords(bytes, bom, delimiter.charCodeAt(0), (r) => {
    if (isBlankRecord(bytes, r)) {
      if (!header) before++;
      return true;
    }
    if (!header) header = r;
    else rows++;
    width = Math.max(width, r.fields);
    return true;
  });
  if (!header) throw new ParseError("the CSV file is empty");
  if (rows === 0) throw new ParseError("the CSV file has a header but no rows");
  let cells: string[] = [];
  parseRecords(decode(bytes.subarray(header.start, header.end)), delimiter, (c) => {
    cells = c.map((cell) => cell.trim());
  });
  const named = normaliseTable(cells, [Array<string>(width).fill("")]).header;
  return {
    cursor: { delimiter, width, offset: header.end },
    header: named,
    firstRow: before + 2,
  };
}

/**
 * Reads a CSV into `sink` from `cursor` (undefined: from the start) until the budget is spent.
 * Emits the table start on the first read, then rows.
 */
export async function readCsv(
  bytes: Uint8Array,
  cursor: CsvCursor | undefined,
  sink: BlockSink,
  budget: ReadBudget = UNLIMITED,
  sliceBytes = SLICE_BYTES,
): Promise<ReadResult<CsvCursor>> {
  let at: CsvCursor;
  if (cursor === undefined) {
    const prepared = prepare(bytes);
    at = prepared.cursor;
    sink.tableStart({ header: prepared.header, firstRow: prepared.firstRow });
  } else at = { ...cursor };
  const delimiter = at.delimiter.charCodeAt(0);
  while (at.offset < bytes.length) {
    if (budget.exhausted()) {
      return { done: false, cursor: at, fraction: at.offset / bytes.length };
    }
    const limit = at.offset + sliceBytes;
    const end = scanRecords(bytes, at.offset, delimiter, (r) => r.end < limit);
    parseRecords(decode(bytes.subarray(at.offset, end)), at.delimiter, (cells) => {
      if (!cells.join("").trim()) {
        at.blanks = (at.blanks ?? 0) + 1;
        return;
      }
      for (; at.blanks; at.blanks--) sink.row(Array<string>(at.width).fill(""));
      const row = cells.map((cell) => cell.trim());
      while (row.length < at.width) row.push("");
      sink.row(row);
    });
    at.offset = end;
    await budget.pause();
  }
  sink.tableEnd();
  return { done: true, cursor: at, fraction: 1 };
}

/** Extracts a CSV file as one table block whose header is the file's first record. */
export async function extractCsv(bytes: Uint8Array): Promise<ExtractResult> {
  const sink = new BlockCollector();
  await readCsv(bytes, undefined, sink);
  return { blocks: sink.blocks };
}
