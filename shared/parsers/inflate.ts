/**
 * A raw DEFLATE decoder (RFC 1951) that can stop and later resume in the middle of a stream.
 *
 * Resuming: a deflate stream can be decoded from the start of any of its blocks, given the 32 KiB
 * of output before it (the window that back-references may reach into). `checkpoint(at)` gives,
 * for an output offset the caller has reached, the last block start at or before it with its
 * window; a later step builds an Inflater from that checkpoint and skips at most one block of
 * output to get back to `at`. So a resumed read of a large ZIP entry costs the size of its own
 * slice, not the size of everything before it (with an inflater that can only start at the
 * beginning, the last steps of a 150 MB document.xml would spend most of their CPU budget
 * re-inflating what earlier steps already read).
 *
 * The decoder works block by block with table-driven Huffman decoding (one lookup per symbol).
 */

export class InflateError extends Error {
  override name = "InflateError";
}

/** Where a resumed Inflater starts: a block start and the output before it. */
export interface InflatePoint {
  /** Bit offset of a block header in the compressed data. */
  bit: number;
  /** Output offset at that block start. */
  out: number;
  /** The (up to) 32 KiB of output just before `out`. */
  window: Uint8Array;
}

const WINDOW = 32768;

const LEN_BASE = new Uint16Array([
  3,
  4,
  5,
  6,
  7,
  8,
  9,
  10,
  11,
  13,
  15,
  17,
  19,
  23,
  27,
  31,
  35,
  43,
  51,
  59,
  67,
  83,
  99,
  115,
  131,
  163,
  195,
  227,
  258,
]);
const LEN_EXTRA = new Uint8Array([
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  1,
  1,
  1,
  1,
  2,
  2,
  2,
  2,
  3,
  3,
  3,
  3,
  4,
  4,
  4,
  4,
  5,
  5,
  5,
  5,
  0,
]);
const DIST_BASE = new Uint16Array([
  1,
  2,
  3,
  4,
  5,
  7,
  9,
  13,
  17,
  25,
  33,
  49,
  65,
  97,
  129,
  193,
  257,
  385,
  513,
  769,
  1025,
  1537,
  2049,
  3073,
  4097,
  6145,
  8193,
  12289,
  16385,
  24577,
]);
const DIST_EXTRA = new Uint8Array([
  0,
  0,
  0,
  0,
  1,
  1,
  2,
  2,
  3,
  3,
  4,
  4,
  5,
  5,
  6,
  6,
  7,
  7,
  8,
  8,
  9,
  9,
  10,
  10,
  11,
  11,
  12,
  12,
  13,
  13,
]);
const CL_ORDER = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15];

interface Table {
  /** Indexed by the next `bits` input bits: symbol << 4 | code length (0: invalid code). */
  entries: Uint16Array;
  bits: number;
}

/** Builds the lookup table of a canonical Huffman code from its code lengths. */
function buildTable(lengths: Uint8Array, count: number): Table {
  let max = 0;
  for (let i = 0; i < count; i++) if (lengths[i] > max) max = lengths[i];
  if (max === 0) return { entries: new Uint16Array(2), bits: 1 }; // every code invalid
  const perLength = new Uint16Array(max + 1);
  for (let i = 0; i < count; i++) perLength[lengths[i]]++;
  perLength[0] = 0;
  const next = new Uint16Array(max + 1);
  let code = 0;
  for (let len = 1; len <= max; len++) {
    code = (code + perLength[len - 1]) << 1;
    next[len] = code;
  }
  const size = 1 << max;
  const entries = new Uint16Array(size);
  for (let symbol = 0; symbol < count; symbol++) {
    const len = lengths[symbol];
    if (len === 0) continue;
    let c = next[len]++;
    let reversed = 0;
    for (let i = 0; i < len; i++) {
      reversed = (reversed << 1) | (c & 1);
      c >>= 1;
    }
    const entry = (symbol << 4) | len;
    for (let i = reversed; i < size; i += 1 << len) entries[i] = entry;
  }
  return { entries, bits: max };
}

const FIXED_LIT = (() => {
  const lengths = new Uint8Array(288);
  lengths.fill(8, 0, 144);
  lengths.fill(9, 144, 256);
  lengths.fill(7, 256, 280);
  lengths.fill(8, 280, 288);
  return buildTable(lengths, 288);
})();
const FIXED_DIST = buildTable(new Uint8Array(30).fill(5), 30);

export class Inflater {
  /** Bit position in `data`. */
  private bit: number;
  private final = false;
  /** Output kept: buf[0..len) is output offsets [base, base + len). */
  private buf: Uint8Array;
  private len: number;
  private base: number;
  /** Block starts whose output may still be asked for a checkpoint. */
  private blocks: Array<{ bit: number; out: number }> = [];
  /** Output offset below which no checkpoint will be asked (see `release`). */
  private low: number;

  constructor(private readonly data: Uint8Array, from?: InflatePoint) {
    const window = from?.window ?? new Uint8Array(0);
    this.bit = from?.bit ?? 0;
    this.buf = new Uint8Array(Math.max(1 << 20, window.length * 2));
    this.buf.set(window);
    this.len = window.length;
    this.base = (from?.out ?? 0) - window.length;
    this.low = from?.out ?? 0;
  }

  /** Output offset of the next byte to be produced. */
  get produced(): number {
    return this.base + this.len;
  }

  get done(): boolean {
    return this.final;
  }

  /** The consumer will not ask for a checkpoint before output offset `offset`. */
  release(offset: number): void {
    if (offset > this.low) this.low = offset;
  }

  /**
   * The last block start at or before output offset `at` (which must be at or after the last
   * `release`d offset and not beyond what was produced), with its window.
   */
  checkpoint(at: number): InflatePoint {
    let block: { bit: number; out: number } | undefined;
    for (const b of this.blocks) if (b.out <= at) block = b;
    if (!block || at > this.produced) throw new RangeError(`no checkpoint for offset ${at}`);
    const from = Math.max(block.out - WINDOW, this.base);
    return {
      bit: block.bit,
      out: block.out,
      window: this.buf.slice(from - this.base, block.out - this.base),
    };
  }

  /**
   * Decodes whole blocks until at least `want` more bytes were produced or the stream ended;
   * returns the new output (a view, valid until the next call), or null at the end.
   */
  next(want: number): Uint8Array | null {
    if (this.final) return null;
    this.compact();
    const start = this.len;
    while (!this.final && this.len - start < want) this.block();
    return this.buf.subarray(start, this.len);
  }

  /** Drops output nobody can need any more: before the window of the block holding `low`. */
  private compact(): void {
    let keepBlock = 0;
    for (let i = 0; i < this.blocks.length; i++) if (this.blocks[i].out <= this.low) keepBlock = i;
    if (keepBlock > 0) this.blocks.splice(0, keepBlock);
    const keepFrom = this.blocks.length > 0
      ? Math.max(this.base, this.blocks[0].out - WINDOW)
      : Math.max(this.base, this.produced - WINDOW);
    const drop = keepFrom - this.base;
    if (drop > (1 << 20)) {
      this.buf.copyWithin(0, drop, this.len);
      this.len -= drop;
      this.base += drop;
    }
  }

  private ensure(extra: number): void {
    if (this.len + extra <= this.buf.length) return;
    const bigger = new Uint8Array(Math.max(this.buf.length * 2, this.len + extra));
    bigger.set(this.buf.subarray(0, this.len));
    this.buf = bigger;
  }

  private bits(count: number): number {
    const d = this.data;
    const p = this.bit;
    const i = p >> 3;
    const v = (d[i] | (d[i + 1] << 8) | (d[i + 2] << 16) | (d[i + 3] << 24)) >>> (p & 7);
    this.bit = p + count;
    return v & ((1 << count) - 1);
  }

  private block(): void {
    const d = this.data;
    if (this.bit >= d.length * 8) throw new InflateError("unexpected end of data");
    this.blocks.push({ bit: this.bit, out: this.produced });
    this.final = this.bits(1) === 1;
    const type = this.bits(2);
    if (type === 0) {
      this.bit = (this.bit + 7) & ~7;
      const i = this.bit >> 3;
      if (i + 4 > d.length) throw new InflateError("unexpected end of data");
      const len = d[i] | (d[i + 1] << 8);
      const nlen = d[i + 2] | (d[i + 3] << 8);
      if ((len ^ 0xffff) !== nlen) throw new InflateError("bad stored block length");
      if (i + 4 + len > d.length) throw new InflateError("unexpected end of data");
      this.ensure(len);
      this.buf.set(d.subarray(i + 4, i + 4 + len), this.len);
      this.len += len;
      this.bit = (i + 4 + len) * 8;
      return;
    }
    if (type === 1) return this.codes(FIXED_LIT, FIXED_DIST);
    if (type === 2) return this.dynamic();
    throw new InflateError("bad block type");
  }

  private dynamic(): void {
    const hlit = this.bits(5) + 257;
    const hdist = this.bits(5) + 1;
    const hclen = this.bits(4) + 4;
    const clLengths = new Uint8Array(19);
    for (let i = 0; i < hclen; i++) clLengths[CL_ORDER[i]] = this.bits(3);
    const cl = buildTable(clLengths, 19);
    const lengths = new Uint8Array(hlit + hdist);
    for (let i = 0; i < hlit + hdist;) {
      const e = cl.entries[this.peek(cl.bits)];
      if (e === 0) throw new InflateError("bad code lengths");
      this.bit += e & 15;
      const sym = e >> 4;
      if (sym < 16) lengths[i++] = sym;
      else {
        let repeat: number;
        let value = 0;
        if (sym === 16) {
          if (i === 0) throw new InflateError("bad code lengths");
          value = lengths[i - 1];
          repeat = 3 + this.bits(2);
        } else if (sym === 17) repeat = 3 + this.bits(3);
        else repeat = 11 + this.bits(7);
        if (i + repeat > hlit + hdist) throw new InflateError("bad code lengths");
        lengths.fill(value, i, i + repeat);
        i += repeat;
      }
    }
    const lit = buildTable(lengths.subarray(0, hlit), hlit);
    const dist = buildTable(lengths.subarray(hlit), hdist);
    this.codes(lit, dist);
  }

  private peek(count: number): number {
    const d = this.data;
    const p = this.bit;
    const i = p >> 3;
    return ((d[i] | (d[i + 1] << 8) | (d[i + 2] << 16) | (d[i + 3] << 24)) >>> (p & 7)) &
      ((1 << count) - 1);
  }

  /** Decodes literal/length and distance codes up to the end-of-block code. */
  private codes(lit: Table, dist: Table): void {
    const d = this.data;
    const end = d.length * 8;
    const litEntries = lit.entries;
    const litMask = (1 << lit.bits) - 1;
    const distEntries = dist.entries;
    const distMask = (1 << dist.bits) - 1;
    let bit = this.bit;
    let buf = this.buf;
    let len = this.len;
    while (true) {
      if (len + 258 > buf.length) {
        this.len = len;
        this.ensure(1 << 20);
        buf = this.buf;
      }
      let i = bit >> 3;
      let e = litEntries[
        ((d[i] | (d[i + 1] << 8) | (d[i + 2] << 16)) >>> (bit & 7)) & litMask
      ];
      if (e === 0) throw new InflateError("bad literal/length code");
      bit += e & 15;
      // Checked for literals too: past the end the data reads as zeros, and a code of zeros can
      // be a literal, which would fill memory from a few bytes (found by fuzzing).
      if (bit > end) throw new InflateError("unexpected end of data");
      const sym = e >> 4;
      if (sym < 256) {
        buf[len++] = sym;
        continue;
      }
      if (sym === 256) break;
      const li = sym - 257;
      if (li >= 29) throw new InflateError("bad length code");
      let length = LEN_BASE[li];
      const lx = LEN_EXTRA[li];
      if (lx > 0) {
        i = bit >> 3;
        length += ((d[i] | (d[i + 1] << 8)) >>> (bit & 7)) & ((1 << lx) - 1);
        bit += lx;
      }
      i = bit >> 3;
      e = distEntries[((d[i] | (d[i + 1] << 8) | (d[i + 2] << 16)) >>> (bit & 7)) & distMask];
      if (e === 0) throw new InflateError("bad distance code");
      bit += e & 15;
      const di = e >> 4;
      if (di >= 30) throw new InflateError("bad distance code");
      let distance = DIST_BASE[di];
      const dx = DIST_EXTRA[di];
      if (dx > 0) {
        i = bit >> 3;
        distance += ((d[i] | (d[i + 1] << 8) | (d[i + 2] << 16)) >>> (bit & 7)) &
          ((1 << dx) - 1);
        bit += dx;
      }
      if (distance > len) throw new InflateError("distance before the window");
      let from = len - distance;
      if (length >= 64 && distance >= length) {
        buf.copyWithin(len, from, from + length); // a runtime call: only worth it for long copies
        len += length;
      } else {
        for (const stop = len + length; len < stop;) buf[len++] = buf[from++];
      }
      if (bit > end) throw new InflateError("unexpected end of data");
    }
    if (bit > end) throw new InflateError("unexpected end of data");
    this.bit = bit;
    this.len = len;
  }
}
