/**
 * Looks into a ZIP archive as its bytes stream past, keeping none of them: the entry names (from
 * the local headers), whether the archive is complete (an end-of-central-directory record near its
 * end), the uncompressed sizes the headers declare, and the bytes the entries really inflate to,
 * counted and dropped, stopping as soon as the count passes a cap (zip bombs lie in their headers).
 *
 * fflate splits the archive into entries; the entries are inflated by node:zlib (native: about ten
 * times faster than JavaScript, which matters with ~2 s of CPU per request).
 */
import { Unzip, type UnzipDecoder, type UnzipDecoderConstructor, type UnzipFile } from "fflate";
import { createInflateRaw, type InflateRaw } from "node:zlib";

export interface ZipInspection {
  /** Entry names in archive order. */
  names: string[];
  /** True when the local headers parsed and an end-of-central-directory record closes the archive. */
  complete: boolean;
  /** The sum of the uncompressed sizes the local headers declare (entries that declare one). */
  declaredBytes: number;
  /** Bytes really inflated (stored entries count as they are); stops growing soon after the cap. */
  inflatedBytes: number;
  /** True when the declared or the inflated size went past the cap. */
  overCap: boolean;
}

export interface ZipInspectorOptions {
  /** Inflate entries to count their real size up to this many bytes; null: names only. */
  inflateCap: number | null;
}

/** The end-of-central-directory record (22 bytes) plus the longest comment. */
const EOCD_SEARCH = 22 + 0xffff;
const EOCD_SIGNATURE = [0x50, 0x4b, 0x05, 0x06];
/** zlib output chunks: what one entry holds at a time while it is counted. */
const INFLATE_CHUNK = 64 * 1024;

export class ZipInspector {
  #names: string[] = [];
  #declared = 0;
  #inflated = 0;
  #overCap = false;
  #inflating: boolean;
  #broken = false;
  #unzip: Unzip;
  /** Inflation writes not yet processed (awaited by `settle()`). */
  #pending: Promise<void>[] = [];
  #streams = new Set<InflateRaw>();
  /** The last EOCD_SEARCH bytes seen, as chunks. */
  #tail: Uint8Array[] = [];
  #tailBytes = 0;
  readonly #cap: number;

  constructor(opts: ZipInspectorOptions) {
    this.#cap = opts.inflateCap ?? Infinity;
    this.#inflating = opts.inflateCap !== null;
    this.#unzip = new Unzip((file) => this.#onFile(file));
    this.#unzip.register(countingInflate({
      active: () => this.#inflating,
      count: (bytes) => this.#count(bytes),
      opened: (stream) => this.#streams.add(stream),
      closed: (stream) => this.#streams.delete(stream),
      pending: (work) => this.#pending.push(work),
    }));
  }

  /** True once the declared or inflated size has gone past the cap. */
  get overCap(): boolean {
    return this.#overCap;
  }

  /** Stops inflating (names are still read): the file is refused anyway. */
  stopInflating(): void {
    this.#inflating = false;
    for (const stream of this.#streams) stream.destroy();
    this.#streams.clear();
  }

  /** Reads the next bytes; `settle()` waits until their entries' bytes have been counted. */
  push(chunk: Uint8Array): void {
    this.#keepTail(chunk);
    if (this.#broken) return;
    try {
      this.#unzip.push(chunk, false);
    } catch {
      this.#broken = true;
    }
  }

  /** Resolves when everything pushed so far has been inflated and counted. */
  async settle(): Promise<void> {
    while (this.#pending.length > 0) {
      const pending = this.#pending;
      this.#pending = [];
      await Promise.all(pending);
    }
  }

  /** Ends the archive: call after the last `push`. */
  async finish(): Promise<ZipInspection> {
    if (!this.#broken) {
      try {
        this.#unzip.push(new Uint8Array(0), true);
      } catch {
        this.#broken = true;
      }
    }
    await this.settle();
    this.stopInflating();
    return {
      names: this.#names,
      complete: !this.#broken && this.#hasEndRecord(),
      declaredBytes: this.#declared,
      inflatedBytes: this.#inflated,
      overCap: this.#overCap,
    };
  }

  #count(bytes: number): void {
    if (!this.#inflating) return;
    this.#inflated += bytes;
    if (this.#inflated > this.#cap) {
      this.#overCap = true;
      this.stopInflating();
    }
  }

  #onFile(file: UnzipFile): void {
    this.#names.push(file.name);
    this.#declared += file.originalSize ?? 0;
    if (this.#declared > this.#cap) {
      this.#overCap = true;
      this.stopInflating();
    }
    // Stored entries (fflate's pass-through) arrive here; deflated ones are counted by the decoder.
    file.ondata = (err, data) => {
      if (!err && file.compression === 0) this.#count(data.byteLength);
    };
    // Always started, so that fflate hands the entry's bytes on instead of queueing them.
    file.start();
  }

  #keepTail(chunk: Uint8Array): void {
    this.#tail.push(chunk);
    this.#tailBytes += chunk.byteLength;
    while (this.#tail.length > 1 && this.#tailBytes - this.#tail[0].byteLength >= EOCD_SEARCH) {
      this.#tailBytes -= this.#tail.shift()!.byteLength;
    }
  }

  #hasEndRecord(): boolean {
    const tail = new Uint8Array(this.#tailBytes);
    let at = 0;
    for (const c of this.#tail) {
      tail.set(c, at);
      at += c.byteLength;
    }
    const from = Math.max(0, tail.length - EOCD_SEARCH);
    for (let i = tail.length - 22; i >= from; i--) {
      if (EOCD_SIGNATURE.every((b, j) => tail[i + j] === b)) return true;
    }
    return false;
  }
}

interface InflateHooks {
  active(): boolean;
  count(bytes: number): void;
  opened(stream: InflateRaw): void;
  closed(stream: InflateRaw): void;
  pending(work: Promise<void>): void;
}

/** A DEFLATE "decoder" for fflate that feeds node:zlib and only counts what comes out. */
function countingInflate(hooks: InflateHooks): UnzipDecoderConstructor {
  return class CountingInflate implements UnzipDecoder {
    static compression = 8;
    ondata: UnzipDecoder["ondata"] = () => {};
    #stream: InflateRaw | null = null;
    /** Settles when the stream is gone (ended, failed or destroyed): no write waits past it. */
    #closed: Promise<void> = Promise.resolve();

    constructor() {
      if (!hooks.active()) return;
      const stream = createInflateRaw({ chunkSize: INFLATE_CHUNK });
      stream.on("data", (data: Uint8Array) => hooks.count(data.byteLength));
      // A damaged entry is the parser's to report; here it just stops counting.
      stream.on("error", () => this.terminate());
      this.#closed = new Promise((resolve) =>
        stream.once("close", () => {
          hooks.closed(stream);
          resolve();
        })
      );
      hooks.opened(stream);
      this.#stream = stream;
    }

    push(chunk: Uint8Array, final: boolean): void {
      const stream = this.#stream;
      if (!stream || stream.destroyed || !hooks.active()) return;
      if (chunk.length > 0) {
        const written = new Promise<void>((resolve) => stream.write(chunk, () => resolve()));
        hooks.pending(Promise.race([written, this.#closed]));
      }
      if (final) {
        stream.end();
        hooks.pending(this.#closed);
      }
    }

    terminate(): void {
      this.#stream?.destroy();
      this.#stream = null;
    }
  };
}
