/**
 * Random access to the entries of a ZIP archive (an Office Open XML package) held in memory: the
 * central directory is read once; small entries are inflated whole with the platform's native
 * `DecompressionStream("deflate-raw")`; large ones (a sheet, document.xml) are read with
 * `EntryReader`, which can resume at an output offset from a checkpoint (see inflate.ts) instead
 * of inflating everything before it again.
 *
 * Measured on the development machine (2 shared cores): native inflation ~150 MB/s of output,
 * fflate's JavaScript inflate ~25–50 MB/s warm and ~10 MB/s on a cold isolate. Re-inflating from
 * the start to reach a 100 MB offset would cost a resumed step ~0.7 s of its CPU budget; reading
 * from a checkpoint costs only the step's own slice.
 */
import { deflateSync } from "fflate";
import { InflateError, type InflatePoint, Inflater } from "./inflate.ts";

export interface ZipEntry {
  name: string;
  /** 0 = stored, 8 = deflate. */
  method: number;
  compressedSize: number;
  /** The declared uncompressed size (may lie; only used for progress). */
  size: number;
  localHeaderOffset: number;
}

/** The bytes are not a ZIP archive this reader understands. */
export class ZipFormatError extends Error {
  override name = "ZipFormatError";
}

const EOCD = 0x06054b50;
const CEN = 0x02014b50;
const LOC = 0x04034b50;
const ZIP64_LOCATOR = 0x07064b50;
const ZIP64_EOCD = 0x06064b50;

/** Reads the central directory: entry names (as written) to entries. */
export function readZipDirectory(bytes: Uint8Array): Map<string, ZipEntry> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const min = Math.max(0, bytes.length - 22 - 0xffff);
  let eocd = -1;
  for (let i = bytes.length - 22; i >= min; i--) {
    if (view.getUint32(i, true) === EOCD) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new ZipFormatError("no end of central directory");
  let count = view.getUint16(eocd + 10, true);
  let dirOffset = view.getUint32(eocd + 16, true);
  if ((count === 0xffff || dirOffset === 0xffffffff) && eocd >= 20) {
    if (view.getUint32(eocd - 20, true) === ZIP64_LOCATOR) {
      const at = Number(view.getBigUint64(eocd - 12, true));
      if (at + 56 > bytes.length || view.getUint32(at, true) !== ZIP64_EOCD) {
        throw new ZipFormatError("bad ZIP64 directory");
      }
      count = Number(view.getBigUint64(at + 32, true));
      dirOffset = Number(view.getBigUint64(at + 48, true));
    }
  }
  const entries = new Map<string, ZipEntry>();
  const decoder = new TextDecoder();
  let p = dirOffset;
  for (let n = 0; n < count; n++) {
    if (p + 46 > bytes.length || view.getUint32(p, true) !== CEN) {
      throw new ZipFormatError("bad central directory");
    }
    const method = view.getUint16(p + 10, true);
    let compressedSize = view.getUint32(p + 20, true);
    let size = view.getUint32(p + 24, true);
    const nameLength = view.getUint16(p + 28, true);
    const extraLength = view.getUint16(p + 30, true);
    const commentLength = view.getUint16(p + 32, true);
    let localHeaderOffset = view.getUint32(p + 42, true);
    // The name, extra field and comment must be inside the file (found by fuzzing: they were
    // read past its end).
    if (p + 46 + nameLength + extraLength + commentLength > bytes.length) {
      throw new ZipFormatError("bad central directory");
    }
    const name = decoder.decode(bytes.subarray(p + 46, p + 46 + nameLength));
    // ZIP64 extra field: the 64-bit values, in order, for the fields that are 0xffffffff.
    let e = p + 46 + nameLength;
    const extraEnd = e + extraLength;
    while (e + 4 <= extraEnd) {
      const id = view.getUint16(e, true);
      const len = view.getUint16(e + 2, true);
      if (id === 1) {
        let q = e + 4;
        const fieldEnd = Math.min(extraEnd, q + len);
        const next = () => {
          if (q + 8 > fieldEnd) throw new ZipFormatError("bad ZIP64 extra field");
          const v = Number(view.getBigUint64(q, true));
          q += 8;
          return v;
        };
        if (size === 0xffffffff) size = next();
        if (compressedSize === 0xffffffff) compressedSize = next();
        if (localHeaderOffset === 0xffffffff) localHeaderOffset = next();
      }
      e += 4 + len;
    }
    entries.set(name, { name, method, compressedSize, size, localHeaderOffset });
    p = extraEnd + commentLength;
  }
  return entries;
}

/** Finds an entry by name, ignoring case and a leading slash (part names are case-insensitive). */
export function findEntry(entries: Map<string, ZipEntry>, name: string): ZipEntry | undefined {
  const wanted = name.replace(/^\//, "");
  const exact = entries.get(wanted);
  if (exact) return exact;
  const lower = wanted.toLowerCase();
  for (const [key, entry] of entries) if (key.toLowerCase() === lower) return entry;
  return undefined;
}

/** The entry's compressed bytes. */
function entryData(bytes: Uint8Array, entry: ZipEntry): Uint8Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const at = entry.localHeaderOffset;
  if (at + 30 > bytes.length || view.getUint32(at, true) !== LOC) {
    throw new ZipFormatError("bad local header");
  }
  const start = at + 30 + view.getUint16(at + 26, true) + view.getUint16(at + 28, true);
  const end = start + entry.compressedSize;
  if (end > bytes.length) throw new ZipFormatError("truncated entry");
  return bytes.subarray(start, end);
}

/** Compressed input is handed to the inflater this much at a time (bounds each output piece). */
const FEED_BYTES = 32 * 1024;

/**
 * The entry's content from byte `skip` on, as pieces. Inflation is driven by the consumer: stop
 * iterating and the rest is never inflated.
 */
export async function* entryPieces(
  bytes: Uint8Array,
  entry: ZipEntry,
  skip = 0,
): AsyncGenerator<Uint8Array> {
  const data = entryData(bytes, entry);
  if (entry.method === 0) {
    for (let i = skip; i < data.length; i += 1024 * 1024) {
      yield data.subarray(i, Math.min(data.length, i + 1024 * 1024));
    }
    return;
  }
  if (entry.method !== 8) throw new ZipFormatError(`compression method ${entry.method}`);
  const stream = new DecompressionStream("deflate-raw");
  const writer = stream.writable.getWriter() as WritableStreamDefaultWriter<BufferSource>;
  const reader = stream.readable.getReader();
  let failed: unknown;
  // The platform's decoder rejects bad data with a bare TypeError ("corrupt deflate stream"):
  // said as the error the file deserves, as our own Inflater says it.
  const corrupt = (err: unknown) =>
    new InflateError(`corrupt deflate data in ${entry.name}`, { cause: err });
  // Writes wait on the readable side's backpressure, so the feeder stays about one piece ahead.
  const feeding = (async () => {
    for (let i = 0; i < data.length; i += FEED_BYTES) {
      // (the archive's bytes are an ordinary ArrayBuffer, never a SharedArrayBuffer)
      await writer.write(data.subarray(i, Math.min(data.length, i + FEED_BYTES)) as BufferSource);
    }
    await writer.close();
  })().catch((err) => {
    failed ??= corrupt(err);
  });
  let seen = 0;
  try {
    while (true) {
      const { value, done } = await reader.read().catch((err) => {
        throw corrupt(err);
      });
      if (done) break;
      const start = seen;
      seen += value.length;
      if (seen <= skip) continue;
      yield start >= skip ? value : value.subarray(skip - start);
    }
    await feeding;
    if (failed) throw failed;
  } finally {
    await reader.cancel().catch(() => {});
    await feeding;
  }
}

/** The whole (small) entry as text. */
export async function readEntryText(bytes: Uint8Array, entry: ZipEntry): Promise<string> {
  const decoder = new TextDecoder("utf-8", { fatal: true });
  let text = "";
  for await (const piece of entryPieces(bytes, entry)) {
    text += decoder.decode(piece, { stream: true });
  }
  return text + decoder.decode();
}

/** An inflate checkpoint as JSON: the window is deflated and base64-encoded (~5–10 KB of XML). */
export interface SavedPoint {
  bit: number;
  out: number;
  window: string;
}

function toBase64(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(s);
}

function fromBase64(text: string): Uint8Array {
  const s = atob(text);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

export function savePoint(point: InflatePoint): SavedPoint {
  return { bit: point.bit, out: point.out, window: toBase64(deflateSync(point.window)) };
}

export function loadPoint(saved: SavedPoint): InflatePoint {
  const window = new Inflater(fromBase64(saved.window)).next(Infinity) ?? new Uint8Array(0);
  return { bit: saved.bit, out: saved.out, window: window.slice() };
}

/** Output handed out per piece. */
const PIECE_BYTES = 256 * 1024;

/**
 * Reads a (large) entry from an output offset, from the start or from a checkpoint saved by an
 * earlier reader, and can give a checkpoint for any offset it has reached since the last
 * `release` (stored entries need none: the offset is enough).
 */
export class EntryReader {
  private readonly data: Uint8Array;
  private readonly inflater: Inflater | undefined;

  constructor(
    bytes: Uint8Array,
    private readonly entry: ZipEntry,
    private readonly offset: number,
    point?: SavedPoint,
  ) {
    this.data = entryData(bytes, entry);
    if (entry.method === 8) {
      const from = point ? loadPoint(point) : undefined;
      if (from && from.out > offset) throw new RangeError("checkpoint after the offset");
      this.inflater = new Inflater(this.data, from);
    } else if (entry.method !== 0) {
      throw new ZipFormatError(`compression method ${entry.method}`);
    }
  }

  /** The content from the offset on, in pieces (views valid until the next piece). */
  *pieces(): Generator<Uint8Array> {
    if (!this.inflater) {
      for (let i = this.offset; i < this.data.length; i += PIECE_BYTES) {
        yield this.data.subarray(i, Math.min(this.data.length, i + PIECE_BYTES));
      }
      return;
    }
    const inflater = this.inflater;
    while (true) {
      const start = inflater.produced;
      const piece = inflater.next(PIECE_BYTES);
      if (piece === null) return;
      if (start + piece.length <= this.offset) {
        inflater.release(start + piece.length);
        continue;
      }
      yield start >= this.offset ? piece : piece.subarray(this.offset - start);
    }
  }

  /** No checkpoint will be asked before `offset`. */
  release(offset: number): void {
    this.inflater?.release(offset);
  }

  checkpoint(at: number): SavedPoint | undefined {
    return this.inflater ? savePoint(this.inflater.checkpoint(at)) : undefined;
  }
}
