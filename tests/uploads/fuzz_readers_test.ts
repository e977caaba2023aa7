/**
 * The hand-written readers of uploaded bytes under fuzzing (tests/fuzz/readers.ts): a short pass
 * with a fixed seed here (a couple of seconds per reader), the long one as `deno task fuzz`. Then
 * the inputs fuzzing found, each with the fix it needed, as regression cases.
 */
import assert from "node:assert/strict";
import { strToU8, zipSync } from "fflate";
import { InflateError, Inflater } from "../../shared/parsers/inflate.ts";
import { ParseError } from "../../shared/parsers/types.ts";
import { columnOf } from "../../shared/parsers/xlsx.ts";
import {
  readEntryText,
  readZipDirectory,
  ZipFormatError,
} from "../../shared/parsers/zip_reader.ts";
import { docxParts, xlsxParts } from "../fixtures/documents.ts";
import { fuzzReader, isClean, READERS, readOnce, readResumed } from "../fuzz/readers.ts";

const SEED = 24;

for (const reader of READERS) {
  Deno.test(`\`fuzzReader("${reader}")\` finds no crash, hang or resume mismatch (seed ${SEED})`, async () => {
    const run = await fuzzReader(reader, { seed: SEED, numRuns: 400, timeMs: 2_500 });
    assert.equal(run.failure, undefined, run.failure);
    assert.ok(run.stats.inputs >= 20, `only ${run.stats.inputs} inputs`);
    assert.ok(run.stats.ok > 0, "no input was read: the seeds are broken");
  });
}

const fixture = (name: string) =>
  Deno.readFile(new URL(`../fixtures/fuzz/${name}`, import.meta.url));

/** Runs `fn`, which must end within `ms` in a result or a clean error; the error, if any. */
async function bounded(ms: number, fn: () => unknown): Promise<unknown> {
  const t0 = performance.now();
  let error: unknown;
  try {
    await fn();
  } catch (err) {
    error = err;
  }
  const took = performance.now() - t0;
  assert.ok(took < ms, `took ${Math.round(took)} ms`);
  if (error !== undefined) assert.ok(isClean(error), `not a clean error: ${error}`);
  return error;
}

Deno.test("`Inflater` stops at the end of data inside a run of literals", async () => {
  // 17 bytes whose dynamic block runs off the end: read as zeros there, which decoded as literals
  // for ever (8.7 s and gigabytes before a later check).
  const data = await fixture("inflate-1.bin");
  const err = await bounded(1_000, () => {
    const inflater = new Inflater(data);
    while (inflater.next(13));
  });
  assert.ok(err instanceof InflateError);
  assert.match(err.message, /unexpected end of data/);
});

Deno.test("`readZipDirectory()` refuses an entry whose fields run past the file", async () => {
  // Was a RangeError from DataView: the extra field of a central directory entry past the end.
  const err = await bounded(1_000, async () => readZipDirectory(await fixture("zip_reader-1.bin")));
  assert.ok(err instanceof ZipFormatError);
});

Deno.test("`readFile()` reads a DOCX with a list level that is not a number", async () => {
  // Was a RangeError (`counters.length = NaN`) wrapped in a ParseError.
  const data = await fixture("docx-1.bin");
  await bounded(2_000, () => readOnce("docx", data, 4096));
  const doc = docxParts([{ list: ["one", "two"] }]);
  const xml = new TextDecoder().decode(doc["word/document.xml"]).replaceAll(
    /<w:ilvl w:val="\d+"\/>/g,
    '<w:ilvl w:val="x"/>',
  );
  assert.notEqual(xml, new TextDecoder().decode(doc["word/document.xml"]));
  const blocks = await readOnce(
    "docx",
    zipSync({ ...doc, "word/document.xml": strToU8(xml) }),
    4096,
  );
  assert.match(JSON.stringify(blocks), /one/);
});

Deno.test("`readFile()` bounds a DOCX cell's gridSpan to Word's 63 columns", async () => {
  const doc = docxParts([{ table: [["a", "b"], ["1", "2"]] }]);
  const xml = new TextDecoder().decode(doc["word/document.xml"]).replace(
    "<w:tc>",
    '<w:tc><w:tcPr><w:gridSpan w:val="1000000000"/></w:tcPr>',
  );
  const data = zipSync({ ...doc, "word/document.xml": strToU8(xml) });
  await bounded(2_000, async () => {
    const blocks = await readOnce("docx", data, 4096);
    const table = blocks.find((b) => b.kind === "table");
    assert.ok(table && table.header.length <= 64, JSON.stringify(table).slice(0, 200));
  });
});

Deno.test("`readFile()` reads an XLSX with a bad or huge row number and a huge column", async () => {
  const book = xlsxParts([{ name: "S", rows: [["h1", "h2"], ["a", "b"], ["c", "d"]] }]);
  const sheet = new TextDecoder().decode(book["xl/worksheets/sheet1.xml"]);
  for (
    const [from, to] of [
      ['<row r="2"', '<row r="x"'], // NaN: a cursor that could not be saved
      ['<row r="3"', '<row r="1000000000"'], // a billion empty rows filled in
      ['r="B3"', 'r="ZZZZZZZZZZZZ3"'], // a row billions of cells wide
    ]
  ) {
    assert.ok(sheet.includes(from), from);
    const data = zipSync({ ...book, "xl/worksheets/sheet1.xml": strToU8(sheet.replace(from, to)) });
    await bounded(2_000, async () => {
      const one = await readOnce("xlsx", data, 4096);
      const rows = one.flatMap((b) => b.kind === "table" ? b.rows : []);
      assert.ok(rows.length <= 3, `${to}: ${rows.length} rows`);
      assert.deepEqual(await readResumed("xlsx", data, [1, 2], 4096), one, to);
    });
  }
  assert.equal(columnOf("XFD1"), 16_384);
  assert.equal(columnOf("XFE1"), 0);
});

Deno.test("`readFile()` resumes the fuzzed XLSX whose cursor once failed to save", async () => {
  const data = await fixture("xlsx-1.bin");
  await bounded(5_000, async () => {
    let one;
    try {
      one = await readOnce("xlsx", data, 64);
    } catch (err) {
      assert.ok(err instanceof ParseError);
      return;
    }
    for (const allowances of [[1], [2, 5], [7]]) {
      assert.deepEqual(await readResumed("xlsx", data, allowances, 64), one);
    }
  });
});

Deno.test("`readEntryText()` reports corrupt deflate data as InflateError", async () => {
  // The platform's DecompressionStream throws a bare TypeError ("corrupt deflate stream"); the
  // parts read whole (styles, numbering, shared strings) go through it.
  const doc = zipSync(docxParts([{ paragraph: "x".repeat(5000) }]), { level: 6 });
  const entry = readZipDirectory(doc).get("word/document.xml")!;
  const broken = doc.slice();
  const start = entry.localHeaderOffset + 30 + entry.name.length;
  for (let i = start + 2; i < start + 12; i++) broken[i] ^= 0xff;
  const err = await bounded(2_000, () => readEntryText(broken, entry));
  assert.ok(err instanceof InflateError, String(err));
});
