/**
 * Writes shared/reports/fonts.ts: DejaVu Sans regular and bold (TTF, base64) for the report PDFs.
 * DejaVu Sans has ₹ (U+20B9) and the Latin accents; pdf-lib embeds only the glyphs a report uses
 * (`subset: true`), so a PDF carries a few KB of font. The shaping tables (GSUB, GPOS, kern) are
 * dropped: with them fontkit spends milliseconds laying out every string, which a report's
 * hundreds of cells cannot afford within the Edge CPU budget (and a report needs no ligatures).
 *
 *   (cd /tmp && npm pack dejavu-fonts-ttf@2.37.3 && tar xzf dejavu-fonts-ttf-2.37.3.tgz)
 *   npx -y deno@2.9.6 run -A local/build_report_fonts.ts /tmp/package/ttf
 */
import { fontkit } from "../shared/vendor/mod.ts";
import { encodeBase64 } from "../shared/reports/mod.ts";

const dir = Deno.args[0] ?? "/tmp/package/ttf";

/** The TrueType tables a PDF needs; shaping tables (GSUB, GPOS, kern, ...) make layout slow. */
const KEEP = [
  "cmap",
  "glyf",
  "loca",
  "head",
  "hhea",
  "hmtx",
  "maxp",
  "name",
  "OS/2",
  "post",
  "cvt ",
  "fpgm",
  "prep",
];

/** A TrueType font with only the KEEP tables (offsets, padding and checksums recomputed). */
export function stripTables(font: Uint8Array): Uint8Array {
  return rebuild(font, new Map());
}

/** The font with only the KEEP tables, some replaced (offsets, padding, checksums recomputed). */
function rebuild(font: Uint8Array, replaced: Map<string, Uint8Array>): Uint8Array {
  const view = new DataView(font.buffer, font.byteOffset, font.byteLength);
  const numTables = view.getUint16(4);
  const tables: { tag: string; data: Uint8Array }[] = [];
  for (let i = 0; i < numTables; i++) {
    const at = 12 + 16 * i;
    const tag = String.fromCharCode(...font.subarray(at, at + 4));
    if (!KEEP.includes(tag)) continue;
    const offset = view.getUint32(at + 8);
    const length = view.getUint32(at + 12);
    let data = replaced.get(tag) ?? font.slice(offset, offset + length);
    if (tag === "post") {
      // Version 3: no glyph names (thousands of them, parsed by fontkit on every embed).
      data = data.slice(0, 32);
      new DataView(data.buffer).setUint32(0, 0x00030000);
    }
    tables.push({ tag, data });
  }
  tables.sort((a, b) => (a.tag < b.tag ? -1 : 1));
  const pad = (n: number) => (n + 3) & ~3;
  const headerSize = 12 + 16 * tables.length;
  const size = headerSize + tables.reduce((s, t) => s + pad(t.data.length), 0);
  const out = new Uint8Array(size);
  const w = new DataView(out.buffer);
  const log2 = Math.floor(Math.log2(tables.length));
  w.setUint32(0, 0x00010000);
  w.setUint16(4, tables.length);
  w.setUint16(6, 16 * 2 ** log2);
  w.setUint16(8, log2);
  w.setUint16(10, tables.length * 16 - 16 * 2 ** log2);
  const checksum = (bytes: Uint8Array) => {
    const padded = new Uint8Array(pad(bytes.length));
    padded.set(bytes);
    const d = new DataView(padded.buffer);
    let sum = 0;
    for (let i = 0; i < padded.length; i += 4) sum = (sum + d.getUint32(i)) >>> 0;
    return sum;
  };
  let offset = headerSize;
  tables.forEach((t, i) => {
    if (t.tag === "head") new DataView(t.data.buffer).setUint32(8, 0); // checkSumAdjustment
    const at = 12 + 16 * i;
    for (let k = 0; k < 4; k++) out[at + k] = t.tag.charCodeAt(k);
    w.setUint32(at + 4, checksum(t.data));
    w.setUint32(at + 8, offset);
    w.setUint32(at + 12, t.data.length);
    out.set(t.data, offset);
    offset += pad(t.data.length);
  });
  const head = tables.findIndex((t) => t.tag === "head");
  const headOffset = w.getUint32(12 + 16 * head + 8);
  w.setUint32(headOffset + 8, (0xb1b0afba - checksum(out)) >>> 0);
  return out;
}

/** What a report prints: Latin scripts, punctuation, currency signs (₹), arrows, math, shapes. */
const RANGES: [number, number][] = [
  [0x20, 0x7e],
  [0xa0, 0x24f],
  [0x1e00, 0x1eff],
  [0x2000, 0x206f],
  [0x20a0, 0x20bf],
  [0x2100, 0x215f],
  [0x2190, 0x21ff],
  [0x2200, 0x22ff],
  [0x25a0, 0x25ff],
];

/**
 * Empties every glyph outside RANGES (and the components their composite glyphs use): glyph ids,
 * cmap and metrics stay as they are, so the font still maps every code point, but the glyph
 * outlines of scripts a report never prints (Greek, Cyrillic, Arabic, ...) are gone.
 */
export function keepGlyphs(font: Uint8Array): Uint8Array {
  const parsed = fontkit.create(font);
  const keep = new Set<number>([0]);
  for (const [a, b] of RANGES) {
    for (let cp = a; cp <= b; cp++) {
      const id = parsed.glyphForCodePoint(cp).id;
      if (id) keep.add(id);
    }
  }
  const view = new DataView(font.buffer, font.byteOffset, font.byteLength);
  const tables = new Map<string, { offset: number; length: number }>();
  for (let i = 0; i < view.getUint16(4); i++) {
    const at = 12 + 16 * i;
    tables.set(String.fromCharCode(...font.subarray(at, at + 4)), {
      offset: view.getUint32(at + 8),
      length: view.getUint32(at + 12),
    });
  }
  const head = tables.get("head")!;
  const longLoca = view.getInt16(head.offset + 50) === 1;
  const numGlyphs = view.getUint16(tables.get("maxp")!.offset + 4);
  const loca = tables.get("loca")!.offset;
  const glyf = tables.get("glyf")!.offset;
  const at = (
    i: number,
  ) => (longLoca ? view.getUint32(loca + 4 * i) : view.getUint16(loca + 2 * i) * 2);
  // Components of kept composite glyphs are kept too (transitively).
  const queue = [...keep];
  while (queue.length) {
    const id = queue.pop()!;
    const start = glyf + at(id);
    if (at(id + 1) === at(id) || view.getInt16(start) >= 0) continue;
    let p = start + 10;
    for (;;) {
      const flags = view.getUint16(p);
      const component = view.getUint16(p + 2);
      if (!keep.has(component)) {
        keep.add(component);
        queue.push(component);
      }
      p += 4 + (flags & 1 ? 4 : 2) + (flags & 8 ? 2 : flags & 0x40 ? 4 : flags & 0x80 ? 8 : 0);
      if (!(flags & 0x20)) break;
    }
  }
  const parts: Uint8Array[] = [];
  const offsets: number[] = [];
  let size = 0;
  for (let id = 0; id < numGlyphs; id++) {
    offsets.push(size);
    if (!keep.has(id)) continue;
    const data = font.subarray(glyf + at(id), glyf + at(id + 1));
    const padded = new Uint8Array((data.length + 3) & ~3);
    padded.set(data);
    parts.push(padded);
    size += padded.length;
  }
  offsets.push(size);
  const newGlyf = new Uint8Array(size);
  let o = 0;
  for (const part of parts) {
    newGlyf.set(part, o);
    o += part.length;
  }
  const newLoca = new Uint8Array(4 * offsets.length);
  offsets.forEach((v, i) => new DataView(newLoca.buffer).setUint32(4 * i, v));
  const replaced = new Map<string, Uint8Array>([["glyf", newGlyf], ["loca", newLoca]]);
  const headCopy = font.slice(head.offset, head.offset + head.length);
  new DataView(headCopy.buffer).setInt16(50, 1); // long loca
  replaced.set("head", headCopy);
  return rebuild(font, replaced);
}

function load(path: string): Uint8Array {
  const bytes = keepGlyphs(stripTables(Deno.readFileSync(path)));
  const font = fontkit.create(bytes);
  for (const cp of [0x20b9, 0xe9, 0xfc, 0x142, 0x2212]) {
    if (font.glyphForCodePoint(cp).id === 0) throw new Error(`${path} lacks U+${cp.toString(16)}`);
  }
  return bytes;
}

const regular = load(`${dir}/DejaVuSans.ttf`);
const bold = load(`${dir}/DejaVuSans-Bold.ttf`);
const wrap = (s: string) => `  "${s}"`;
const out =
  `// Generated by local/build_report_fonts.ts from dejavu-fonts-ttf@2.37.3 (DejaVu fonts license,
// a Bitstream Vera derivative: free to embed and redistribute). Do not edit.
// deno-fmt-ignore-file

export const DEJAVU_SANS_B64 =
${wrap(encodeBase64(regular))};

export const DEJAVU_SANS_BOLD_B64 =
${wrap(encodeBase64(bold))};
`;
await Deno.writeTextFile(new URL("../shared/reports/fonts.ts", import.meta.url), out);
console.log(`regular ${regular.length} B, bold ${bold.length} B`);
