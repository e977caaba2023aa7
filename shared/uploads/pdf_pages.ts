/**
 * A light PDF page counter for upload checks, instead of pdf.js: it follows the file's own index
 * (`startxref` → cross-reference tables or streams, through incremental updates) to the catalog and
 * reads the page tree's `/Count`, which is also what pdf.js reports. Cross-reference streams and
 * object streams are inflated with fflate, never past a cap.
 *
 * It is strict: any structure it does not expect (a wrong offset, a missing `/Type`, an unknown
 * filter, a bad `/Count`) gives no count rather than a guess, and the caller accepts the file and
 * leaves the limit to the indexing worker (which knows the page count after its first step).
 * Encrypted PDFs get no count either: they are accepted at upload and fail in the worker.
 *
 * The bytes may be given as windows (the start and the end of a large file): what the index needs
 * must lie in them, or there is no count.
 */
import { Unzlib } from "fflate";

/** Bytes of the file starting at `start` (file offset). */
export interface PdfWindow {
  start: number;
  bytes: Uint8Array;
}

/** A PDF of `size` bytes of which the windows are known (the last one must reach the end). */
export interface PdfBytes {
  size: number;
  windows: PdfWindow[];
}

export type PdfPageCount =
  | { pages: number }
  | {
    pages: null;
    /** encrypted; malformed (not the structure expected); unavailable (outside the windows) */
    reason: "encrypted" | "malformed" | "unavailable";
    detail: string;
  };

/** The whole file as one window. */
export function wholePdf(bytes: Uint8Array): PdfBytes {
  return { size: bytes.length, windows: [{ start: 0, bytes }] };
}

/** Counts the pages (see the module comment); never throws on bad input. */
export function countPdfPages(pdf: PdfBytes): PdfPageCount {
  try {
    return { pages: new PdfIndex(pdf).pageCount() };
  } catch (err) {
    if (err instanceof Encrypted) return { pages: null, reason: "encrypted", detail: err.message };
    if (err instanceof Unavailable) {
      return { pages: null, reason: "unavailable", detail: err.message };
    }
    if (err instanceof Malformed) return { pages: null, reason: "malformed", detail: err.message };
    throw err;
  }
}

class Malformed extends Error {}
class Unavailable extends Error {}
class Encrypted extends Error {}

// ---------------------------------------------------------------------------------------------
// Values

class Name {
  constructor(readonly name: string) {}
}
class Ref {
  constructor(readonly num: number, readonly gen: number) {}
}
class PdfString {}
type Dict = Map<string, Value>;
type Value = number | boolean | null | Name | Ref | PdfString | Value[] | Dict;

/** An object with, when it is a stream, its raw (still encoded) data. */
interface Indirect {
  value: Value;
  stream?: Uint8Array;
}

const isDict = (v: Value | undefined): v is Dict => v instanceof Map;
const isInt = (v: Value | undefined): v is number => typeof v === "number" && Number.isInteger(v);
const nameOf = (v: Value | undefined): string | undefined => v instanceof Name ? v.name : undefined;

// ---------------------------------------------------------------------------------------------
// Lexer

const WHITESPACE = new Set([0, 9, 10, 12, 13, 32]);
const DELIMITERS = new Set([0x28, 0x29, 0x3c, 0x3e, 0x5b, 0x5d, 0x7b, 0x7d, 0x2f, 0x25]);
const MAX_DEPTH = 64;
/** The dictionary keys the counter reads; other entries are passed over unbuilt. */
const KEYS_READ = new Set([
  "Type",
  "Root",
  "Pages",
  "Count",
  "Encrypt",
  "Prev",
  "XRefStm",
  "Size",
  "W",
  "Index",
  "N",
  "First",
  "Length",
  "Filter",
  "DecodeParms",
  "Predictor",
  "Columns",
  "Colors",
  "BitsPerComponent",
]);
const EOF = -1;

class Lexer {
  pos: number;
  constructor(
    readonly bytes: Uint8Array,
    start: number,
    /** True when the bytes end where the data ends (else running off them is "unavailable"). */
    private readonly complete: boolean,
  ) {
    this.pos = start;
  }

  peek(ahead = 0): number {
    const at = this.pos + ahead;
    if (at < this.bytes.length) return this.bytes[at];
    if (this.complete) return EOF;
    throw new Unavailable("the object runs past the bytes at hand");
  }

  skipSpace(): void {
    for (;;) {
      const c = this.peek();
      if (c === 0x25) { // % comment to the end of the line
        while (this.peek() !== EOF && this.peek() !== 10 && this.peek() !== 13) this.pos++;
      } else if (c !== EOF && WHITESPACE.has(c)) this.pos++;
      else return;
    }
  }

  /** A run of regular characters (a number or a keyword); "" at a delimiter or the end. */
  word(): string {
    const start = this.#wordEnd();
    return String.fromCharCode(...this.bytes.subarray(start, this.pos));
  }

  /** Skips to the end of a run of regular characters; returns where it started. */
  #wordEnd(): number {
    this.skipSpace();
    const start = this.pos;
    for (;;) {
      const c = this.peek();
      if (c === EOF || WHITESPACE.has(c) || DELIMITERS.has(c)) return start;
      this.pos++;
      if (this.pos - start > 255) throw new Malformed("a token is too long");
    }
  }

  /** True when the bytes from `start` to the position are an unsigned integer. */
  #isInteger(start: number): boolean {
    if (this.pos === start) return false;
    for (let i = start; i < this.pos; i++) {
      if (this.bytes[i] < 48 || this.bytes[i] > 57) return false;
    }
    return true;
  }

  /**
   * Passes over one value without building it (a dictionary entry nobody reads, such as a page
   * tree's /Kids): the counter parses only the keys it needs.
   */
  skipValue(depth = 0): void {
    if (depth > MAX_DEPTH) throw new Malformed("objects are nested too deeply");
    this.skipSpace();
    const c = this.peek();
    if (c === 0x28) {
      this.literalString();
    } else if (c === 0x3c && this.peek(1) !== 0x3c) {
      this.hexString();
    } else if (c === 0x5b || c === 0x3c) {
      const dict = c === 0x3c;
      this.pos += dict ? 2 : 1;
      for (;;) {
        this.skipSpace();
        const d = this.peek();
        if (d === EOF) throw new Malformed("an array or dictionary is not closed");
        if (!dict && d === 0x5d) return void this.pos++;
        if (dict && d === 0x3e) {
          if (this.peek(1) !== 0x3e) throw new Malformed("a dictionary ends with a single >");
          return void (this.pos += 2);
        }
        this.skipValue(depth + 1);
      }
    } else if (c === 0x2f) {
      this.pos++;
      this.#wordEnd();
    } else {
      const start = this.#wordEnd();
      if (this.pos === start) throw new Malformed("a value is missing");
      if (!this.#isInteger(start)) return;
      // `num gen R` is one value.
      const save = this.pos;
      const gen = this.#wordEnd();
      if (this.#isInteger(gen)) {
        const r = this.#wordEnd();
        if (this.pos === r + 1 && this.bytes[r] === 0x52) return; // "R"
      }
      this.pos = save;
    }
  }

  keyword(expected: string): void {
    const got = this.word();
    if (got !== expected) throw new Malformed(`expected "${expected}", found "${got}"`);
  }

  integer(): number {
    const w = this.word();
    if (!/^\d{1,15}$/.test(w)) throw new Malformed(`expected an integer, found "${w}"`);
    return Number(w);
  }

  /** The 20-byte cross-reference table entry `oooooooooo ggggg n` at `at`. */
  xrefEntryAt(at: number): { offset: number; gen: number; kind: string } {
    this.pos = at;
    this.peek(19); // the entry must be at hand
    const b = this.bytes;
    let offset = 0;
    let gen = 0;
    let ok = b[at + 10] === 32 && b[at + 16] === 32 && WHITESPACE.has(b[at + 18]) &&
      WHITESPACE.has(b[at + 19]);
    for (let i = 0; i < 10 && ok; i++) {
      const d = b[at + i] - 48;
      ok = d >= 0 && d <= 9;
      offset = offset * 10 + d;
    }
    for (let i = 11; i < 16 && ok; i++) {
      const d = b[at + i] - 48;
      ok = d >= 0 && d <= 9;
      gen = gen * 10 + d;
    }
    if (!ok) throw new Malformed("a cross-reference entry is not 20 bytes long");
    this.pos = at + 20;
    return { offset, gen, kind: String.fromCharCode(b[at + 17]) };
  }

  value(depth = 0): Value {
    if (depth > MAX_DEPTH) throw new Malformed("objects are nested too deeply");
    this.skipSpace();
    const c = this.peek();
    if (c === 0x2f) return this.name();
    if (c === 0x3c) return this.peek(1) === 0x3c ? this.dict(depth) : this.hexString();
    if (c === 0x5b) return this.array(depth);
    if (c === 0x28) return this.literalString();
    const w = this.word();
    if (/^[+-]?(\d+\.?\d*|\.\d+)$/.test(w)) {
      const n = Number(w);
      if (/^\d+$/.test(w)) {
        const ref = this.refAfter(n);
        if (ref) return ref;
      }
      return n;
    }
    if (w === "true") return true;
    if (w === "false") return false;
    if (w === "null") return null;
    throw new Malformed(`unexpected "${w || String.fromCharCode(Math.max(c, 0))}"`);
  }

  /** `num gen R` after an integer `num`, or null (and the position restored). */
  private refAfter(num: number): Ref | null {
    const save = this.pos;
    const gen = this.word();
    if (/^\d{1,5}$/.test(gen) && this.word() === "R") return new Ref(num, Number(gen));
    this.pos = save;
    return null;
  }

  private name(): Name {
    this.pos++; // "/"
    let raw = "";
    for (;;) {
      const c = this.peek();
      if (c === EOF || WHITESPACE.has(c) || DELIMITERS.has(c)) break;
      raw += String.fromCharCode(c);
      this.pos++;
      if (raw.length > 255) throw new Malformed("a name is too long");
    }
    return new Name(
      raw.replace(/#([0-9a-fA-F]{2})/g, (_, h) => String.fromCharCode(parseInt(h, 16))),
    );
  }

  private dict(depth: number): Dict {
    this.pos += 2; // "<<"
    const dict: Dict = new Map();
    for (;;) {
      this.skipSpace();
      const c = this.peek();
      if (c === 0x3e) {
        if (this.peek(1) !== 0x3e) throw new Malformed("a dictionary ends with a single >");
        this.pos += 2;
        return dict;
      }
      if (c !== 0x2f) throw new Malformed("a dictionary key is not a name");
      const key = this.name().name;
      if (!KEYS_READ.has(key)) this.skipValue(depth + 1);
      else {
        const value = this.value(depth + 1);
        if (!dict.has(key)) dict.set(key, value);
      }
    }
  }

  private array(depth: number): Value[] {
    this.pos++; // "["
    const items: Value[] = [];
    for (;;) {
      this.skipSpace();
      const c = this.peek();
      if (c === 0x5d) {
        this.pos++;
        return items;
      }
      if (c === EOF) throw new Malformed("an array is not closed");
      items.push(this.value(depth + 1));
    }
  }

  private literalString(): PdfString {
    this.pos++; // "("
    let open = 1;
    while (open > 0) {
      const c = this.peek();
      if (c === EOF) throw new Malformed("a string is not closed");
      this.pos++;
      if (c === 0x5c) this.pos++; // backslash escapes the next byte
      else if (c === 0x28) open++;
      else if (c === 0x29) open--;
    }
    return new PdfString();
  }

  private hexString(): PdfString {
    this.pos++; // "<"
    for (;;) {
      const c = this.peek();
      if (c === EOF) throw new Malformed("a hex string is not closed");
      this.pos++;
      if (c === 0x3e) return new PdfString();
      const hex = (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
      if (!hex && !WHITESPACE.has(c)) throw new Malformed("a hex string has a non-hex byte");
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Streams

/** Decoded stream data is capped (xref and object streams are small; this is not a page's data). */
const MAX_DECODED = 16 * 1024 * 1024;
const INFLATE_SLICE = 4096;

function inflateCapped(data: Uint8Array): Uint8Array {
  const out: Uint8Array[] = [];
  let total = 0;
  const unzlib = new Unzlib((chunk) => {
    total += chunk.length;
    if (total > MAX_DECODED) throw new Malformed("a stream inflates to too much data");
    out.push(chunk);
  });
  try {
    for (let at = 0; at < data.length; at += INFLATE_SLICE) {
      const end = Math.min(data.length, at + INFLATE_SLICE);
      unzlib.push(data.subarray(at, end), end === data.length);
    }
    if (data.length === 0) unzlib.push(data, true);
  } catch (err) {
    if (err instanceof Malformed) throw err;
    throw new Malformed("a compressed stream is damaged");
  }
  const joined = new Uint8Array(total);
  let at = 0;
  for (const c of out) {
    joined.set(c, at);
    at += c.length;
  }
  return joined;
}

/** Undoes PNG row predictors (what cross-reference streams use), one byte per sample. */
function unpredictPng(data: Uint8Array, columns: number): Uint8Array {
  const row = columns + 1;
  if (columns < 1 || data.length % row !== 0) throw new Malformed("predicted rows do not fit");
  const rows = data.length / row;
  const out = new Uint8Array(rows * columns);
  for (let r = 0; r < rows; r++) {
    const filter = data[r * row];
    for (let i = 0; i < columns; i++) {
      const x = data[r * row + 1 + i];
      const left = i > 0 ? out[r * columns + i - 1] : 0;
      const up = r > 0 ? out[(r - 1) * columns + i] : 0;
      const upLeft = r > 0 && i > 0 ? out[(r - 1) * columns + i - 1] : 0;
      let predicted: number;
      switch (filter) {
        case 0:
          predicted = 0;
          break;
        case 1:
          predicted = left;
          break;
        case 2:
          predicted = up;
          break;
        case 3:
          predicted = (left + up) >> 1;
          break;
        case 4: {
          const p = left + up - upLeft;
          const pa = Math.abs(p - left), pb = Math.abs(p - up), pc = Math.abs(p - upLeft);
          predicted = pa <= pb && pa <= pc ? left : pb <= pc ? up : upLeft;
          break;
        }
        default:
          throw new Malformed(`unknown PNG predictor ${filter}`);
      }
      out[r * columns + i] = (x + predicted) & 0xff;
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// The index: cross-reference sections, objects, the page tree

type Entry = { type: 1; offset: number; gen: number } | { type: 2; stream: number; index: number };

const MAX_SECTIONS = 64;
const MAX_OBJECT_LOADS = 256;
const MAX_ENTRIES = 10_000_000;
const STARTXREF_SEARCH = 1024;

/** What one cross-reference section says of an object: an entry, free (null), or not listed. */
type Lookup = (num: number) => Entry | null | undefined;

class PdfIndex {
  /** Newest first. */
  #sections: Lookup[] = [];
  #trailer: Dict | null = null;
  #loads = 0;
  #objectStreams = new Map<number, { data: Uint8Array; offsets: Map<number, number> }>();

  constructor(private readonly pdf: PdfBytes) {}

  pageCount(): number {
    this.#readIndex();
    const trailer = this.#trailer!;
    if (trailer.has("Encrypt")) throw new Encrypted("the PDF is encrypted");
    const catalog = this.#resolve(trailer.get("Root") ?? null);
    if (!isDict(catalog) || nameOf(catalog.get("Type")) !== "Catalog") {
      throw new Malformed("the trailer's /Root is not a catalog");
    }
    const pages = this.#resolve(catalog.get("Pages") ?? null);
    if (!isDict(pages) || nameOf(pages.get("Type")) !== "Pages") {
      throw new Malformed("the catalog's /Pages is not a page tree");
    }
    const count = this.#resolve(pages.get("Count") ?? null);
    if (!isInt(count) || count < 0) throw new Malformed("the page tree's /Count is not a count");
    return count;
  }

  /** A lexer at a file offset, over the window that holds it. */
  #lexerAt(offset: number): Lexer {
    if (!Number.isInteger(offset) || offset < 0 || offset >= this.pdf.size) {
      throw new Malformed(`offset ${offset} is outside the file`);
    }
    for (const w of this.pdf.windows) {
      if (offset >= w.start && offset < w.start + w.bytes.length) {
        return new Lexer(w.bytes, offset - w.start, w.start + w.bytes.length >= this.pdf.size);
      }
    }
    throw new Unavailable(`offset ${offset} is outside the bytes at hand`);
  }

  #startXref(): number {
    const last = this.pdf.windows[this.pdf.windows.length - 1];
    if (!last || last.start + last.bytes.length !== this.pdf.size) {
      throw new Unavailable("the end of the file is not at hand");
    }
    const from = Math.max(0, last.bytes.length - STARTXREF_SEARCH);
    const tail = new TextDecoder("latin1").decode(last.bytes.subarray(from));
    const at = tail.lastIndexOf("startxref");
    if (at < 0) throw new Malformed("no startxref at the end of the file");
    const lexer = new Lexer(last.bytes, from + at + "startxref".length, true);
    return lexer.integer();
  }

  #readIndex(): void {
    const seen = new Set<number>();
    const queue = [this.#startXref()];
    while (queue.length > 0) {
      const offset = queue.shift()!;
      if (seen.has(offset)) continue; // a /Prev loop
      seen.add(offset);
      if (seen.size > MAX_SECTIONS) throw new Malformed("too many cross-reference sections");
      const trailer = this.#readSection(offset);
      this.#trailer ??= trailer;
      // A hybrid file's table comes first, then its stream (XRefStm), then older sections.
      const stm = trailer.get("XRefStm");
      if (isInt(stm) && !seen.has(stm)) {
        seen.add(stm);
        this.#readXrefStream(this.#lexerAt(stm));
      }
      const prev = trailer.get("Prev");
      if (prev !== undefined) {
        if (!isInt(prev)) throw new Malformed("/Prev is not an offset");
        queue.push(prev);
      }
    }
  }

  /** Reads one section (a table or a stream) and returns its trailer dictionary. */
  #readSection(offset: number): Dict {
    const lexer = this.#lexerAt(offset);
    const save = lexer.pos;
    if (lexer.word() === "xref") return this.#readTable(lexer);
    lexer.pos = save;
    return this.#readXrefStream(lexer);
  }

  /** Where the newest section that lists `num` says it is (undefined: free or not listed). */
  #entry(num: number): Entry | undefined {
    for (const lookup of this.#sections) {
      const entry = lookup(num);
      if (entry !== undefined) return entry ?? undefined;
    }
    return undefined;
  }

  /**
   * A classic table: subsections of 20-byte entries (`oooooooooo ggggg n` and a two-byte line
   * end), looked up by position when they are asked for, so a large table costs nothing to read.
   */
  #readTable(lexer: Lexer): Dict {
    const subsections: Array<
      { first: number; count: number; start: number; parsed?: Map<number, Entry | null> }
    > = [];
    for (;;) {
      const save = lexer.pos;
      if (lexer.word() === "trailer") break;
      lexer.pos = save;
      const first = lexer.integer();
      const count = lexer.integer();
      if (count > MAX_ENTRIES) throw new Malformed("a cross-reference subsection is too long");
      lexer.skipSpace();
      const start = lexer.pos;
      try {
        // The first and last entries must be where 20-byte entries put them.
        if (count > 0) {
          lexer.xrefEntryAt(start);
          lexer.xrefEntryAt(start + (count - 1) * 20);
        }
        lexer.pos = start + count * 20;
        subsections.push({ first, count, start });
      } catch (err) {
        if (!(err instanceof Malformed)) throw err;
        // Entries of another length (a one-byte line end): read them one by one.
        lexer.pos = start;
        const parsed = new Map<number, Entry | null>();
        for (let i = 0; i < count; i++) {
          const offset = lexer.integer();
          const gen = lexer.integer();
          const kind = lexer.word();
          if (kind !== "n" && kind !== "f") {
            throw new Malformed(`a cross-reference entry has type "${kind}"`);
          }
          parsed.set(first + i, kind === "n" ? { type: 1, offset, gen } : null);
        }
        subsections.push({ first, count, start, parsed });
      }
    }
    const trailer = lexer.value();
    if (!isDict(trailer)) throw new Malformed("the trailer is not a dictionary");
    this.#sections.push((num) => {
      for (const { first, count, start, parsed } of subsections) {
        if (num < first || num >= first + count) continue;
        if (parsed) return parsed.get(num);
        const { offset, gen, kind } = lexer.xrefEntryAt(start + (num - first) * 20);
        if (kind === "f") return null;
        if (kind !== "n") throw new Malformed(`a cross-reference entry has type "${kind}"`);
        return { type: 1, offset, gen };
      }
      return undefined;
    });
    return trailer;
  }

  #readXrefStream(lexer: Lexer): Dict {
    const { value: dict, stream } = this.#indirectAt(lexer, null);
    if (!isDict(dict) || nameOf(dict.get("Type")) !== "XRef" || !stream) {
      throw new Malformed("startxref does not point at a cross-reference table or stream");
    }
    const data = this.#decode(dict, stream);
    const w = dict.get("W");
    const size = dict.get("Size");
    if (!Array.isArray(w) || w.length !== 3 || !w.every((n) => isInt(n) && n >= 0 && n <= 8)) {
      throw new Malformed("the cross-reference stream's /W is not three field widths");
    }
    if (!isInt(size)) throw new Malformed("the cross-reference stream has no /Size");
    const index = dict.get("Index") ?? [0, size];
    if (!Array.isArray(index) || index.length % 2 !== 0 || !index.every(isInt)) {
      throw new Malformed("the cross-reference stream's /Index is not pairs of integers");
    }
    const [w1, w2, w3] = w as number[];
    const width = w1 + w2 + w3;
    const ranges: Array<{ first: number; count: number; row: number }> = [];
    let rows = 0;
    for (let p = 0; p < index.length; p += 2) {
      const [first, count] = [index[p] as number, index[p + 1] as number];
      ranges.push({ first, count, row: rows });
      rows += count;
    }
    if (rows > MAX_ENTRIES || rows * width > data.length) {
      throw new Malformed("the cross-reference stream is short");
    }
    this.#sections.push((num) => {
      const range = ranges.find((r) => num >= r.first && num < r.first + r.count);
      if (!range) return undefined;
      let at = (range.row + num - range.first) * width;
      const field = (n: number, fallback: number) => {
        if (n === 0) return fallback;
        let v = 0;
        for (let i = 0; i < n; i++) v = v * 256 + data[at++];
        return v;
      };
      const type = field(w1, 1);
      const f2 = field(w2, 0);
      const f3 = field(w3, 0);
      if (type === 1) return { type: 1, offset: f2, gen: f3 };
      if (type === 2) return { type: 2, stream: f2, index: f3 };
      return null; // free; other types are reserved and read as null objects
    });
    return dict;
  }

  /** Parses `num gen obj value [stream ... endstream] endobj` at the lexer. */
  #indirectAt(lexer: Lexer, expected: number | null): Indirect {
    const num = lexer.integer();
    lexer.integer(); // generation
    lexer.keyword("obj");
    if (expected !== null && num !== expected) {
      throw new Malformed(`object ${expected} is not at its offset (found ${num})`);
    }
    const value = lexer.value();
    const save = lexer.pos;
    const next = lexer.word();
    if (next !== "stream") {
      lexer.pos = save;
      return { value };
    }
    if (!isDict(value)) throw new Malformed("a stream without a dictionary");
    // The data starts after CRLF or LF.
    if (lexer.peek() === 13) lexer.pos++;
    if (lexer.peek() !== 10) throw new Malformed("no end of line after stream");
    lexer.pos++;
    const length = this.#resolve(value.get("Length") ?? null);
    if (!isInt(length) || length < 0) throw new Malformed("a stream has no /Length");
    const start = lexer.pos;
    if (length > 0) lexer.peek(length - 1); // the data must be at hand
    lexer.pos = start + length;
    lexer.keyword("endstream");
    return { value, stream: lexer.bytes.subarray(start, start + length) };
  }

  #decode(dict: Dict, raw: Uint8Array): Uint8Array {
    const filter = dict.get("Filter");
    const filters = filter === undefined ? [] : Array.isArray(filter) ? filter : [filter];
    if (filters.length === 0) return raw;
    if (filters.length !== 1 || nameOf(filters[0]) !== "FlateDecode") {
      throw new Malformed(`an index stream uses an unsupported filter`);
    }
    let data = inflateCapped(raw);
    let params = dict.get("DecodeParms");
    if (Array.isArray(params)) params = params[0];
    params = this.#resolve(params ?? null);
    if (isDict(params)) {
      const predictor = this.#resolve(params.get("Predictor") ?? 1);
      if (predictor !== 1) {
        const columns = this.#resolve(params.get("Columns") ?? 1);
        const colors = this.#resolve(params.get("Colors") ?? 1);
        const bits = this.#resolve(params.get("BitsPerComponent") ?? 8);
        if (!isInt(predictor) || predictor < 10 || predictor > 15 || colors !== 1 || bits !== 8) {
          throw new Malformed("an index stream uses an unsupported predictor");
        }
        if (!isInt(columns)) throw new Malformed("the predictor's /Columns is not an integer");
        data = unpredictPng(data, columns);
      }
    }
    return data;
  }

  /** Follows references (a few levels) to a direct value. */
  #resolve(value: Value, depth = 0): Value {
    if (!(value instanceof Ref)) return value;
    if (depth > 8) throw new Malformed("references nest too deeply");
    return this.#resolve(this.#object(value.num), depth + 1);
  }

  #object(num: number): Value {
    if (++this.#loads > MAX_OBJECT_LOADS) throw new Malformed("too many objects to follow");
    const entry = this.#entry(num);
    if (!entry) return null; // a free or missing object is null
    if (entry.type === 1) return this.#indirectAt(this.#lexerAt(entry.offset), num).value;
    const stream = this.#objectStream(entry.stream);
    const offset = stream.offsets.get(num);
    if (offset === undefined) throw new Malformed(`object ${num} is not in its object stream`);
    return new Lexer(stream.data, offset, true).value();
  }

  #objectStream(num: number) {
    const cached = this.#objectStreams.get(num);
    if (cached) return cached;
    const entry = this.#entry(num);
    if (!entry || entry.type !== 1) throw new Malformed(`object stream ${num} has no offset`);
    const { value: dict, stream } = this.#indirectAt(this.#lexerAt(entry.offset), num);
    if (!isDict(dict) || nameOf(dict.get("Type")) !== "ObjStm" || !stream) {
      throw new Malformed(`object ${num} is not an object stream`);
    }
    const n = this.#resolve(dict.get("N") ?? null);
    const first = this.#resolve(dict.get("First") ?? null);
    if (!isInt(n) || !isInt(first) || n < 0 || first < 0) {
      throw new Malformed("an object stream has no /N or /First");
    }
    const data = this.#decode(dict, stream);
    if (first > data.length) throw new Malformed("an object stream's /First is past its data");
    const header = new Lexer(data.subarray(0, first), 0, true);
    const offsets = new Map<number, number>();
    for (let i = 0; i < n; i++) {
      const objNum = header.integer();
      const offset = header.integer();
      if (first + offset >= data.length) {
        throw new Malformed("an object stream offset is past its data");
      }
      if (!offsets.has(objNum)) offsets.set(objNum, first + offset);
    }
    const parsed = { data, offsets };
    this.#objectStreams.set(num, parsed);
    return parsed;
  }
}
