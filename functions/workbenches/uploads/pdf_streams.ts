/**
 * Counts what a PDF's compressed streams inflate to, as the file's bytes stream past, keeping none
 * of them (decompression bombs: a 0.4 MB PDF can hold a content stream of 400 MB of zeros, which
 * the indexing worker's PDF reader would then decode).
 *
 * The scan is lexical, not a parse: it finds each `stream` keyword, reads the dictionary just
 * before it, and when the first filter is FlateDecode and the stream is not an image (the text
 * extractor never decodes images), inflates the data up to `endstream` with node:zlib (native),
 * counting the output and dropping it. Counting stops for good once the total passes the cap, so
 * a bomb costs at most about the cap in inflation work. A stream that does not inflate (damaged,
 * or another encoding) simply stops counting: refusing broken files is the worker's job.
 */
import { createInflate, type Inflate } from "node:zlib";

export interface PdfStreamInspection {
  /** Bytes the counted streams inflated to (stops growing soon after the cap). */
  inflatedBytes: number;
  /** Streams that were inflated and counted. */
  streams: number;
  /** True when the total went past the cap. */
  overCap: boolean;
}

/** The dictionary text kept before each `stream` keyword. */
const DICT_CONTEXT = 4096;
/** zlib output chunk size: what one stream holds at a time while it is counted. */
const INFLATE_CHUNK = 64 * 1024;
const STREAM = "stream";
const END_STREAM = "endstream";

const latin1 = new TextDecoder("latin1");

/** What the dictionary in front of a stream says about it. */
export function describeStream(dictText: string): { flate: boolean; image: boolean } {
  const at = Math.max(dictText.lastIndexOf(" obj"), dictText.lastIndexOf("\nobj"));
  const dict = at >= 0 ? dictText.slice(at) : dictText;
  return {
    flate: /\/Filter\s*(\[\s*)?\/(FlateDecode|Fl)(?![A-Za-z0-9])/.test(dict),
    image: /\/Subtype\s*\/Image(?![A-Za-z0-9])/.test(dict),
  };
}

export class PdfStreamInspector {
  readonly #cap: number;
  #inflated = 0;
  #streams = 0;
  #overCap = false;
  /** Scanning for `stream`, or inside stream data looking for `endstream`. */
  #inData = false;
  /** Bytes held back from the last chunk: a keyword may straddle two chunks. */
  #carry = new Uint8Array(0);
  /** The text before the current position (for the dictionary in front of `stream`). */
  #context = "";
  #inflate: Inflate | null = null;
  /** Settles when the current inflater is gone (ended, failed or destroyed). */
  #closed: Promise<void> = Promise.resolve();
  #pending: Promise<void>[] = [];

  constructor(opts: { cap: number }) {
    this.#cap = opts.cap;
  }

  get overCap(): boolean {
    return this.#overCap;
  }

  /** Reads the next bytes; `settle()` waits until their stream data has been counted. */
  push(chunk: Uint8Array): void {
    if (this.#overCap) return;
    let bytes = chunk;
    if (this.#carry.length > 0) {
      bytes = new Uint8Array(this.#carry.length + chunk.length);
      bytes.set(this.#carry);
      bytes.set(chunk, this.#carry.length);
    }
    // windows-1252/latin1 decoding maps one byte to one UTF-16 unit, so indices match.
    const text = latin1.decode(bytes);
    let at = 0;
    while (at < text.length && !this.#overCap) {
      if (this.#inData) {
        const end = text.indexOf(END_STREAM, at);
        if (end < 0) {
          // Hold back what could be the start of `endstream`.
          const keep = Math.min(text.length - at, END_STREAM.length - 1);
          this.#feed(bytes.subarray(at, text.length - keep));
          at = text.length - keep;
          break;
        }
        this.#feed(bytes.subarray(at, end));
        this.#endData();
        this.#context = "";
        at = end + END_STREAM.length;
        continue;
      }
      const found = this.#findStreamKeyword(text, at);
      if (found === "more") {
        const keep = Math.min(text.length - at, STREAM.length + 2);
        this.#remember(text.slice(at, text.length - keep));
        at = text.length - keep;
        break;
      }
      this.#remember(text.slice(at, found.keyword));
      at = found.data;
      this.#startData(describeStream(this.#context));
    }
    this.#carry = bytes.slice(at);
  }

  /** Resolves when everything pushed so far has been inflated and counted. */
  async settle(): Promise<void> {
    while (this.#pending.length > 0) {
      const pending = this.#pending;
      this.#pending = [];
      await Promise.all(pending);
    }
  }

  /** Ends the file: call after the last `push`. */
  async finish(): Promise<PdfStreamInspection> {
    if (this.#inData && this.#carry.length > 0) this.#feed(this.#carry);
    this.#endData();
    this.#carry = new Uint8Array(0);
    await this.settle();
    this.stop();
    return { inflatedBytes: this.#inflated, streams: this.#streams, overCap: this.#overCap };
  }

  /** Stops counting (the file is refused anyway). */
  stop(): void {
    this.#inflate?.destroy();
    this.#inflate = null;
    this.#inData = false;
  }

  /**
   * The next `stream` keyword at or after `from` (a whole word, followed by an end of line), with
   * where its data starts; "more" when the rest of the text may hold its start.
   */
  #findStreamKeyword(text: string, from: number): { keyword: number; data: number } | "more" {
    let i = from;
    for (;;) {
      i = text.indexOf(STREAM, i);
      if (i < 0 || i + STREAM.length + 2 > text.length) return "more";
      const before = i > 0 ? text.charCodeAt(i - 1) : 0x20;
      const isWord = !(before >= 0x61 && before <= 0x7a) && !(before >= 0x41 && before <= 0x5a);
      const eol = text.charCodeAt(i + STREAM.length);
      if (isWord && (eol === 0x0a || eol === 0x0d)) {
        const crlf = eol === 0x0d && text.charCodeAt(i + STREAM.length + 1) === 0x0a;
        return { keyword: i, data: i + STREAM.length + (crlf ? 2 : 1) };
      }
      i += STREAM.length;
    }
  }

  #remember(text: string): void {
    this.#context = (this.#context + text).slice(-DICT_CONTEXT);
  }

  #startData(kind: { flate: boolean; image: boolean }): void {
    this.#inData = true;
    if (!kind.flate || kind.image) return;
    this.#streams++;
    const inflate = createInflate({ chunkSize: INFLATE_CHUNK });
    inflate.on("data", (data: Uint8Array) => this.#count(data.byteLength));
    // A stream that does not inflate stops counting; the worker judges the file.
    inflate.on("error", () => inflate.destroy());
    this.#closed = new Promise((resolve) => inflate.once("close", () => resolve()));
    this.#inflate = inflate;
  }

  #feed(data: Uint8Array): void {
    const inflate = this.#inflate;
    if (!inflate || inflate.destroyed || data.length === 0) return;
    const copy = data.slice(); // zlib may read it after the caller reuses the chunk
    const written = new Promise<void>((resolve) => inflate.write(copy, () => resolve()));
    this.#pending.push(Promise.race([written, this.#closed]));
  }

  #endData(): void {
    this.#inData = false;
    const inflate = this.#inflate;
    this.#inflate = null;
    if (!inflate || inflate.destroyed) return;
    inflate.end();
    this.#pending.push(this.#closed);
  }

  #count(bytes: number): void {
    if (this.#overCap) return;
    this.#inflated += bytes;
    if (this.#inflated > this.#cap) {
      this.#overCap = true;
      this.stop();
    }
  }
}
