/** Unit tests of the document parsers in shared/parsers, run on real generated files. */
import assert from "node:assert/strict";
import { zipSync } from "fflate";
import {
  extract,
  extractCsv,
  extractDocx,
  extractPdf,
  extractPlainText,
  extractXlsx,
  type FileType,
  ParseError,
  pdfPageCount,
  type ReadBudget,
  ReaderCursor,
  readFile,
  type TableBlock,
  type TextBlock,
} from "../../shared/parsers/mod.ts";
// Internals under unit test, imported past the face.
import { InflateError, Inflater } from "../../shared/parsers/inflate.ts";
import { type CsvCursor, readCsv } from "../../shared/parsers/csv.ts";
import { XmlTokenizer } from "../../shared/parsers/xml.ts";
import { loadPoint, savePoint } from "../../shared/parsers/zip_reader.ts";
import {
  detectFileType,
  MIME_TYPES,
  sniffFileType,
} from "../../functions/workbenches/uploads/file_type.ts";
import { zipExpandedSize, zipInflatedSize } from "../../functions/workbenches/uploads/zip.ts";
import { chunkBlocks, Chunker, type ChunkerState } from "../../shared/chunking.ts";
import { makeCsv, makeDocx, makeEncryptedPdf, makePdf, makeXlsx } from "../fixtures/documents.ts";

const utf8 = (text: string) => new TextEncoder().encode(text);
const INVALID_UTF8 = new Uint8Array([0x68, 0x69, 0xff, 0xfe, 0x20, 0xc3, 0x28]);
const PNG = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d]);
const GARBAGE = new Uint8Array(Array.from({ length: 512 }, (_, i) => (i * 7919 + 13) % 256));

/** Awaits a rejection that must be a ParseError with exactly `message`, fit to show to users. */
async function assertParseError(promise: Promise<unknown>, message: string): Promise<void> {
  const error = await promise.then(
    () => assert.fail(`expected ParseError("${message}"), but it resolved`),
    (e: unknown) => e,
  );
  assert.ok(error instanceof ParseError, `expected a ParseError, got ${error}`);
  assert.equal(error.name, "ParseError");
  assert.equal(error.message, message);
  assert.doesNotMatch(error.message, /error:/i, "no 'Error:' prefix");
  assert.doesNotMatch(error.message, /\n|\bat .+:\d+/, "no stack trace");
  assert.doesNotMatch(error.message, /[/\\]|file:|node_modules|\.(js|ts|mjs)\b/, "no file paths");
  assert.ok(error.message.length <= 80, "short");
}

function textBlocks(blocks: unknown[]): TextBlock[] {
  return blocks.filter((b): b is TextBlock => (b as TextBlock).kind === "text");
}

// ---------------------------------------------------------------------------------------------
// PDF

Deno.test("`extractPdf()` returns one block per page", async () => {
  const pdf = makePdf([
    ["Quarterly report", "Revenue grew (a lot) in Q3"],
    ["Second page, café", "Path C:\\temp and more"],
  ]);
  const result = await extractPdf(pdf);
  assert.equal(result.pageCount, 2);
  assert.deepEqual(result.blocks, [
    { kind: "text", text: "Quarterly report\nRevenue grew (a lot) in Q3", page: 1 },
    { kind: "text", text: "Second page, café\nPath C:\\temp and more", page: 2 },
  ]);
});

Deno.test("`extractPdf()` normalises whitespace and skips pages without text", async () => {
  const result = await extractPdf(makePdf([["spaced    out\twords  "], [], ["   "], ["last"]]));
  assert.equal(result.pageCount, 4);
  assert.deepEqual(result.blocks, [
    { kind: "text", text: "spaced out words", page: 1 },
    { kind: "text", text: "last", page: 4 },
  ]);
});

Deno.test("`extractPdf()` extracts only the requested page range", async () => {
  const pdf = makePdf(Array.from({ length: 6 }, (_, i) => [`page number ${i + 1}`]));
  const middle = await extractPdf(pdf, { fromPage: 2, toPage: 4 });
  assert.equal(middle.pageCount, 6);
  assert.deepEqual(middle.blocks.map((b) => (b as TextBlock).page), [2, 3, 4]);
  assert.equal((middle.blocks[0] as TextBlock).text, "page number 2");

  const tail = await extractPdf(pdf, { fromPage: 5 });
  assert.deepEqual(tail.blocks.map((b) => (b as TextBlock).text), [
    "page number 5",
    "page number 6",
  ]);
  const head = await extractPdf(pdf, { toPage: 1 });
  assert.deepEqual(head.blocks.map((b) => (b as TextBlock).page), [1]);
  const clamped = await extractPdf(pdf, { fromPage: 6, toPage: 99 });
  assert.deepEqual(clamped.blocks.map((b) => (b as TextBlock).page), [6]);
  const past = await extractPdf(pdf, { fromPage: 7 });
  assert.deepEqual(past, { blocks: [], pageCount: 6 });
});

Deno.test("`extractPdf()` rejects a malformed page range as a programming error", async () => {
  const pdf = makePdf([["a"], ["b"]]);
  await assert.rejects(extractPdf(pdf, { fromPage: 0 }), RangeError);
  await assert.rejects(extractPdf(pdf, { fromPage: 1.5 }), RangeError);
  await assert.rejects(extractPdf(pdf, { fromPage: 2, toPage: 1 }), RangeError);
});

Deno.test("`extractPdf()` leaves the caller's bytes intact", async () => {
  const pdf = makePdf([["keep me"]]);
  const copy = pdf.slice();
  await extractPdf(pdf);
  assert.equal(pdf.byteLength, copy.byteLength);
  assert.deepEqual(pdf, copy);
  // The same bytes can be read again.
  assert.equal(await pdfPageCount(pdf), 1);
});

Deno.test("`extractPdf()` reads a 120-page document", async () => {
  const pages = Array.from(
    { length: 120 },
    (_, p) => Array.from({ length: 30 }, (_, l) => `page ${p + 1} line ${l + 1} lorem ipsum`),
  );
  const result = await extractPdf(makePdf(pages));
  assert.equal(result.pageCount, 120);
  assert.equal(result.blocks.length, 120);
  const last = result.blocks[119] as TextBlock;
  assert.equal(last.page, 120);
  assert.equal(last.text.split("\n").length, 30);
  assert.ok(last.text.endsWith("page 120 line 30 lorem ipsum"));
});

Deno.test("`pdfPageCount()` counts the pages", async () => {
  assert.equal(await pdfPageCount(makePdf([["one"]])), 1);
  assert.equal(await pdfPageCount(makePdf([["a"], [], ["c"], ["d"], ["e"]])), 5);
});

Deno.test("`extractPdf()` reports an encrypted PDF", async () => {
  await assertParseError(extractPdf(makeEncryptedPdf()), "PDF is encrypted");
  await assertParseError(pdfPageCount(makeEncryptedPdf()), "PDF is encrypted");
});

Deno.test("`extractPdf()` rejects bytes that are not a PDF", async () => {
  await assertParseError(extractPdf(GARBAGE), "file is not a valid PDF");
  await assertParseError(extractPdf(utf8("just some text")), "file is not a valid PDF");
  await assertParseError(extractPdf(new Uint8Array(0)), "file is not a valid PDF");
  await assertParseError(extractPdf(utf8("%PDF-1.7\nbroken")), "file is not a valid PDF");
  await assertParseError(pdfPageCount(PNG), "file is not a valid PDF");
});

// ---------------------------------------------------------------------------------------------
// DOCX

Deno.test("`extractDocx()` groups paragraphs under their heading", async () => {
  const docx = makeDocx([
    { paragraph: "Preface before any heading" },
    { heading: "Introduction" },
    { paragraph: "First paragraph." },
    { paragraph: "Second paragraph." },
    { heading: "Details", level: 2 },
    { paragraph: 'Deeper <text> & "quotes" it\'s' },
  ]);
  const { blocks } = await extractDocx(docx);
  assert.deepEqual(blocks, [
    { kind: "text", text: "Preface before any heading" },
    {
      kind: "text",
      text: "Introduction\n\nFirst paragraph.\n\nSecond paragraph.",
      heading: "Introduction",
    },
    { kind: "text", text: 'Details\n\nDeeper <text> & "quotes" it\'s', heading: "Details" },
  ]);
});

Deno.test("`extractDocx()` maps every heading level and keeps headings without body", async () => {
  const docx = makeDocx([1, 2, 3, 4, 5, 6].map((level) => ({ heading: `Level ${level}`, level })));
  const { blocks } = await extractDocx(docx);
  assert.deepEqual(
    blocks,
    [1, 2, 3, 4, 5, 6].map((n) => ({ kind: "text", text: `Level ${n}`, heading: `Level ${n}` })),
  );
});

Deno.test("`extractDocx()` returns tables with their heading", async () => {
  const docx = makeDocx([
    { heading: "Prices" },
    { paragraph: "See below." },
    { table: [["Item", "Price"], ["Apple", "1.20"], ["Pear & Quince", "2"]] },
    { paragraph: "Prices include VAT." },
  ]);
  const { blocks } = await extractDocx(docx);
  assert.deepEqual(blocks, [
    { kind: "text", text: "Prices\n\nSee below.", heading: "Prices" },
    {
      kind: "table",
      heading: "Prices",
      header: ["Item", "Price"],
      rows: [["Apple", "1.20"], ["Pear & Quince", "2"]],
      firstRow: 2,
    },
    { kind: "text", text: "Prices include VAT.", heading: "Prices" },
  ]);
});

Deno.test("`extractDocx()` rejects a file that is not a Word document", async () => {
  const renamedText = utf8("This is a plain text file renamed to report.docx\n");
  await assertParseError(extractDocx(renamedText), "file is not a valid DOCX");
  await assertParseError(extractDocx(new Uint8Array(0)), "file is not a valid DOCX");
  await assertParseError(extractDocx(GARBAGE), "file is not a valid DOCX");
  const workbook = makeXlsx([{ name: "S", rows: [["a"]] }]);
  await assertParseError(extractDocx(workbook), "file is not a valid DOCX");
});

Deno.test("`extractDocx()` rejects a document without text", async () => {
  await assertParseError(extractDocx(makeDocx([])), "the document has no text");
  const blank = makeDocx([{ paragraph: "   " }, { table: [["", ""], [" ", ""]] }]);
  await assertParseError(extractDocx(blank), "the document has no text");
});

Deno.test("`extractDocx()` renders lists, line breaks, tabs and the Title style", async () => {
  const docx = makeDocx([
    { title: "Annual plan" },
    { paragraph: "Line one\nline\ttwo" },
    { list: ["first", "second"], ordered: true },
    { list: ["nested point"], level: 1 },
    { list: ["third"], ordered: true },
  ]);
  const { blocks } = await extractDocx(docx);
  assert.deepEqual(blocks, [{
    kind: "text",
    heading: "Annual plan",
    text:
      "Annual plan\n\nLine one\nline two\n\n1. first\n\n2. second\n\n  - nested point\n\n3. third",
  }]);
});

Deno.test("`extractDocx()` skips deleted text, field codes and duplicate alternate content", async () => {
  const run = (text: string) => `<w:r><w:t xml:space="preserve">${text}</w:t></w:r>`;
  const docx = makeDocx([
    {
      xml: `<w:p>${run("Kept")}<w:del><w:r><w:delText>gone</w:delText></w:r></w:del>` +
        `<w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:instrText> PAGE </w:instrText></w:r>` +
        `<w:r><w:fldChar w:fldCharType="separate"/></w:r>${run(" 7")}` +
        `<w:r><w:fldChar w:fldCharType="end"/></w:r>` +
        `<w:r><mc:AlternateContent xmlns:mc="x"><mc:Choice Requires="wps">${run("twice")}` +
        `</mc:Choice><mc:Fallback>${run(" once")}</mc:Fallback></mc:AlternateContent></w:r>` +
        `<w:moveFrom>${run("moved away")}</w:moveFrom></w:p>`,
    },
    {
      xml: `<w:tbl><w:tblGrid><w:gridCol/><w:gridCol/><w:gridCol/></w:tblGrid>` +
        `<w:tr><w:tc><w:p>${run("A")}</w:p></w:tc><w:tc><w:p>${run("B")}</w:p></w:tc>` +
        `<w:tc><w:p>${run("C")}</w:p></w:tc></w:tr>` +
        `<w:tr><w:tc><w:tcPr><w:gridSpan w:val="2"/></w:tcPr><w:p>${run("wide")}</w:p>` +
        `<w:p>${run("cell")}</w:p></w:tc><w:tc><w:p>${run("3")}</w:p></w:tc></w:tr></w:tbl>`,
    },
  ]);
  const { blocks } = await extractDocx(docx);
  assert.deepEqual(blocks, [
    { kind: "text", text: "Kept 7 once" },
    { kind: "table", header: ["A", "B", "C"], rows: [["wide cell", "", "3"]], firstRow: 2 },
  ]);
});

Deno.test("`extractDocx()` rejects a damaged document", async () => {
  const docx = makeDocx([{ paragraph: "some text that will be cut" }]);
  await assertParseError(
    extractDocx(docx.subarray(0, docx.length - 30)),
    "file is not a valid DOCX",
  );
  const broken = makeDocx([{ xml: "<w:p><w:r><w:t>unclosed</w:r></w:p>" }]);
  await assertParseError(extractDocx(broken), "file is not a valid DOCX");
});

// ---------------------------------------------------------------------------------------------
// XLSX

Deno.test("`extractXlsx()` returns one table per sheet with data", async () => {
  const xlsx = makeXlsx([
    {
      name: "People & Co",
      rows: [
        ["Name", "Age", "Joined", "Last seen", "Active"],
        ["Ann", 31, new Date("2021-04-05T00:00:00Z"), new Date("2024-01-02T03:04:05Z"), true],
        ["  Bob  ", 2.5, null, null, false],
      ],
    },
    { name: "Blank", rows: [] },
    { name: "Totals", rows: [["Total"], [-1234.5]] },
  ]);
  const { blocks } = await extractXlsx(xlsx);
  assert.deepEqual(blocks, [
    {
      kind: "table",
      sheet: "People & Co",
      header: ["Name", "Age", "Joined", "Last seen", "Active"],
      rows: [
        ["Ann", "31", "2021-04-05", "2024-01-02T03:04:05", "TRUE"],
        ["Bob", "2.5", "", "", "FALSE"],
      ],
      firstRow: 2,
    },
    { kind: "table", sheet: "Totals", header: ["Total"], rows: [["-1234.5"]], firstRow: 2 },
  ]);
});

Deno.test("`extractXlsx()` finds the table where it starts and keeps row numbers", async () => {
  const xlsx = makeXlsx([{
    name: "Offset",
    rows: [
      [],
      [null, null],
      [null, "id", null, "value"],
      [null, 1, "x", "a"],
      [],
      [null, 2, null, "b", "extra"],
    ],
  }]);
  const { blocks } = await extractXlsx(xlsx);
  assert.deepEqual(blocks, [{
    kind: "table",
    sheet: "Offset",
    header: ["id", "column 2", "value", "column 4"],
    rows: [["1", "x", "a", ""], ["", "", "", ""], ["2", "", "b", "extra"]],
    firstRow: 4,
  }]);
});

Deno.test("`extractXlsx()` reads inline strings, formulas' cached values, errors and dates", async () => {
  const xlsx = makeXlsx([{
    name: "Calc",
    rows: [
      ["label", "value"],
      [{ inline: "inline" }, { inline: ["rich ", "text"] }],
      ["sum", { formula: "SUM(B9:B10)", result: 42.5 }],
      ["name", { formula: 'A1&"!"', result: "label!" }],
      ["check", { formula: "B3>1", result: true }],
      ["never calculated", { formula: "1+1" }],
      ["error", { error: "#DIV/0!" }],
      ["day", new Date("2024-02-29T00:00:00Z")],
      ["moment", new Date("2024-02-29T13:14:15Z")],
    ],
  }]);
  const { blocks } = await extractXlsx(xlsx);
  assert.deepEqual((blocks[0] as TableBlock).rows, [
    ["inline", "rich text"],
    ["sum", "42.5"],
    ["name", "label!"],
    ["check", "TRUE"],
    ["never calculated", ""],
    ["error", "#DIV/0!"],
    ["day", "2024-02-29"],
    ["moment", "2024-02-29T13:14:15"],
  ]);
});

Deno.test("`extractXlsx()` names sheets from workbook.xml and follows their relationships", async () => {
  const xlsx = makeXlsx([
    { name: "Ünïcode & <sheet>", rows: [["a"], [1]] },
    { name: "Second", rows: [["b"], [2]] },
  ]);
  // Swap the relationship targets: sheet order and names come from workbook.xml, parts from rels.
  const { unzipSync, zipSync: zip, strFromU8, strToU8 } = await import("fflate");
  const files = unzipSync(xlsx);
  const rels = strFromU8(files["xl/_rels/workbook.xml.rels"]);
  files["xl/_rels/workbook.xml.rels"] = strToU8(
    rels.replace("worksheets/sheet1.xml", "TMP").replace(
      "worksheets/sheet2.xml",
      "worksheets/sheet1.xml",
    )
      .replace("TMP", "worksheets/sheet2.xml"),
  );
  const { blocks } = await extractXlsx(zip(files));
  assert.deepEqual(blocks.map((b) => [(b as TableBlock).sheet, (b as TableBlock).header]), [
    ["Ünïcode & <sheet>", ["b"]],
    ["Second", ["a"]],
  ]);
});

Deno.test("`extractXlsx()` without a dimension takes the columns from the header", async () => {
  const xlsx = makeXlsx([{
    name: "S",
    dimension: false,
    rows: [[null, "id", "name"], [null, 1, "x", "extra"], [null, 2]],
  }]);
  const { blocks } = await extractXlsx(xlsx);
  assert.deepEqual(blocks, [{
    kind: "table",
    sheet: "S",
    header: ["id", "name"],
    rows: [["1", "x", "extra"], ["2", ""]],
    firstRow: 2,
  }]);
});

Deno.test("`extractXlsx()` rejects a damaged workbook", async () => {
  const xlsx = makeXlsx([{ name: "S", rows: [["a"], ["b"]] }]);
  await assertParseError(
    extractXlsx(xlsx.subarray(0, xlsx.length - 30)),
    "file is not a valid XLSX",
  );
  const { unzipSync, zipSync: zip, strToU8 } = await import("fflate");
  const files = unzipSync(xlsx);
  files["xl/worksheets/sheet1.xml"] = strToU8("<worksheet><sheetData><row><c><v>1</v></row>");
  await assertParseError(extractXlsx(zip(files)), "file is not a valid XLSX");
});

Deno.test("`extractXlsx()` rejects a file that is not a workbook", async () => {
  await assertParseError(extractXlsx(GARBAGE), "file is not a valid XLSX");
  await assertParseError(extractXlsx(new Uint8Array(0)), "file is not a valid XLSX");
  await assertParseError(extractXlsx(utf8("a,b\n1,2\n")), "file is not a valid XLSX");
  await assertParseError(extractXlsx(makeDocx([{ paragraph: "x" }])), "file is not a valid XLSX");
});

Deno.test("`extractXlsx()` rejects a workbook without data", async () => {
  const empty = makeXlsx([{ name: "One", rows: [] }, { name: "Two", rows: [[null, "  "]] }]);
  await assertParseError(extractXlsx(empty), "the workbook has no data");
});

// ---------------------------------------------------------------------------------------------
// CSV

Deno.test("`extractCsv()` returns the header and rows of a CSV file", async () => {
  const csv = makeCsv(["name", "", "note"], [
    ["Smith, Ann", 42, 'said "hi"'],
    ["  Bob ", 7, "two\nlines"],
  ]);
  const { blocks } = await extractCsv(csv);
  assert.deepEqual(blocks, [{
    kind: "table",
    header: ["name", "column 2", "note"],
    rows: [["Smith, Ann", "42", 'said "hi"'], ["Bob", "7", "two\nlines"]],
    firstRow: 2,
  }]);
});

Deno.test("`extractCsv()` detects the delimiter, drops the BOM and keeps empty lines as rows", async () => {
  const csv = utf8("\ufeffcity;population\r\n\r\nParis;2100000\r\n;\r\nLyon;520000\r\n\r\n");
  const { blocks } = await extractCsv(csv);
  assert.deepEqual(blocks, [{
    kind: "table",
    header: ["city", "population"],
    rows: [["", ""], ["Paris", "2100000"], ["", ""], ["Lyon", "520000"]],
    firstRow: 2,
  }]);
  const tabs = await extractCsv(utf8("a\tb\n1\t2\n"));
  assert.deepEqual((tabs.blocks[0] as TableBlock).rows, [["1", "2"]]);
});

Deno.test("`readCsv()` numbers rows as the file does across blank lines and steps", async () => {
  const csv = utf8("\n\nitem,amount\nRent,1200\n\n\nTravel,300\n\n");
  const { blocks } = await extractCsv(csv);
  const table = blocks[0] as TableBlock;
  assert.equal(table.firstRow, 4);
  const travel = table.rows.findIndex((r) => r[0] === "Travel");
  assert.equal(table.firstRow + travel, 7, "Travel is on line 7 of the file");
  assert.equal(table.rows.length, 4, "blank lines after the last row are dropped");
  // Read one record per step: the blanks between steps are kept in the cursor.
  const rows: string[][] = [];
  let first = 0;
  const sink = {
    text() {},
    tableStart(t: { firstRow: number }) {
      first = t.firstRow;
    },
    row(cells: string[]) {
      rows.push(cells);
    },
    tableEnd() {},
  };
  let cursor: CsvCursor | undefined;
  for (let i = 0; i < 20; i++) {
    let spent = false;
    const r = await readCsv(csv, cursor, sink, {
      exhausted: () => spent,
      pause: () => {
        spent = true;
        return Promise.resolve();
      },
    }, 1);
    if (r.done) break;
    cursor = r.cursor;
  }
  assert.deepEqual([first, rows], [table.firstRow, table.rows]);
});

Deno.test("`extractCsv()` pads ragged rows to the widest row", async () => {
  const { blocks } = await extractCsv(utf8("a,b\n1\n2,3,4\n"));
  assert.deepEqual(blocks, [{
    kind: "table",
    header: ["a", "b", "column 3"],
    rows: [["1", "", ""], ["2", "3", "4"]],
    firstRow: 2,
  }]);
});

Deno.test("`extractCsv()` rejects an empty file with a readable message", async () => {
  await assertParseError(extractCsv(new Uint8Array(0)), "the CSV file is empty");
  await assertParseError(extractCsv(utf8("\ufeff\n\r\n  \n")), "the CSV file is empty");
});

Deno.test("`extractCsv()` rejects a header without rows", async () => {
  await assertParseError(extractCsv(utf8("a,b,c\n")), "the CSV file has a header but no rows");
  await assertParseError(extractCsv(utf8("a,b\n\n,\n")), "the CSV file has a header but no rows");
});

Deno.test("`extractCsv()` rejects a file that is not UTF-8", async () => {
  await assertParseError(extractCsv(INVALID_UTF8), "the file is not UTF-8 text");
  const latin1 = new Uint8Array([0x63, 0x61, 0x66, 0xe9, 0x0a, 0x31, 0x0a]); // "café" in Latin-1
  await assertParseError(extractCsv(latin1), "the file is not UTF-8 text");
});

// ---------------------------------------------------------------------------------------------
// Plain text and Markdown

Deno.test("`extractPlainText()` returns a text file as one block", async () => {
  const result = await extractPlainText(utf8("\ufeff\r\nFirst line\r\nSecond\rThird\n\n"), "txt");
  assert.deepEqual(result, { blocks: [{ kind: "text", text: "First line\nSecond\nThird" }] });
});

Deno.test("`extractPlainText()` splits Markdown into sections at headings", async () => {
  const md = [
    "Intro text.",
    "",
    "# Title #",
    "Body of the title.",
    "```sh",
    "# a comment, not a heading",
    "```",
    "  ## Sub section",
    "Sub body.",
    "#hashtag is not a heading",
    "###### Deepest",
  ].join("\r\n");
  const { blocks } = await extractPlainText(utf8(md), "md");
  assert.deepEqual(blocks, [
    { kind: "text", text: "Intro text." },
    {
      kind: "text",
      text: "# Title #\nBody of the title.\n```sh\n# a comment, not a heading\n```",
      heading: "Title",
    },
    {
      kind: "text",
      text: "## Sub section\nSub body.\n#hashtag is not a heading",
      heading: "Sub section",
    },
    { kind: "text", text: "###### Deepest", heading: "Deepest" },
  ]);
});

Deno.test("`extractPlainText()` rejects an empty file", async () => {
  await assertParseError(extractPlainText(new Uint8Array(0), "txt"), "the file is empty");
  await assertParseError(extractPlainText(utf8("\ufeff \r\n\t\n"), "md"), "the file is empty");
});

Deno.test("`extractPlainText()` rejects a file that is not UTF-8", async () => {
  await assertParseError(extractPlainText(INVALID_UTF8, "txt"), "the file is not UTF-8 text");
  await assertParseError(extractPlainText(PNG, "md"), "the file is not UTF-8 text");
});

// ---------------------------------------------------------------------------------------------
// Resumable reading

/** Reads in steps that stop every `every`-th chance, the cursor and chunker state through JSON. */
async function chunksInSteps(type: FileType, bytes: Uint8Array, every: number) {
  let cursor: ReaderCursor | undefined;
  let state: ChunkerState | undefined;
  const contents: string[] = [];
  for (let step = 0; step < 10_000; step++) {
    const chunker = new Chunker({}, state);
    chunker.onChunk = (c) => contents.push(JSON.stringify(c));
    let chances = 0;
    const budget: ReadBudget = {
      exhausted: () => ++chances % every === 0,
      pause: () => Promise.resolve(),
    };
    const read = await readFile(type, bytes, cursor, chunker, budget, {
      pdfPages: 2,
      sliceBytes: 2048,
    });
    if (read.done) {
      chunker.end();
      return { contents, steps: step + 1 };
    }
    cursor = ReaderCursor.parse(JSON.parse(JSON.stringify(read.cursor)));
    state = JSON.parse(JSON.stringify(chunker.state()));
  }
  throw new Error("no end");
}

async function assertResumes(type: FileType, bytes: Uint8Array, every: number) {
  const once = chunkBlocks((await extract(type, bytes)).blocks).map((c) => JSON.stringify(c));
  const stepped = await chunksInSteps(type, bytes, every);
  assert.ok(stepped.steps > 2, `${type}: read in ${stepped.steps} steps`);
  assert.ok(once.length > 1, `${type}: ${once.length} chunks`);
  assert.deepEqual(stepped.contents, once, `${type}: the same chunks as one pass`);
}

const prose = (i: number) =>
  `Paragraph ${i} explains revenue, margin and cash in some detail, with café notes ` +
  `and figures such as ${i * 37} € so that chunks fill up. `.repeat(3);

Deno.test("`readFile()` in several steps gives the chunks of one pass (CSV)", async () => {
  const rows = Array.from({ length: 3000 }, (_, i) => [`2026-01-${i % 28}`, `naïve ${i}`, i * 3]);
  await assertResumes("csv", makeCsv(["date", "note", "amount"], rows), 2);
});

Deno.test("`readFile()` in several steps gives the chunks of one pass (XLSX)", async () => {
  const sheet = (name: string, n: number) => ({
    name,
    rows: [
      [null, "when", "what", "how much"],
      ...Array.from({ length: n }, (_, i) => [
        null,
        new Date(Date.UTC(2026, 0, 1 + (i % 300))),
        i % 7 === 0 ? null : `item ${i} ünïcode`,
        i * 1.5,
      ]),
      [],
      [null, "total", null, 42],
    ],
  });
  await assertResumes(
    "xlsx",
    makeXlsx([sheet("One", 2500), { name: "Empty", rows: [] }, sheet("Two", 800)]),
    700,
  );
});

Deno.test("`readFile()` in several steps gives the chunks of one pass (DOCX)", async () => {
  const blocks = [];
  for (let s = 0; s < 12; s++) {
    blocks.push({ heading: `Section ${s}`, level: 1 + (s % 2) });
    for (let p = 0; p < 8; p++) blocks.push({ paragraph: prose(s * 10 + p) });
    if (s % 3 === 0) {
      blocks.push({
        table: [["k", "v"], ...Array.from({ length: 90 }, (_, i) => [`key ${i}`, prose(i)])],
      });
    }
    if (s % 4 === 1) blocks.push({ list: ["one", "two", "three"], ordered: true });
  }
  await assertResumes("docx", makeDocx(blocks), 5);
});

Deno.test("`readFile()` in several steps gives the chunks of one pass (TXT, MD, PDF)", async () => {
  const md = Array.from(
    { length: 400 },
    (_, i) =>
      i % 25 === 0
        ? `## Part ${i}\r\n`
        : i % 40 === 3
        ? "```\n# not a heading\n```\n"
        : `${prose(i)}\n\n`,
  ).join("") + "x".repeat(40_000);
  await assertResumes("md", utf8(md), 2);
  await assertResumes("txt", utf8(md), 2);
  const pages = Array.from(
    { length: 9 },
    (_, p) => Array.from({ length: 40 }, (_, l) => `p${p} l${l} ${prose(l).slice(0, 80)}`),
  );
  await assertResumes("pdf", makePdf(pages), 2);
});

Deno.test("`Inflater` decodes every block type and resumes from a checkpoint", async () => {
  const { deflateSync } = await import("fflate");
  let seed = 7;
  const random = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  const text = utf8(
    Array.from(
      { length: 40_000 },
      (_, i) => `<row r="${i}"><c>${Math.floor(random() * 1e6)}</c></row>`,
    )
      .join(""),
  );
  const noise = Uint8Array.from({ length: 300_000 }, () => Math.floor(random() * 256));
  const input = new Uint8Array(text.length + noise.length);
  input.set(text);
  input.set(noise, text.length);
  for (const level of [0, 1, 6, 9] as const) {
    const compressed = deflateSync(input, { level });
    const whole = new Inflater(compressed);
    const parts: Uint8Array[] = [];
    for (let p = whole.next(65536); p; p = whole.next(65536)) parts.push(p.slice());
    assert.deepEqual(concat(parts), input, `level ${level}`);

    // Stop somewhere in the middle, save a checkpoint through JSON, resume from it.
    const first = new Inflater(compressed);
    let produced = 0;
    while (produced < 1_000_000) produced += first.next(100_000)!.length;
    const at = 987_654;
    first.release(at);
    const saved = JSON.parse(JSON.stringify(savePoint(first.checkpoint(at))));
    const point = loadPoint(saved);
    assert.ok(point.out <= at && point.window.length <= 32768);
    const resumed = new Inflater(compressed, point);
    const rest: Uint8Array[] = [];
    for (let p = resumed.next(65536); p; p = resumed.next(65536)) rest.push(p.slice());
    assert.deepEqual(concat(rest), input.subarray(point.out), `level ${level}, resumed`);
  }
  const broken = deflateSync(input, { level: 6 }).slice(0, 5000);
  broken[100] ^= 0xff;
  assert.throws(() => {
    const inflater = new Inflater(broken);
    while (inflater.next(65536));
  }, InflateError);
});

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

Deno.test("`XmlTokenizer` resumes at byte offsets across multi-byte text", () => {
  const xml =
    "<a x='1>2' y=\"&amp;é\"><b>héllo &lt;wörld&gt;</b><![CDATA[<raw>]]><c/><b>€ 5</b></a>";
  const bytes = new TextEncoder().encode(xml);
  const seen: string[] = [];
  let stopAt = -1;
  const tok: XmlTokenizer = new XmlTokenizer({
    open(name, t) {
      if (name === "a") seen.push(`${t.attr("x")}|${t.attr("y")}`);
      t.wantText = true;
    },
    close(name, t) {
      if (name === "b" && stopAt < 0) {
        stopAt = t.resumeOffset();
        t.stop();
      }
    },
    text(text) {
      seen.push(text);
    },
  });
  tok.push(xml);
  tok.run(true);
  assert.deepEqual(seen, ["1>2|&é", "héllo <wörld>"]);
  const rest = new TextDecoder().decode(bytes.subarray(stopAt));
  assert.equal(rest, "<![CDATA[<raw>]]><c/><b>€ 5</b></a>");
});

// ---------------------------------------------------------------------------------------------
// extract(), sniffFileType(), MIME_TYPES

Deno.test("`extract()` dispatches to the parser of the type", async () => {
  const pdf = await extract("pdf", makePdf([["p1"], ["p2"], ["p3"]]), { fromPage: 2, toPage: 2 });
  assert.deepEqual(pdf, { blocks: [{ kind: "text", text: "p2", page: 2 }], pageCount: 3 });
  const docx = await extract("docx", makeDocx([{ paragraph: "word" }]));
  assert.deepEqual(docx.blocks, [{ kind: "text", text: "word" }]);
  const xlsx = await extract("xlsx", makeXlsx([{ name: "S", rows: [["h"], ["v"]] }]));
  assert.equal((xlsx.blocks[0] as TableBlock).sheet, "S");
  const csv = await extract("csv", makeCsv(["h"], [["v"]]));
  assert.deepEqual((csv.blocks[0] as TableBlock).rows, [["v"]]);
  const md = await extract("md", utf8("# A\nx\n# B\ny"));
  assert.deepEqual(textBlocks(md.blocks).map((b) => b.heading), ["A", "B"]);
  const txt = await extract("txt", utf8("# A\nx\n# B\ny"));
  assert.equal(txt.blocks.length, 1);
  await assertParseError(extract("docx", utf8("not a zip")), "file is not a valid DOCX");
});

Deno.test("`sniffFileType()` accepts a supported extension when the content agrees", () => {
  const text = utf8("hello");
  for (const ext of ["csv", "txt", "md"] as const) {
    assert.equal(sniffFileType(text, `name.${ext}`), ext);
    assert.equal(sniffFileType(text, `dir/NAME.${ext.toUpperCase()}`), ext);
  }
  assert.equal(sniffFileType(makePdf([["x"]]), "report.PDF"), "pdf");
  assert.equal(sniffFileType(makeDocx([{ paragraph: "x" }]), "memo.docx"), "docx");
  assert.equal(sniffFileType(makeXlsx([{ name: "S", rows: [["x"]] }]), "archive.v2.xlsx"), "xlsx");
});

Deno.test("`detectFileType()` refuses content that contradicts the extension, saying why", () => {
  assert.deepEqual(detectFileType(utf8("just text"), "renamed.docx"), {
    type: null,
    reason: "mismatch",
    message: "renamed.docx is not a valid DOCX file: its content is text.",
  });
  assert.equal(detectFileType(makePdf([["x"]]), "report.docx").type, null);
  assert.equal(detectFileType(makeDocx([{ paragraph: "x" }]), "book.xlsx").type, null);
  assert.equal(detectFileType(PNG, "photo.csv").type, null);
  assert.match(
    detectFileType(PNG, "photo.csv").type === null
      ? (detectFileType(PNG, "photo.csv") as { message: string }).message
      : "",
    /its content is binary data/,
  );
  assert.equal(
    detectFileType(utf8("%PDF-1.7 broken"), "broken.pdf").type,
    "pdf",
    "a damaged PDF is accepted here and reported by the parser",
  );
});

Deno.test("`sniffFileType()` recognises content when the extension is missing or unknown", () => {
  assert.equal(sniffFileType(makePdf([["x"]]), "scan"), "pdf");
  assert.equal(sniffFileType(makePdf([["x"]]), "scan.bin"), "pdf");
  assert.equal(sniffFileType(makeDocx([{ paragraph: "x" }]), "download"), "docx");
  assert.equal(sniffFileType(makeXlsx([{ name: "S", rows: [["x"]] }]), "export.dat"), "xlsx");
  assert.equal(sniffFileType(utf8("plain notes, with ünïcödé"), "README"), "txt");
  assert.equal(sniffFileType(utf8("log line\n"), "server.log"), "txt");
  assert.equal(sniffFileType(utf8("x"), "folder.d/notes"), "txt");
});

Deno.test("`sniffFileType()` returns null for unsupported content", () => {
  assert.equal(sniffFileType(PNG, "image"), null);
  assert.equal(sniffFileType(PNG, "image.png"), null);
  const ole = new Uint8Array([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1, 0, 0, 0, 0]);
  assert.equal(sniffFileType(ole, "legacy.doc"), null);
  assert.equal(sniffFileType(utf8("MZ\x90\x00\x03\x00\x00\x00"), "setup.exe"), null);
  assert.equal(sniffFileType(INVALID_UTF8, "data"), null);
  // A zip that is neither a Word document nor a workbook, and a truncated one.
  const odt = zipSync({ mimetype: utf8("application/vnd.oasis.opendocument.text") });
  assert.equal(sniffFileType(odt, "letter.odt"), null);
  const truncated = makeDocx([{ paragraph: "x" }]).subarray(0, 100);
  assert.equal(sniffFileType(truncated, "partial"), null);
});

Deno.test("`MIME_TYPES` names a MIME type for every file type", () => {
  const types: FileType[] = ["pdf", "docx", "xlsx", "csv", "txt", "md"];
  assert.deepEqual(Object.keys(MIME_TYPES).sort(), [...types].sort());
  assert.equal(MIME_TYPES.pdf, "application/pdf");
  assert.equal(
    MIME_TYPES.docx,
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
  );
  assert.equal(
    MIME_TYPES.xlsx,
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
  );
  assert.equal(MIME_TYPES.csv, "text/csv");
  assert.equal(MIME_TYPES.md, "text/markdown");
  assert.equal(MIME_TYPES.txt, "text/plain");
});

Deno.test("`zipInflatedSize()` counts the real bytes even when the ZIP directory lies", () => {
  const zip = zipSync({ "word/document.xml": new Uint8Array(5 * 1024 * 1024) });
  // Rewrite every declared uncompressed size (local headers and central directory) to 10 bytes.
  const view = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
  for (let i = 0; i + 4 <= zip.length; i++) {
    const sig = view.getUint32(i, true);
    if (sig === 0x04034b50) view.setUint32(i + 22, 10, true);
    if (sig === 0x02014b50) view.setUint32(i + 24, 10, true);
  }
  assert.equal(zipExpandedSize(zip), 10, "the directory now claims 10 bytes");
  const real = zipInflatedSize(zip, 1024 * 1024);
  assert.ok(real !== null && real > 1024 * 1024, `stops past the cap (got ${real})`);
  assert.equal(zipInflatedSize(zipSync({ "a.txt": utf8("hello") }), 1024), 5);
  assert.equal(zipInflatedSize(utf8("not a zip"), 1024), null);
});
