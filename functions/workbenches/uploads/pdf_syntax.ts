/**
 * The PDF syntax the page counter needs (ISO 32000-1 section 7.3): a lexer and parser of objects
 * over bytes that may be a window of the file, and the decoding of FlateDecode streams with PNG
 * predictors. Values that nobody reads (dictionary entries other than `KEYS_READ`) are passed
 * over without being built.
 */
import { Unzlib } from "fflate";

/** The bytes are not the PDF structure expected. */
export class Malformed extends Error {}
/** What is needed lies outside the bytes at hand (a window of a larger file). */
export class Unavailable extends Error {}

// ---------------------------------------------------------------------------------------------
// Values

export class Name {
  constructor(readonly name: string) {}
}
export class Ref {
  constructor(readonly num: number, readonly gen: number) {}
}
export class PdfString {}
export type Dict = Map<string, Value>;
export type Value = number | boolean | null | Name | Ref | PdfString | Value[] | Dict;

/** An object with, when it is a stream, its raw (still encoded) data. */
export interface Indirect {
  value: Value;
  stream?: Uint8Array;
}

export const isDict = (v: Value | undefined): v is Dict => v instanceof Map;
export const isInt = (v: Value | undefined): v is number =>
  typeof v === "number" && Number.isInteger(v);
export const nameOf = (v: Value | undefined): string | undefined =>
  v instanceof Name ? v.name : undefined;

// ---------------------------------------------------------------------------------------------
// Lexer

export const WHITESPACE = new Set([0, 9, 10, 12, 13, 32]);
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
export const EOF = -1;

export class Lexer {
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

export function inflateCapped(data: Uint8Array): Uint8Array {
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
export function unpredictPng(data: Uint8Array, columns: number): Uint8Array {
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
