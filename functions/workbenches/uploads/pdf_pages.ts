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
import {
  type Dict,
  type Indirect,
  inflateCapped,
  isDict,
  isInt,
  Lexer,
  Malformed,
  nameOf,
  Ref,
  Unavailable,
  unpredictPng,
  type Value,
} from "./pdf_syntax.ts";

class Encrypted extends Error {}

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
