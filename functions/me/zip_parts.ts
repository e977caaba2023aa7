/**
 * A ZIP written in parts, so an export is built over several worker steps: each step writes the
 * local records of its entries (stored, not compressed: the bytes are only copied, so a step's
 * CPU time stays small whatever the size; the uploaded files are mostly compressed formats
 * already) and keeps each entry's central-directory facts; the last step writes the central
 * directory. Concatenated, the parts are one ZIP (no ZIP64: an export stays under 4 GiB).
 */
import nodeZlib from "node:zlib";

/**
 * `zlib.crc32` (Node 22+, in Deno's node:zlib). Typed here because an npm package of the benches
 * brings @types/node 18, whose zlib lacks it, into the project's type check.
 */
const zlib = nodeZlib as typeof nodeZlib & { crc32(data: Uint8Array): number };

/** What the central directory needs of one entry (kept in the export's progress between steps). */
export interface ZipEntry {
  name: string;
  crc: number;
  size: number;
  offset: number;
}

const DOS_DATE = (2026 - 1980) << 9 | 1 << 5 | 1; // 2026-01-01: fixed, exports are dated by name
const UTF8 = 0x0800;

/** The local records (header + data) of `files`, starting at byte `offset` of the ZIP. */
export function zipPart(
  files: { name: string; data: Uint8Array }[],
  offset: number,
): { bytes: Uint8Array; entries: ZipEntry[] } {
  const enc = new TextEncoder();
  const chunks: Uint8Array[] = [];
  const entries: ZipEntry[] = [];
  let at = offset;
  for (const file of files) {
    const name = enc.encode(file.name);
    const crc = zlib.crc32(file.data) >>> 0;
    const header = new Uint8Array(30 + name.length);
    const v = new DataView(header.buffer);
    v.setUint32(0, 0x04034b50, true);
    v.setUint16(4, 20, true);
    v.setUint16(6, UTF8, true);
    v.setUint16(8, 0, true); // stored
    v.setUint16(12, DOS_DATE, true);
    v.setUint32(14, crc, true);
    v.setUint32(18, file.data.length, true);
    v.setUint32(22, file.data.length, true);
    v.setUint16(26, name.length, true);
    header.set(name, 30);
    chunks.push(header, file.data);
    entries.push({ name: file.name, crc, size: file.data.length, offset: at });
    at += header.length + file.data.length;
  }
  return { bytes: concat(chunks), entries };
}

/** The central directory and end record for `entries`, written at byte `offset`. */
export function zipEnd(entries: ZipEntry[], offset: number): Uint8Array {
  const enc = new TextEncoder();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (const e of entries) {
    const name = enc.encode(e.name);
    const rec = new Uint8Array(46 + name.length);
    const v = new DataView(rec.buffer);
    v.setUint32(0, 0x02014b50, true);
    v.setUint16(4, 20, true);
    v.setUint16(6, 20, true);
    v.setUint16(8, UTF8, true);
    v.setUint16(10, 0, true);
    v.setUint16(14, DOS_DATE, true);
    v.setUint32(16, e.crc, true);
    v.setUint32(20, e.size, true);
    v.setUint32(24, e.size, true);
    v.setUint16(28, name.length, true);
    v.setUint32(42, e.offset, true);
    rec.set(name, 46);
    chunks.push(rec);
    size += rec.length;
  }
  const end = new Uint8Array(22);
  const v = new DataView(end.buffer);
  v.setUint32(0, 0x06054b50, true);
  v.setUint16(8, entries.length, true);
  v.setUint16(10, entries.length, true);
  v.setUint32(12, size, true);
  v.setUint32(16, offset, true);
  chunks.push(end);
  return concat(chunks);
}

function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}
