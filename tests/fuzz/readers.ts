/**
 * Fuzz properties for the readers of our own that face uploaded bytes: the resumable DEFLATE
 * decoder, the ZIP reader and the upload-time ZIP inspector, the XML tokenizer, the PDF syntax
 * checks at upload (page count, stream inflation), and the CSV, XLSX and DOCX readers.
 *
 * Inputs are real fixture files (tests/fixtures/documents.ts) mutated: bit flips, byte sets,
 * insertions, deletions, duplicated ranges, truncation and splices with another seed, capped at
 * MAX_INPUT bytes. Every input must end in a result or a clean error, the reader's own kind
 * (ParseError, ZipFormatError, InflateError, XmlError, HttpError 4xx at upload, or a UTF-8 decode
 * failure); a TypeError or RangeError from inside, or any other throw, is a bug, including when a
 * reader wraps it in a ParseError's `cause`. Each input must finish within PER_INPUT_MS, and
 * the inflater may not produce more than DEFLATE's maximum ratio allows (bounded memory). Where a
 * reader resumes (the index worker saves a cursor between steps, see shared/indexing/step.ts),
 * a read stopped at random points and resumed from its JSON cursor must give what one pass gives;
 * where bytes arrive in chunks (uploads, the tokenizer), any chunking must give what one push
 * gives.
 *
 * Used by tests/uploads/fuzz_readers_test.ts (a short pass with a fixed seed) and tests/fuzz/run.ts
 * (`deno task fuzz`, a longer one).
 *
 * Found and fixed so far (regression cases in tests/uploads/fuzz_readers_test.ts, inputs in
 * tests/fixtures/fuzz/): the Inflater decoded the zeros past the end of data as literals, 17
 * bytes took 8.7 s and gigabytes; readZipDirectory read an entry's name and extra field past the
 * file (RangeError); entryPieces let DecompressionStream's bare TypeError through; XLSX row
 * numbers were not checked (`r="x"` made a cursor JSON could not carry, `r="1e9"` filled a
 * billion rows) nor columns (`ZZZZZZZZ1`); DOCX list levels (`w:ilvl="x"`: RangeError) and
 * gridSpan (1e9 cells) were not bounded. Not bugs, and allowed by the properties: the ZIP
 * inspector's inflated count of a corrupt entry depends on where chunks end (its verdict does
 * not), and a PDF page count outside the upload windows depends on the chunks (null: the worker
 * counts).
 *
 * It unit-tests the parsers' and the upload checks' internals, so it imports them directly.
 */
import fc from "fast-check";
import { deflateSync, inflateSync, strToU8, zipSync } from "fflate";
import { InflateError, Inflater } from "../../shared/parsers/inflate.ts";
import { BlockCollector, ReaderCursor, readFile, UNLIMITED } from "../../shared/parsers/read.ts";
import { ParseError } from "../../shared/parsers/types.ts";
import { XmlError, type XmlHandler, XmlTokenizer } from "../../shared/parsers/xml.ts";
import {
  loadPoint,
  readEntryText,
  readZipDirectory,
  savePoint,
  ZipFormatError,
} from "../../shared/parsers/zip_reader.ts";
import { FileCheck } from "../../functions/workbenches/uploads/checks.ts";
import { countPdfPages, wholePdf } from "../../functions/workbenches/uploads/pdf_pages.ts";
import { ZipInspector } from "../../functions/workbenches/uploads/zip_inspector.ts";
import { HttpError } from "../../shared/http.ts";
import {
  type DocxBlock,
  docxParts,
  makeCsv,
  makeDocx,
  makeEncryptedPdf,
  makeFlatePdf,
  makePdf,
  makeXlsx,
  type PackageParts,
  xlsxParts,
} from "../fixtures/documents.ts";

/** Inputs are cut to this size: every reader is linear, so this bounds time and memory. */
export const MAX_INPUT = 96 * 1024;
/** One input taking longer than this is a hang. */
export const PER_INPUT_MS = 3_000;

// --- seeds ---------------------------------------------------------------------------------

/** A file of the repository (real files: the sample report, the report fixtures). */
const repoFile = (path: string) => Deno.readFileSync(new URL(`../../${path}`, import.meta.url));

const words = (n: number, salt: string) =>
  Array.from({ length: n }, (_, i) => `${salt}${i} ünïcödé & <x> "q"`).join(" ");

function docxBlocks(): DocxBlock[] {
  return [
    { title: "Quarterly review" },
    { heading: "Revenue", level: 1 },
    { paragraph: words(40, "rev") },
    { list: ["first", "second", "third"], ordered: true },
    { heading: "Costs", level: 2 },
    { table: [["Item", "Q1", "Q2"], ["Rent", "10", "12"], ["Staff", "50", "55"]] },
    { paragraph: "line\nbreak\ttab" },
  ];
}

function docxPackages(): PackageParts[] {
  return [docxParts(docxBlocks()), docxParts(docxBlocks(), { wordMarkup: true })];
}

function docxSeeds(): Uint8Array[] {
  const blocks = docxBlocks();
  return [
    makeDocx(blocks),
    makeDocx(blocks, { wordMarkup: true }),
    // Stored (method 0) entries and a big document part (several DEFLATE blocks).
    zipSync(docxParts(blocks), { level: 0 }),
    makeDocx([
      ...blocks,
      ...Array.from({ length: 60 }, (_, i) => ({ paragraph: words(30, `p${i}`) })),
    ]),
  ];
}

function xlsxSheets() {
  return [
    {
      name: "P&L",
      rows: [
        ["Account", "Jan", "Feb", "Note"],
        ["Revenue", 100.5, 200, "ok"],
        ["Costs", -50, { formula: "B3*2", result: -100 }, null],
        ["Date", new Date("2024-03-01T00:00:00Z"), true, { inline: ["rich", " text"] }],
        ["Err", { error: "#DIV/0!" }, 3, "ünï"],
      ],
    },
    {
      name: "Big",
      rows: [
        ["id", "name", "value"],
        ...Array.from({ length: 400 }, (_, i) => [i, `name ${i}`, i * 1.5]),
      ],
    },
  ];
}

function xlsxSeeds(): Uint8Array[] {
  const sheets = xlsxSheets();
  return [
    makeXlsx(sheets),
    zipSync(xlsxParts(sheets), { level: 0 }),
    repoFile("tests/fixtures/reports/pnl.xlsx"),
  ];
}

function xlsxPackages(): PackageParts[] {
  return [xlsxParts(xlsxSheets()), xlsxParts([{ name: "S", rows: [["a", "b"], [1, 2]] }])];
}

function csvSeeds(): Uint8Array[] {
  return [
    makeCsv(["id", "name", "amount"], [[1, "a, b", 3], [2, 'say "hi"', 4], [3, "multi\nline", 5]]),
    makeCsv(
      ["k", "v"],
      Array.from({ length: 300 }, (_, i) => [`key ${i}`, words(2, "v")]),
    ),
    new TextEncoder().encode("\ufeffa;b;c\n1;2;3\n4;5;6\n"),
    new TextEncoder().encode("x\ty\n1\t2\n"),
    repoFile("tests/fixtures/reports/bank_statement.csv"),
    repoFile("tests/fixtures/reports/pnl.csv"),
  ];
}

function pdfSeeds(): Uint8Array[] {
  return [
    makePdf([["Hello"], ["Page two", "more"]]),
    makeFlatePdf([["flate page"], ["two"]], { padBytes: 20_000, imageBytes: 400 }),
    makeEncryptedPdf(),
    // Written by our report renderer: an xref stream and object streams (pdf_syntax's deep end).
    repoFile("docs/sample-report.pdf"),
  ];
}

function xmlSeeds(): string[] {
  const dec = new TextDecoder();
  const parts = [
    ...Object.entries(docxParts([{ heading: "H" }, { paragraph: "text & more" }, {
      table: [["a", "b"]],
    }], { wordMarkup: true })),
    ...Object.entries(xlsxParts([{ name: "S", rows: [["a", 1], ["b", { inline: "c" }]] }])),
  ];
  return [
    ...parts.filter(([name]) => name.endsWith(".xml") || name.endsWith(".rels")).map(([, b]) =>
      dec.decode(b)
    ),
    '<?xml version="1.0"?><!-- c --><a x="1" y=\'2\'><![CDATA[<raw>]]>&#x41;&#66;&amp;<b/></a>',
  ];
}

function deflateSeeds(): Uint8Array[] {
  const text = strToU8(words(300, "w"));
  const xml = docxParts([{ paragraph: words(200, "x") }])["word/document.xml"];
  return [
    deflateSync(text, { level: 0 }),
    deflateSync(text, { level: 1 }),
    deflateSync(xml, { level: 6 }),
    deflateSync(xml, { level: 9 }),
    deflateSync(new Uint8Array(70_000).fill(32), { level: 9 }),
    deflateSync(new Uint8Array(0)),
  ];
}

let cachedSeeds: Record<string, Uint8Array[]> | undefined;
function seeds(): Record<string, Uint8Array[]> {
  const enc = new TextEncoder();
  return cachedSeeds ??= {
    deflate: deflateSeeds(),
    zip: [...docxSeeds(), ...xlsxSeeds()],
    xml: xmlSeeds().map((s) => enc.encode(s)),
    pdf: pdfSeeds(),
    csv: csvSeeds(),
    xlsx: xlsxSeeds(),
    docx: docxSeeds(),
  };
}

// --- mutations -----------------------------------------------------------------------------

type Op =
  | { op: "flip"; at: number; bit: number }
  | { op: "set"; at: number; value: number }
  | { op: "insert"; at: number; bytes: Uint8Array }
  | { op: "delete"; at: number; len: number }
  | { op: "dup"; at: number; len: number; to: number }
  | { op: "truncate"; at: number }
  | { op: "splice"; seed: number; from: number; len: number; at: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({ op: fc.constant("flip" as const), at: fc.nat(), bit: fc.nat(7) }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constant("set" as const),
      at: fc.nat(),
      value: fc.constantFrom(0, 1, 0x7f, 0x80, 0xff, 0x3c, 0x3e, 0x22, 0x26, 0x2c, 0x0a, 0x2f),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant("insert" as const),
      at: fc.nat(),
      bytes: fc.uint8Array({ minLength: 1, maxLength: 24 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant("delete" as const),
      at: fc.nat(),
      len: fc.integer({ min: 1, max: 300 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant("dup" as const),
      at: fc.nat(),
      len: fc.integer({ min: 1, max: 2000 }),
      to: fc.nat(),
    }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("truncate" as const), at: fc.nat() }) },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant("splice" as const),
      seed: fc.nat(),
      from: fc.nat(),
      len: fc.integer({ min: 1, max: 4000 }),
      at: fc.nat(),
    }),
  },
);

function applyOps(seed: Uint8Array, ops: Op[], pool: Uint8Array[]): Uint8Array {
  let b = seed;
  for (const o of ops) {
    const pos = (n: number) => (b.length === 0 ? 0 : n % (b.length + 1));
    switch (o.op) {
      case "flip":
        if (b.length) {
          b = b.slice();
          b[o.at % b.length] ^= 1 << o.bit;
        }
        break;
      case "set":
        if (b.length) {
          b = b.slice();
          b[o.at % b.length] = o.value;
        }
        break;
      case "insert": {
        const at = pos(o.at);
        b = concat([b.subarray(0, at), o.bytes, b.subarray(at)]);
        break;
      }
      case "delete": {
        const at = pos(o.at);
        b = concat([b.subarray(0, at), b.subarray(at + o.len)]);
        break;
      }
      case "dup": {
        const at = pos(o.at);
        const piece = b.subarray(at, at + o.len);
        const to = pos(o.to);
        b = concat([b.subarray(0, to), piece, b.subarray(to)]);
        break;
      }
      case "truncate":
        b = b.subarray(0, pos(o.at));
        break;
      case "splice": {
        const other = pool[o.seed % pool.length];
        const from = other.length ? o.from % other.length : 0;
        const at = pos(o.at);
        b = concat([b.subarray(0, at), other.subarray(from, from + o.len), b.subarray(at)]);
        break;
      }
    }
  }
  return b.length > MAX_INPUT ? b.subarray(0, MAX_INPUT) : b;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** A seed, mutated (or not: 1 in 10 inputs is a seed as it is, checking the seeds work). */
function inputArb(pool: Uint8Array[]): fc.Arbitrary<Uint8Array> {
  return fc.record({
    seed: fc.nat(pool.length - 1),
    ops: fc.oneof({ weight: 1, arbitrary: fc.constant([] as Op[]) }, {
      weight: 9,
      arbitrary: fc.array(opArb, { minLength: 1, maxLength: 6 }),
    }),
  }).map(({ seed, ops }) => applyOps(pool[seed], ops, pool));
}

// --- what counts as clean ------------------------------------------------------------------

/** A reader's own error for bad input (see the module comment); false for a bug. */
export function isClean(err: unknown): boolean {
  if (err instanceof ParseError) return err.cause === undefined || isClean(err.cause);
  if (
    err instanceof ZipFormatError || err instanceof InflateError || err instanceof XmlError
  ) return true;
  if (err instanceof HttpError) return err.status >= 400 && err.status < 500;
  // TextDecoder({ fatal: true }) on bytes that are not UTF-8.
  return err instanceof TypeError && /encoded data (is|was) not valid/i.test(err.message);
}

function kindOf(err: unknown): string {
  let e = err;
  while (e instanceof ParseError && e.cause !== undefined) e = e.cause;
  if (e instanceof HttpError) return `HttpError ${e.status} ${e.code}`;
  if (e instanceof TypeError) return "Utf8Error";
  return e instanceof Error ? e.name : typeof e;
}

export interface ReaderStats {
  inputs: number;
  ok: number;
  errors: Record<string, number>;
  maxMs: number;
}

class Tally {
  stats: ReaderStats = { inputs: 0, ok: 0, errors: {}, maxMs: 0 };
  ok(): void {
    this.stats.ok++;
  }
  error(err: unknown): void {
    if (!isClean(err)) throw err;
    const k = kindOf(err);
    this.stats.errors[k] = (this.stats.errors[k] ?? 0) + 1;
  }
  /** Runs one input: counts it, times it (a slow input fails even when it ends well). */
  async time<T>(fn: () => Promise<T>): Promise<T> {
    this.stats.inputs++;
    const t0 = performance.now();
    let result: T;
    try {
      result = await fn();
    } finally {
      this.stats.maxMs = Math.max(this.stats.maxMs, Math.round(performance.now() - t0));
    }
    const ms = performance.now() - t0;
    if (ms > PER_INPUT_MS) throw new Error(`one input took ${Math.round(ms)} ms`);
    return result;
  }
}

function fail(message: string): never {
  throw new Error(message);
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

// --- properties ----------------------------------------------------------------------------

/** Everything the inflater produces, `want` bytes at a time; throws what it throws. */
function inflateAll(data: Uint8Array, want: number): Uint8Array {
  const inf = new Inflater(data);
  const parts: Uint8Array[] = [];
  let total = 0;
  for (let piece = inf.next(want); piece; piece = inf.next(want)) {
    parts.push(piece.slice());
    total += piece.length;
    // DEFLATE cannot expand past 1032:1 (258 bytes from a 2-bit code at best).
    if (total > 1100 * data.length + 65_536) fail(`inflated ${total} bytes from ${data.length}`);
  }
  return concat(parts);
}

const deflateProperty = (t: Tally, pool: Uint8Array[]) =>
  fc.asyncProperty(
    inputArb(pool),
    fc.integer({ min: 1, max: 70_000 }),
    fc.double({ min: 0, max: 1, noNaN: true }),
    (data, want, where) =>
      t.time(async () => {
        let out: Uint8Array;
        try {
          out = inflateAll(data, want);
        } catch (err) {
          return t.error(err);
        }
        t.ok();
        let reference: Uint8Array | undefined;
        try {
          reference = inflateSync(data);
        } catch {
          // fflate refuses what we accept: only a difference when both decode
        }
        if (reference && !sameBytes(reference, out)) fail("output differs from fflate's");
        // Resume from a checkpoint at a random output offset, through its saved (JSON) form.
        const at = Math.floor(where * out.length);
        const first = new Inflater(data);
        first.next(1); // a checkpoint needs a block started
        while (first.produced < at && first.next(Math.max(1, at - first.produced)));
        const saved = JSON.parse(JSON.stringify(savePoint(first.checkpoint(at))));
        const point = loadPoint(saved);
        const resumed = new Inflater(data, point);
        const rest: Uint8Array[] = [];
        for (let p = resumed.next(want); p; p = resumed.next(want)) rest.push(p.slice());
        if (!sameBytes(concat(rest), out.subarray(point.out))) {
          fail(`resumed from output ${point.out} (asked ${at}) differs`);
        }
        await Promise.resolve();
      }),
  );

const zipProperty = (t: Tally, pool: Uint8Array[]) =>
  fc.asyncProperty(inputArb(pool), (data) =>
    t.time(async () => {
      try {
        const entries = readZipDirectory(data);
        let n = 0;
        for (const entry of entries.values()) {
          if (n++ >= 16) break;
          await readEntryText(data, entry);
        }
        t.ok();
      } catch (err) {
        t.error(err);
      }
    }));

/** Chunk sizes to split an input by (cycled), for streaming invariance. */
const chunkingArb = fc.array(fc.integer({ min: 1, max: 9000 }), { minLength: 1, maxLength: 6 });

function chunks(data: Uint8Array, sizes: number[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let at = 0, i = 0; at < data.length; i++) {
    const n = sizes[i % sizes.length];
    out.push(data.slice(at, at + n));
    at += n;
  }
  return out;
}

const zipInspectorProperty = (t: Tally, pool: Uint8Array[]) =>
  fc.asyncProperty(inputArb(pool), chunkingArb, (data, sizes) =>
    t.time(async () => {
      const inspect = async (parts: Uint8Array[]) => {
        const z = new ZipInspector({ inflateCap: 10 * 1024 * 1024 });
        for (const p of parts) {
          z.push(p);
          await z.settle();
        }
        return await z.finish();
      };
      try {
        // What a corrupt entry inflates to before it fails depends on where the chunks end: the
        // count may differ, the verdict may not.
        const verdict = ({ inflatedBytes: _, ...rest }: Awaited<ReturnType<typeof inspect>>) =>
          rest;
        const whole = verdict(await inspect([data]));
        const split = verdict(await inspect(chunks(data, sizes)));
        if (JSON.stringify(whole) !== JSON.stringify(split)) {
          fail(`chunked inspection differs: ${JSON.stringify([whole, split])}`);
        }
        t.ok();
      } catch (err) {
        t.error(err);
      }
    }));

type XmlEvent = [string, string, string?];

class Recorder implements XmlHandler {
  events: XmlEvent[] = [];
  constructor(private readonly stopAfter = Infinity) {}
  #count(tok: XmlTokenizer) {
    if (this.events.length >= this.stopAfter) tok.stop();
  }
  open(name: string, tok: XmlTokenizer, selfClosing: boolean): void {
    const attrs = ["r", "t", "w:val", "x", "Id", "Target"].map((a) => tok.attr(a) ?? "").join("|");
    this.events.push([selfClosing ? "empty" : "open", name, attrs]);
    this.#count(tok);
  }
  close(name: string, tok: XmlTokenizer): void {
    this.events.push(["close", name]);
    this.#count(tok);
  }
  text(text: string, tok: XmlTokenizer): void {
    const last = this.events[this.events.length - 1];
    if (last?.[0] === "text") last[1] += text;
    else this.events.push(["text", text]);
    this.#count(tok);
  }
}

/** Tokenizes `bytes` (UTF-8) from byte `start` in chunks; the recorder's events. */
function tokenize(bytes: Uint8Array, start: number, sizes: number[], rec: Recorder): XmlTokenizer {
  const tok = new XmlTokenizer(rec, start);
  tok.wantText = true;
  const dec = new TextDecoder("utf-8", { fatal: true, ignoreBOM: start > 0 });
  for (const part of chunks(bytes.subarray(start), sizes)) {
    tok.push(dec.decode(part, { stream: true }));
    tok.run(false);
    if (tok.stopped) return tok;
  }
  tok.push(dec.decode());
  tok.run(true);
  if (!tok.stopped) tok.checkComplete();
  return tok;
}

const xmlProperty = (t: Tally, pool: Uint8Array[]) =>
  fc.asyncProperty(
    inputArb(pool),
    chunkingArb,
    fc.nat(),
    (raw, sizes, stopAt) =>
      t.time(async () => {
        // Valid UTF-8 (the readers decode with fatal: true before tokenizing).
        const data = new TextEncoder().encode(new TextDecoder().decode(raw));
        const one = new Recorder();
        try {
          tokenize(data, 0, [data.length || 1], one);
        } catch (err) {
          return t.error(err);
        }
        t.ok();
        const split = new Recorder();
        tokenize(data, 0, sizes, split);
        if (JSON.stringify(split.events) !== JSON.stringify(one.events)) {
          fail("chunked tokenizing differs from one push");
        }
        // Stop after a random event, resume from resumeOffset() with a new tokenizer.
        if (one.events.length === 0) return;
        const first = new Recorder(1 + (stopAt % one.events.length));
        const tok = tokenize(data, 0, sizes, first);
        if (!tok.stopped) return;
        const rest = new Recorder();
        tokenize(data, tok.resumeOffset(), sizes, rest);
        const joined = [...first.events];
        for (const e of rest.events) {
          const last = joined[joined.length - 1];
          if (e[0] === "text" && last?.[0] === "text") last[1] += e[1];
          else joined.push(e);
        }
        if (JSON.stringify(joined) !== JSON.stringify(one.events)) {
          fail(`resumed at byte ${tok.resumeOffset()} differs from one pass`);
        }
        await Promise.resolve();
      }),
  );

type Verdict = Awaited<ReturnType<typeof checkUpload>> | string;

/**
 * Whether two checks of the same bytes agree. A page count outside the head and tail windows is
 * left to the worker (null, or no page-limit refusal at upload), and what the windows hold
 * depends on the chunks; a count both give must agree.
 */
function sameVerdict(a: Verdict, b: Verdict): boolean {
  const uncounted = (v: Verdict) =>
    v === "pdf_too_many_pages" || (typeof v === "object" && v.pages === null);
  if (uncounted(a) || uncounted(b)) {
    const strip = (v: Verdict) => typeof v === "object" ? { ...v, pages: null } : v;
    if (uncounted(a) && uncounted(b)) return true;
    if (a === "pdf_too_many_pages" || b === "pdf_too_many_pages") {
      return typeof a === "object" || typeof b === "object";
    }
    return JSON.stringify(strip(a)) === JSON.stringify(strip(b));
  }
  return JSON.stringify(a) === JSON.stringify(b);
}

async function checkUpload(name: string, parts: Uint8Array[], pdfWindowBytes?: number) {
  const check = new FileCheck(name, undefined, pdfWindowBytes ? { pdfWindowBytes } : {});
  for (const p of parts) await check.push(p);
  return await check.finish();
}

const uploadProperty = (t: Tally, pool: Uint8Array[], name: string) =>
  fc.asyncProperty(
    inputArb(pool),
    chunkingArb,
    fc.constantFrom(undefined, 512, 4096),
    (data, sizes, window) =>
      t.time(async () => {
        const counted = countPdfPages(wholePdf(data)); // never throws, its contract says
        if (counted.pages !== null && !(Number.isInteger(counted.pages) && counted.pages >= 0)) {
          fail(`page count ${counted.pages}`);
        }
        let whole: Verdict;
        try {
          whole = await checkUpload(name, [data], window);
        } catch (err) {
          t.error(err);
          whole = err instanceof HttpError ? err.code : "error";
        }
        let split: Verdict;
        try {
          split = await checkUpload(name, chunks(data, sizes), window);
        } catch (err) {
          if (!isClean(err)) throw err;
          split = err instanceof HttpError ? err.code : "error";
        }
        if (!sameVerdict(whole, split)) {
          fail(`chunked upload check differs: ${JSON.stringify([whole, split])}`);
        }
        if (typeof whole !== "string") t.ok();
      }),
  );

type ReadType = "csv" | "xlsx" | "docx";

/** A budget that says "exhausted" after `allow` questions. */
function budgetOf(allow: number) {
  let asked = 0;
  return { exhausted: () => asked++ >= allow, pause: () => Promise.resolve() };
}

/**
 * Reads `data` stopped by the budget again and again (after `allowances[i]` questions on the i-th
 * read), resumed each time from the cursor saved as JSON and read back as the worker does; the
 * blocks. Throws when the reads stop making progress.
 */
export async function readResumed(
  type: ReadType,
  data: Uint8Array,
  allowances: number[],
  sliceBytes: number,
): Promise<BlockCollector["blocks"]> {
  const resumed = new BlockCollector();
  let cursor: ReaderCursor | undefined;
  for (let step = 0;; step++) {
    if (step > 20_000) fail("resumed reads make no progress");
    const budget = budgetOf(allowances[step % allowances.length]);
    const r = await readFile(type, data, cursor, resumed, budget, { sliceBytes });
    if (r.done) return resumed.blocks;
    cursor = ReaderCursor.parse(JSON.parse(JSON.stringify(r.cursor)));
  }
}

/** One pass to the end; the blocks. */
export async function readOnce(type: ReadType, data: Uint8Array, sliceBytes: number) {
  const one = new BlockCollector();
  await readFile(type, data, undefined, one, UNLIMITED, { sliceBytes });
  return one.blocks;
}

const readerProperty = (t: Tally, arb: fc.Arbitrary<Uint8Array>, type: ReadType) =>
  fc.asyncProperty(
    arb,
    fc.array(fc.integer({ min: 1, max: 12 }), { minLength: 1, maxLength: 5 }),
    fc.constantFrom(64, 333, 4096),
    (data, allowances, sliceBytes) =>
      t.time(async () => {
        let one;
        try {
          one = await readOnce(type, data, sliceBytes);
        } catch (err) {
          return t.error(err);
        }
        t.ok();
        const resumed = await readResumed(type, data, allowances, sliceBytes);
        if (JSON.stringify(resumed) !== JSON.stringify(one)) {
          fail("a resumed read differs from one pass");
        }
      }),
  );

/**
 * Structure-aware inputs for the Office readers: one part of a seed package mutated, the package
 * zipped again (stored or deflated), so the mutations reach the XML handlers past the ZIP layer.
 */
function packageArb(pool: PackageParts[], raw: Uint8Array[]): fc.Arbitrary<Uint8Array> {
  const rezipped = fc.record({
    pkg: fc.nat(pool.length - 1),
    part: fc.nat(),
    ops: fc.array(opArb, { minLength: 1, maxLength: 4 }),
    level: fc.constantFrom(0 as const, 6 as const),
  }).map(({ pkg, part, ops, level }) => {
    const parts = { ...pool[pkg] };
    const names = Object.keys(parts);
    const name = names[part % names.length];
    parts[name] = applyOps(parts[name], ops, Object.values(parts));
    return zipSync(parts, { level });
  });
  return fc.oneof(inputArb(raw), rezipped);
}

// --- running -------------------------------------------------------------------------------

export const READERS = [
  "inflate",
  "zip_reader",
  "zip_inspector",
  "xml",
  "pdf_upload",
  "office_upload",
  "csv",
  "xlsx",
  "docx",
] as const;
export type ReaderName = typeof READERS[number];

// deno-lint-ignore no-explicit-any
type AnyProperty = fc.IAsyncPropertyWithHooks<any>;

function property(name: ReaderName, t: Tally): AnyProperty {
  const s = seeds();
  switch (name) {
    case "inflate":
      return deflateProperty(t, s.deflate);
    case "zip_reader":
      return zipProperty(t, s.zip);
    case "zip_inspector":
      return zipInspectorProperty(t, s.zip);
    case "xml":
      return xmlProperty(t, s.xml);
    case "pdf_upload":
      return uploadProperty(t, s.pdf, "report.pdf");
    case "office_upload":
      return uploadProperty(t, s.zip, "book.xlsx");
    case "csv":
      return readerProperty(t, inputArb(s.csv), "csv");
    case "xlsx":
      return readerProperty(t, packageArb(xlsxPackages(), s.xlsx), "xlsx");
    case "docx":
      return readerProperty(t, packageArb(docxPackages(), s.docx), "docx");
  }
}

export interface FuzzRun {
  reader: ReaderName;
  stats: ReaderStats;
  /** fast-check's report of the first failure (shrunk), if any. */
  failure?: string;
  /** The failing input's bytes. */
  input?: Uint8Array;
}

/** Fuzzes one reader for `numRuns` inputs or `timeMs`, whichever ends first. */
export async function fuzzReader(
  reader: ReaderName,
  opts: { seed: number; numRuns: number; timeMs?: number },
): Promise<FuzzRun> {
  const tally = new Tally();
  const details = await fc.check(property(reader, tally), {
    seed: opts.seed,
    numRuns: opts.numRuns,
    interruptAfterTimeLimit: opts.timeMs,
    markInterruptAsFailure: false,
    endOnFailure: false,
  });
  if (!details.failed) return { reader, stats: tally.stats };
  const [input, ...rest] = details.counterexample ?? [];
  const error = details.errorInstance;
  return {
    reader,
    stats: tally.stats,
    failure: `${error instanceof Error ? error.stack : String(error)}\n` +
      `input: ${(input as Uint8Array).length} bytes, other arguments: ${fc.stringify(rest)}\n` +
      `seed ${details.seed}, path ${details.counterexamplePath}`,
    input: input as Uint8Array,
  };
}
