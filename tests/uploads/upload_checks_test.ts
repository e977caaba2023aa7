/**
 * Unit tests of the upload checks (functions/workbenches/uploads): type sniffing as bytes stream
 * in, limits, the ZIP inflation cap, the light PDF page counter (on PDFs from
 * tests/fixtures/documents.ts, a PDF with a cross-reference stream and an object stream, and
 * malformed ones), the streaming multipart reader, and `receiveUploads()` against a fake Storage.
 */
import assert from "node:assert/strict";
import { zipSync, zlibSync } from "fflate";
import { getResolvedPDFJS } from "unpdf";
import { sha256 } from "../helpers/digest.ts";
import { pdfText } from "../helpers/pdf.ts";
import { HttpError } from "../../shared/http.ts";
import type { ObjectBody, ObjectStore } from "../../shared/storage.ts";
import {
  type CheckedFile,
  DEFAULT_LIMITS,
  FileCheck,
  type UploadLimits,
} from "../../functions/workbenches/uploads/checks.ts";
import { detectFileType, MIME_TYPES } from "../../functions/workbenches/uploads/file_type.ts";
import { MultipartError, readMultipart } from "../../functions/workbenches/uploads/multipart.ts";
import {
  countPdfPages,
  type PdfBytes,
  wholePdf,
} from "../../functions/workbenches/uploads/pdf_pages.ts";
import {
  describeStream,
  PdfStreamInspector,
} from "../../functions/workbenches/uploads/pdf_streams.ts";
import { ZipInspector } from "../../functions/workbenches/uploads/zip_inspector.ts";
import { type Received, receiveUploads } from "../../functions/workbenches/receive_uploads.ts";
import {
  makeCsv,
  makeDocx,
  makeEncryptedPdf,
  makeFlatePdf,
  makePdf,
  makeXlsx,
} from "../fixtures/documents.ts";

const utf8 = (s: string) => new TextEncoder().encode(s);
const latin1 = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0) & 0xff);
const asText = (b: Uint8Array) => new TextDecoder("latin1").decode(b);
const PNG = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d]);

/** Runs a file through a FileCheck in chunks of `chunk` bytes. */
async function check(
  bytes: Uint8Array,
  name: string,
  limits: UploadLimits = DEFAULT_LIMITS,
  chunk = 4096,
): Promise<CheckedFile> {
  const c = new FileCheck(name, limits);
  for (let at = 0; at < bytes.length; at += chunk) await c.push(bytes.subarray(at, at + chunk));
  return await c.finish();
}

/** The refusal a check ends with (fails if the file passes). */
async function refusal(
  bytes: Uint8Array,
  name: string,
  limits?: UploadLimits,
  chunk?: number,
): Promise<HttpError> {
  const err = await check(bytes, name, limits, chunk).then(
    (f) => assert.fail(`expected a refusal, got ${JSON.stringify(f)}`),
    (e: unknown) => e,
  );
  assert.ok(err instanceof HttpError, `expected an HttpError, got ${err}`);
  return err;
}

// ---------------------------------------------------------------------------------------------
// Types

Deno.test("`FileCheck` stores each supported type under its MIME type, whatever the chunking", async () => {
  const files: Array<[string, Uint8Array, keyof typeof MIME_TYPES]> = [
    ["report.PDF", makePdf([["a"], ["b"]]), "pdf"],
    ["memo.docx", makeDocx([{ paragraph: "x" }]), "docx"],
    ["book.xlsx", makeXlsx([{ name: "S", rows: [["x"]] }]), "xlsx"],
    ["ledger.csv", makeCsv(["a"], [[1]]), "csv"],
    ["notes.txt", utf8("plain"), "txt"],
    ["guide.md", utf8("# Title"), "md"],
    ["scan", makePdf([["x"]]), "pdf"],
    ["download", makeDocx([{ paragraph: "x" }]), "docx"],
    ["export.dat", makeXlsx([{ name: "S", rows: [["x"]] }]), "xlsx"],
    ["README", utf8("ünïcödé notes"), "txt"],
  ];
  for (const [name, bytes, type] of files) {
    for (const chunk of [1, 7, 1 << 20]) {
      const file = await check(bytes, name, DEFAULT_LIMITS, chunk);
      assert.equal(file.type, type, `${name} in chunks of ${chunk}`);
      assert.equal(file.mimeType, MIME_TYPES[type]);
      assert.equal(file.size, bytes.length);
      assert.equal(file.sha256, await sha256(bytes));
    }
  }
});

Deno.test("`FileCheck` refuses content that contradicts the extension, saying what it is", async () => {
  const cases: Array<[Uint8Array, string, string]> = [
    [
      utf8("just text"),
      "renamed.docx",
      "renamed.docx is not a valid DOCX file: its content is text.",
    ],
    [
      makeDocx([{ paragraph: "x" }]),
      "report.pdf",
      "report.pdf is not a valid PDF file: its content is a Word document.",
    ],
    [
      makeDocx([{ paragraph: "x" }]),
      "book.xlsx",
      "book.xlsx is not a valid XLSX file: its content is a Word document.",
    ],
    [
      makeXlsx([{ name: "S", rows: [["x"]] }]),
      "memo.docx",
      "memo.docx is not a valid DOCX file: its content is a spreadsheet.",
    ],
    [makePdf([["x"]]), "data.csv", "data.csv is not a valid CSV file: its content is a PDF."],
    [PNG, "photo.csv", "photo.csv is not a valid CSV file: its content is binary data."],
    [
      zipSync({ "a.txt": utf8("x") }),
      "archive.docx",
      "archive.docx is not a valid DOCX file: its content is a ZIP archive.",
    ],
  ];
  for (const [bytes, name, message] of cases) {
    const err = await refusal(bytes, name);
    assert.equal(err.status, 415, name);
    assert.equal(err.code, "file_type_mismatch", name);
    assert.equal(err.message, message);
    assert.deepEqual(err.details, { file_name: name });
  }
});

Deno.test("`FileCheck` refuses unsupported content, and decides text from the first 64 KB", async () => {
  for (
    const [bytes, name] of [[PNG, "logo.png"], [PNG, "image"], [
      latin1("MZ\x90\0"),
      "setup.exe",
    ]] as const
  ) {
    const err = await refusal(bytes, name);
    assert.equal(err.code, "unsupported_file_type");
    assert.equal(err.status, 415);
  }
  const odt = zipSync({ mimetype: utf8("application/vnd.oasis.opendocument.text") });
  assert.equal((await refusal(odt, "letter.odt")).code, "unsupported_file_type");
  const truncated = makeDocx([{ paragraph: "x" }]).subarray(0, 100);
  assert.equal((await refusal(truncated, "partial")).code, "unsupported_file_type");
  assert.equal((await refusal(truncated, "partial.docx")).code, "file_type_mismatch");
  // A text file with binary data past the first 64 KB is text (the worker reads it as such).
  const late = new Uint8Array(70 * 1024).fill(65);
  late[68 * 1024] = 0;
  assert.equal((await check(late, "notes.txt")).type, "txt");
  // A UTF-8 sequence cut by the 64 KB boundary is still text.
  const cut = utf8("a".repeat(64 * 1024 - 1) + "é and more");
  assert.equal((await check(cut, "notes.txt", DEFAULT_LIMITS, 1000)).type, "txt");
});

Deno.test("`detectFileType()` (whole bytes) agrees with the streamed check", async () => {
  const files: Array<[Uint8Array, string]> = [
    [makePdf([["x"]]), "a.pdf"],
    [makeDocx([{ paragraph: "x" }]), "a.docx"],
    [makeXlsx([{ name: "S", rows: [["x"]] }]), "a"],
    [utf8("text"), "a.md"],
    [utf8("text"), "a.docx"],
    [PNG, "a.csv"],
  ];
  for (const [bytes, name] of files) {
    const whole = detectFileType(bytes, name);
    const streamed = await check(bytes, name).then((f) => f.type, () => null);
    assert.equal(whole.type, streamed, name);
  }
});

// ---------------------------------------------------------------------------------------------
// Limits

const SMALL: UploadLimits = {
  maxFileBytes: 100_000,
  maxRequestBytes: 1_000_000,
  maxFilesPerRequest: 3,
  maxPdfPages: 5,
  maxExpandedBytes: 200_000,
  maxPdfInflatedBytes: 300_000,
};

Deno.test("`FileCheck` refuses a file over the size limit with its real size, before its type", async () => {
  const err = await refusal(new Uint8Array(150_000).fill(65), "big.csv", SMALL);
  assert.equal(err.status, 413);
  assert.equal(err.code, "file_too_large");
  assert.deepEqual(err.details, {
    file_name: "big.csv",
    size_bytes: 150_000,
    limit_bytes: 100_000,
  });
  const png = new Uint8Array(150_000);
  png.set(PNG);
  assert.equal((await refusal(png, "logo.png", SMALL)).code, "file_too_large", "size comes first");
  assert.equal((await check(new Uint8Array(100_000).fill(65), "edge.txt", SMALL)).size, 100_000);
});

Deno.test("`FileCheck` refuses a PDF with more pages than the limit", async () => {
  const err = await refusal(
    makePdf(Array.from({ length: 6 }, (_, i) => [`p${i}`])),
    "long.pdf",
    SMALL,
  );
  assert.equal(err.status, 413);
  assert.equal(err.code, "pdf_too_many_pages");
  assert.equal(err.message, "long.pdf has 6 pages; the limit is 5 pages per PDF.");
  assert.deepEqual(err.details, { file_name: "long.pdf", page_count: 6, limit_pages: 5 });
  assert.equal(
    (await check(makePdf([["a"], ["b"], ["c"], ["d"], ["e"]]), "ok.pdf", SMALL)).pages,
    5,
  );
});

Deno.test("`FileCheck` accepts PDFs it cannot count (damaged, encrypted) without a page count", async () => {
  const damaged = await check(
    utf8("%PDF-1.7\nthis is not really a pdf at all"),
    "corrupt.pdf",
    SMALL,
  );
  assert.deepEqual([damaged.type, damaged.pages], ["pdf", null]);
  const locked = await check(makeEncryptedPdf(), "locked.pdf", SMALL);
  assert.deepEqual([locked.type, locked.pages], ["pdf", null]);
});

/** A ZIP whose headers claim every entry is 10 bytes long. */
function lyingZip(entries: Record<string, Uint8Array>): Uint8Array {
  const zip = zipSync(entries);
  const view = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
  for (let i = 0; i + 4 <= zip.length; i++) {
    const sig = view.getUint32(i, true);
    if (sig === 0x04034b50) view.setUint32(i + 22, 10, true);
    if (sig === 0x02014b50) view.setUint32(i + 24, 10, true);
  }
  return zip;
}

Deno.test("`FileCheck` refuses a DOCX/XLSX that expands past the limit, declared or real", async () => {
  const declared = zipSync({ "word/document.xml": new Uint8Array(300_000) });
  const err = await refusal(declared, "bomb.docx", SMALL);
  assert.equal(err.status, 413);
  assert.equal(err.code, "document_too_large");
  assert.deepEqual(err.details, { file_name: "bomb.docx" });
  const liar = lyingZip({ "xl/workbook.xml": new Uint8Array(300_000) });
  assert.equal((await refusal(liar, "liar.xlsx", SMALL)).code, "document_too_large");
  assert.equal((await refusal(liar, "liar", SMALL)).code, "document_too_large", "no extension");
  // Under the cap, a lying directory does not matter.
  const fine = lyingZip({ "word/document.xml": new Uint8Array(150_000) });
  assert.equal((await check(fine, "fine.docx", SMALL)).type, "docx");
  // A mismatch is told before the size.
  assert.equal((await refusal(liar, "liar.docx", SMALL)).code, "file_type_mismatch");
});

// PDF decompression bombs

const MiB = 1024 * 1024;

Deno.test("`PdfStreamInspector` counts what content streams inflate to, not images, whatever the chunking", async () => {
  const pdf = makeFlatePdf([["Revenue 120"], ["Costs 80"]], {
    padBytes: 50_000,
    imageBytes: 400_000,
  });
  assert.match(
    (await pdfText(pdf)).text,
    /Revenue 120[\s\S]*Costs 80/,
    "the fixture is a real PDF",
  );
  const header = (text: string) => `BT /F1 12 Tf 14 TL 72 740 Td (${text}) Tj ET `.length;
  const draw = "q 100 0 0 100 72 500 cm /Im1 Do Q ".length;
  const expected = draw + header("Revenue 120") + header("Costs 80") + 2 * 50_000;
  for (const chunk of [1, 7, 4096, pdf.length]) {
    const inspector = new PdfStreamInspector({ cap: 10 * MiB });
    for (let at = 0; at < pdf.length; at += chunk) {
      inspector.push(pdf.subarray(at, at + chunk));
      await inspector.settle();
    }
    assert.deepEqual(await inspector.finish(), {
      inflatedBytes: expected,
      streams: 2,
      overCap: false,
    }, `chunks of ${chunk}`);
  }
});

Deno.test("`describeStream()` reads the filter and the image subtype of the dictionary before a stream", () => {
  assert.deepEqual(describeStream("4 0 obj\n<< /Length 5 /Filter /FlateDecode >>\n"), {
    flate: true,
    image: false,
  });
  assert.deepEqual(describeStream("4 0 obj <</Filter[/FlateDecode/DCTDecode]/Subtype/Image>>"), {
    flate: true,
    image: true,
  });
  assert.deepEqual(describeStream("4 0 obj << /Filter [/ASCII85Decode /FlateDecode] >>"), {
    flate: false,
    image: false,
  });
  // Only the dictionary of the object that holds the stream counts.
  assert.deepEqual(
    describeStream("3 0 obj << /Subtype /Image >> endobj 4 0 obj << /Filter /Fl >>"),
    { flate: true, image: false },
  );
});

Deno.test("`FileCheck` refuses a PDF bomb (120 MB of content in a 0.1 MB file) with 413", async () => {
  const bomb = makeFlatePdf([["Total 1"]], { padBytes: 120 * MiB });
  assert.ok(bomb.length < 200_000, `the bomb is small: ${bomb.length} bytes`);
  const err = await refusal(bomb, "bomb.pdf", DEFAULT_LIMITS, 64 * 1024);
  assert.equal(err.status, 413);
  assert.equal(err.code, "document_too_large");
  assert.deepEqual(err.details, { file_name: "bomb.pdf" });
  assert.match(err.message, /bomb\.pdf decompresses to more than 104857600 bytes/);
  // Spread over many pages, the total counts.
  const spread = makeFlatePdf(Array.from({ length: 30 }, (_, i) => [`p${i}`]), {
    padBytes: 4 * MiB,
  });
  assert.equal(
    (await refusal(spread, "spread.pdf", DEFAULT_LIMITS, 64 * 1024)).code,
    "document_too_large",
  );
  // Under the cap, and with a large image (never decoded for text), the file passes.
  const fine = makeFlatePdf([["Total 1"], ["Total 2"]], { padBytes: MiB, imageBytes: 110 * MiB });
  const checked = await check(fine, "fine.pdf", DEFAULT_LIMITS, 64 * 1024);
  assert.equal(checked.type, "pdf");
  assert.equal(checked.pages, 2);
  // A small cap refuses what the default accepts.
  const small = { ...DEFAULT_LIMITS, maxPdfInflatedBytes: 500_000 };
  assert.equal((await refusal(fine, "fine.pdf", small)).code, "document_too_large");
});

Deno.test("`ZipInspector` counts real inflated bytes and stops soon after the cap", async () => {
  const liar = lyingZip({ "word/document.xml": new Uint8Array(8 * 1024 * 1024) });
  const zip = new ZipInspector({ inflateCap: 1024 * 1024 });
  for (let at = 0; at < liar.length; at += 1024) {
    zip.push(liar.subarray(at, at + 1024));
    await zip.settle();
  }
  const result = await zip.finish();
  assert.deepEqual(result.names, ["word/document.xml"]);
  assert.equal(result.complete, true);
  assert.equal(result.declaredBytes, 10);
  assert.equal(result.overCap, true);
  assert.ok(result.inflatedBytes > 1024 * 1024, `past the cap: ${result.inflatedBytes}`);
  assert.ok(result.inflatedBytes < 4 * 1024 * 1024, `stopped early: ${result.inflatedBytes}`);

  const honest = new ZipInspector({ inflateCap: 1024 * 1024 });
  honest.push(zipSync({ "a.txt": utf8("hello"), "b.bin": new Uint8Array(1000) }, { level: 0 }));
  assert.deepEqual(await honest.finish(), {
    names: ["a.txt", "b.bin"],
    complete: true,
    declaredBytes: 1005,
    inflatedBytes: 1005,
    overCap: false,
  });
  const namesOnly = new ZipInspector({ inflateCap: null });
  namesOnly.push(liar);
  const names = await namesOnly.finish();
  assert.deepEqual([names.names, names.inflatedBytes, names.overCap], [
    ["word/document.xml"],
    0,
    false,
  ]);
  const cut = new ZipInspector({ inflateCap: null });
  cut.push(liar.subarray(0, liar.length - 30));
  assert.equal((await cut.finish()).complete, false, "no end record: incomplete");
});

// ---------------------------------------------------------------------------------------------
// The PDF page counter

/** A PDF whose page objects live in a compressed object stream, indexed by an xref stream. */
function makeObjectStreamPdf(pages: number, opts: { predictor?: boolean } = {}): Uint8Array {
  const n = pages;
  const contentNum = (i: number) => 4 + n + i;
  const objStmNum = 4 + 2 * n;
  const xrefNum = objStmNum + 1;
  const size = xrefNum + 1;
  const inStream: Array<[number, string]> = [
    [1, "<< /Type /Catalog /Pages 2 0 R >>"],
    [
      2,
      `<< /Type /Pages /Kids [${
        Array.from({ length: n }, (_, i) => `${4 + i} 0 R`).join(" ")
      }] /Count ${n} >>`,
    ],
    [3, "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"],
  ];
  for (let i = 0; i < n; i++) {
    inStream.push([
      4 + i,
      `<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> >> /Contents ${
        contentNum(i)
      } 0 R >>`,
    ]);
  }
  let body = "";
  const header: string[] = [];
  for (const [num, text] of inStream) {
    header.push(`${num} ${body.length}`);
    body += text + "\n";
  }
  const first = header.join(" ") + "\n";
  const objStm = zlibSync(latin1(first + body));

  const parts: Uint8Array[] = [latin1("%PDF-1.5\n%\xe2\xe3\xcf\xd3\n")];
  let offset = parts[0].length;
  const offsets = new Map<number, number>();
  const add = (num: number, dict: string, data?: Uint8Array) => {
    offsets.set(num, offset);
    const head = latin1(`${num} 0 obj\n${dict}${data ? "\nstream\n" : ""}`);
    const tail = latin1(data ? "\nendstream\nendobj\n" : "\nendobj\n");
    for (const p of data ? [head, data, tail] : [head, tail]) {
      parts.push(p);
      offset += p.length;
    }
  };
  for (let i = 0; i < n; i++) {
    const content = latin1(`BT /F1 12 Tf 72 740 Td (page ${i + 1}) Tj ET`);
    add(contentNum(i), `<< /Length ${content.length} >>`, content);
  }
  add(
    objStmNum,
    `<< /Type /ObjStm /N ${inStream.length} /First ${first.length} /Filter /FlateDecode /Length ${objStm.length} >>`,
    objStm,
  );
  const xrefOffset = offset;
  offsets.set(xrefNum, xrefOffset);
  const rows: number[][] = [];
  for (let num = 0; num < size; num++) {
    const inside = inStream.findIndex(([k]) => k === num);
    if (num === 0) rows.push([0, 0, 0, 0, 0, 0xff, 0xff]);
    else if (inside >= 0) rows.push([2, 0, 0, objStmNum >> 8, objStmNum & 0xff, 0, inside]);
    else {
      const o = offsets.get(num)!;
      rows.push([1, (o >>> 24) & 0xff, (o >>> 16) & 0xff, (o >>> 8) & 0xff, o & 0xff, 0, 0]);
    }
  }
  let raw: Uint8Array;
  let parms = "";
  if (opts.predictor) {
    // PNG "Up" rows, as most writers produce.
    raw = new Uint8Array(rows.length * 8);
    rows.forEach((row, r) => {
      raw[r * 8] = 2;
      row.forEach((b, i) => raw[r * 8 + 1 + i] = (b - (r > 0 ? rows[r - 1][i] : 0)) & 0xff);
    });
    parms = " /DecodeParms << /Columns 7 /Predictor 12 >>";
  } else raw = Uint8Array.from(rows.flat());
  const xref = zlibSync(raw);
  add(
    xrefNum,
    `<< /Type /XRef /Size ${size} /W [1 4 2] /Root 1 0 R /Filter /FlateDecode${parms} /Length ${xref.length} >>`,
    xref,
  );
  parts.push(latin1(`startxref\n${xrefOffset}\n%%EOF\n`));
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Appends an incremental update that replaces object `num` with `text`. */
function appendUpdate(pdf: Uint8Array, num: number, text: string, extraTrailer = ""): Uint8Array {
  const s = asText(pdf);
  const prev = Number(/startxref\s+(\d+)\s+%%EOF\s*$/.exec(s)![1]);
  const size = Number(/\/Size (\d+)/.exec(s)![1]);
  const objOffset = s.length;
  const obj = `${num} 0 obj\n${text}\nendobj\n`;
  const xrefOffset = objOffset + obj.length;
  const xref = `xref\n0 1\n0000000000 65535 f \n${num} 1\n${
    String(objOffset).padStart(10, "0")
  } 00000 n \n`;
  const trailer =
    `trailer\n<< /Size ${size} /Root 1 0 R /Prev ${prev} ${extraTrailer}>>\nstartxref\n${xrefOffset}\n%%EOF\n`;
  return latin1(s + obj + xref + trailer);
}

async function pdfJsPages(bytes: Uint8Array): Promise<number> {
  const { getDocument } = await getResolvedPDFJS();
  const task = getDocument({ data: bytes.slice(), verbosity: 0 });
  try {
    return (await task.promise).numPages;
  } finally {
    await task.destroy();
  }
}

Deno.test("`countPdfPages()` reads the page count of PDFs with an xref table", async () => {
  for (const n of [1, 5, 201]) {
    const pdf = makePdf(Array.from({ length: n }, (_, i) => [`page ${i + 1}`]));
    assert.deepEqual(countPdfPages(wholePdf(pdf)), { pages: n });
    assert.equal(await pdfJsPages(pdf), n, "pdf.js agrees");
  }
});

Deno.test("`countPdfPages()` follows xref streams (with and without predictors) into object streams", async () => {
  for (const predictor of [false, true]) {
    for (const n of [1, 3, 250]) {
      const pdf = makeObjectStreamPdf(n, { predictor });
      assert.equal(await pdfJsPages(pdf), n, "the fixture is a valid PDF");
      assert.deepEqual(
        countPdfPages(wholePdf(pdf)),
        { pages: n },
        `${n} pages, predictor ${predictor}`,
      );
    }
  }
});

Deno.test("`countPdfPages()` reads a table whose entries end with a one-byte line end", async () => {
  // Some writers end entries with "\n" alone (19 bytes); offsets shift, so rebuild them.
  const objects = [
    "<< /Type /Catalog /Pages 2 0 R >>",
    "<< /Type /Pages /Kids [3 0 R 4 0 R] /Count 2 >>",
    "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>",
    "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>",
  ];
  let text = "%PDF-1.4\n";
  const offsets = objects.map((body, i) => {
    const at = text.length;
    text += `${i + 1} 0 obj\n${body}\nendobj\n`;
    return at;
  });
  const xref = text.length;
  text += `xref\n0 5\n0000000000 65535 f\n` +
    offsets.map((o) => `${String(o).padStart(10, "0")} 00000 n\n`).join("") +
    `trailer\n<< /Size 5 /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  assert.equal(await pdfJsPages(latin1(text)), 2);
  assert.deepEqual(countPdfPages(wholePdf(latin1(text))), { pages: 2 });
});

Deno.test("`countPdfPages()` takes the newest revision of an incrementally updated PDF", async () => {
  const base = makePdf([["a"], ["b"], ["c"]]);
  // The update drops page 3 from the tree: /Count 2.
  const updated = appendUpdate(base, 2, "<< /Type /Pages /Kids [4 0 R 6 0 R] /Count 2 >>");
  assert.equal(await pdfJsPages(updated), 2);
  assert.deepEqual(countPdfPages(wholePdf(updated)), { pages: 2 });
  // A /Count given by reference is followed.
  const byRef = appendUpdate(
    appendUpdate(base, 2, "<< /Type /Pages /Kids [4 0 R 6 0 R 8 0 R] /Count 10 0 R >>"),
    10,
    "3",
  );
  assert.deepEqual(countPdfPages(wholePdf(byRef)), { pages: 3 });
});

Deno.test("`countPdfPages()` gives no count for encrypted PDFs", () => {
  const result = countPdfPages(wholePdf(makeEncryptedPdf()));
  assert.equal(result.pages, null);
  assert.equal(result.pages === null && result.reason, "encrypted");
});

Deno.test("`countPdfPages()` gives no count, never a guess, for malformed PDFs", () => {
  const good = asText(makePdf([["a"], ["b"]]));
  const malformed: Record<string, string> = {
    "no startxref": good.replace("startxref", "startxrfe"),
    "startxref past the end": good.replace(/startxref\n\d+/, "startxref\n999999"),
    "startxref at the wrong place": good.replace(
      /startxref\n(\d+)/,
      (_, n) => `startxref\n${Number(n) - 3}`,
    ),
    "garbage": "%PDF-1.7\nthis is not really a pdf at all",
    "catalog without /Type": good.replace(
      "<< /Type /Catalog /Pages 2 0 R >>",
      "<< /Pages 2 0 R /Tipe /Catalog >>",
    ),
    "negative /Count": good.replace("/Count 2", "/Count -2"),
    "fractional /Count": good.replace("/Count 2", "/Count 2.5"),
    "pages root is not /Pages": good.replace(
      "/Kids [4 0 R 6 0 R] /Count 2",
      "/Kids [4 0 R 6 0 R] /Count 2 /Type /Page",
    ),
    "object not at its offset": good.replace("2 0 obj", "9 0 obj"),
    "unclosed dictionary": good.replace("/Count 2 >>", "/Count 2 "),
    "truncated": good.slice(0, good.length - 60),
  };
  for (const [label, text] of Object.entries(malformed)) {
    const result = countPdfPages(wholePdf(latin1(text)));
    assert.equal(result.pages, null, label);
    assert.equal(result.pages === null && result.reason, "malformed", label);
  }
  // A /Prev chain that loops back on itself ends (the newest entries win).
  const base = asText(makePdf([["a"], ["b"]])).replace(
    "/Root 1 0 R ",
    "/Root 1 0 R /Prev 0000000000 ",
  );
  const looped = asText(
    appendUpdate(latin1(base), 2, "<< /Type /Pages /Kids [4 0 R] /Count 1 >>"),
  );
  const last = /startxref\s+(\d+)\s+%%EOF\s*$/.exec(looped)![1];
  const loop = looped.replace("/Prev 0000000000", `/Prev ${last.padStart(10, "0")}`);
  assert.deepEqual(countPdfPages(wholePdf(latin1(loop))), { pages: 1 });
  // An object stream that inflates to garbage.
  const os = makeObjectStreamPdf(2);
  const broken = os.slice();
  const at = asText(os).indexOf("/Type /ObjStm");
  const data = asText(os).indexOf("stream\n", at) + 7;
  broken.fill(0x41, data, data + 20);
  assert.equal(countPdfPages(wholePdf(broken)).pages, null);
});

Deno.test("`countPdfPages()` counts from a file's ends, or says the index is out of reach", () => {
  const pdf = makePdf(Array.from({ length: 300 }, (_, i) => [`page ${i + 1}`]));
  const windows = (head: number, tail: number): PdfBytes => ({
    size: pdf.length,
    windows: [
      { start: 0, bytes: pdf.subarray(0, head) },
      { start: pdf.length - tail, bytes: pdf.subarray(pdf.length - tail) },
    ],
  });
  // The catalog and page tree are at the start, the xref table at the end.
  assert.ok(pdf.length > 64 * 1024);
  assert.deepEqual(countPdfPages(windows(8 * 1024, 16 * 1024)), { pages: 300 });
  const cut = countPdfPages(windows(1024, 16 * 1024));
  assert.equal(cut.pages, null, "the page tree's /Kids runs past the head window");
  assert.equal(cut.pages === null && cut.reason, "unavailable");
  assert.equal(countPdfPages(windows(8 * 1024, 8 * 1024)).pages, null, "xref outside the tail");
});

Deno.test("`FileCheck` counts a large PDF's pages from its first and last bytes", async () => {
  const pdf = makePdf(Array.from({ length: 300 }, (_, i) => [`page ${i + 1}`]));
  const limits = { ...DEFAULT_LIMITS, maxPdfPages: 1000 };
  const counted = new FileCheck("big.pdf", limits, { pdfWindowBytes: 16 * 1024 });
  const unreachable = new FileCheck("big.pdf", limits, { pdfWindowBytes: 1024 });
  for (let at = 0; at < pdf.length; at += 500) {
    await counted.push(pdf.subarray(at, at + 500));
    await unreachable.push(pdf.subarray(at, at + 500));
  }
  assert.equal((await counted.finish()).pages, 300);
  assert.equal((await unreachable.finish()).pages, null, "accepted; the worker counts");
});

// ---------------------------------------------------------------------------------------------
// The multipart reader

/** A stream of `bytes` in chunks of `size`. */
function chunked(bytes: Uint8Array, size: number): ReadableStream<Uint8Array> {
  let at = 0;
  return new ReadableStream({
    pull(controller) {
      if (at >= bytes.length) return controller.close();
      controller.enqueue(bytes.slice(at, at + size));
      at += size;
    },
  });
}

async function encoded(form: FormData): Promise<{ bytes: Uint8Array; boundary: string }> {
  const req = new Request("http://x/", { method: "POST", body: form });
  const boundary = /boundary=(.+)$/.exec(req.headers.get("content-type")!)![1];
  return { bytes: new Uint8Array(await req.arrayBuffer()), boundary };
}

async function collect(stream: ReadableStream<Uint8Array>, boundary: string) {
  const out = [];
  for await (const part of readMultipart(stream, boundary)) {
    const chunks: Uint8Array[] = [];
    for await (const c of part.body) chunks.push(c);
    const data = new Uint8Array(chunks.reduce((s, c) => s + c.length, 0));
    let at = 0;
    for (const c of chunks) {
      data.set(c, at);
      at += c.length;
    }
    out.push({ name: part.name, filename: part.filename, contentType: part.contentType, data });
  }
  return out;
}

Deno.test("`readMultipart()` reads fields and files across any chunking, as `formData()` does", async () => {
  const tricky = new Uint8Array(5000).map((_, i) => i % 256);
  tricky.set(utf8("\r\n--not-the-boundary\r\n"), 100);
  const form = new FormData();
  form.append("note", "hello");
  form.append("file", new Blob([tricky], { type: "application/pdf" }), 'q"uote\nd é.pdf');
  form.append("file", new Blob([]), "empty.txt");
  const { bytes, boundary } = await encoded(form);
  const expected = await new Request("http://x/", {
    method: "POST",
    body: bytes as BodyInit,
    headers: { "content-type": `multipart/form-data; boundary=${boundary}` },
  }).formData();
  const files = expected.getAll("file") as File[];
  for (const size of [1, 3, 64, 4096, bytes.length]) {
    const parts = await collect(chunked(bytes, size), boundary);
    assert.deepEqual(parts.map((p) => [p.name, p.filename]), [
      ["note", undefined],
      ["file", files[0].name],
      ["file", files[1].name],
    ], `chunks of ${size}`);
    assert.equal(new TextDecoder().decode(parts[0].data), "hello");
    assert.deepEqual(parts[1].data, tricky);
    assert.equal(parts[1].contentType, "application/pdf");
    assert.equal(parts[2].data.length, 0);
  }
});

Deno.test("`readMultipart()` lets a reader skip parts and rejects a body cut short", async () => {
  const form = new FormData();
  form.append("file", new Blob([new Uint8Array(10_000).fill(7)]), "a.bin");
  form.append("file", new Blob([utf8("second")]), "b.txt");
  const { bytes, boundary } = await encoded(form);
  const names = [];
  for await (const part of readMultipart(chunked(bytes, 100), boundary)) {
    names.push(part.filename);
    await part.body.read(); // reads one chunk, leaves the rest
  }
  assert.deepEqual(names, ["a.bin", "b.txt"]);
  await assert.rejects(
    collect(chunked(bytes.subarray(0, bytes.length - 10), 100), boundary),
    MultipartError,
  );
  await assert.rejects(collect(chunked(utf8("no boundary here"), 4), "xyz"), MultipartError);
});

// ---------------------------------------------------------------------------------------------
// receiveUploads() against a fake Storage

/** A Storage that reads uploads to their end (or their error) and keeps only what completed. */
function fakeStore() {
  const objects = new Map<string, { bytes: number; contentType: string }>();
  const aborted: string[] = [];
  const removed: string[] = [];
  const store: ObjectStore = {
    async upload(_bucket, path, body: ObjectBody, contentType) {
      let bytes = 0;
      if (body instanceof Uint8Array) bytes = body.length;
      else {
        try {
          for await (const chunk of body) bytes += chunk.length;
        } catch (err) {
          aborted.push(path);
          throw err;
        }
      }
      objects.set(path, { bytes, contentType });
    },
    download: () => Promise.reject(new Error("not used")),
    remove(_bucket, paths) {
      removed.push(...paths);
      for (const p of paths) objects.delete(p);
      return Promise.resolve();
    },
    signedUrl: () => Promise.reject(new Error("not used")),
  };
  return { store, objects, aborted, removed };
}

function uploadRequest(files: Array<[string, Uint8Array]>, chunk = 16 * 1024): Promise<Request> {
  const form = new FormData();
  for (const [name, bytes] of files) form.append("file", new Blob([bytes as BlobPart]), name);
  return encoded(form).then(({ bytes, boundary }) =>
    new Request("http://x/", {
      method: "POST",
      body: chunked(bytes, chunk),
      headers: { "content-type": `multipart/form-data; boundary=${boundary}` },
    })
  );
}

const WORKBENCH = "00000000-0000-4000-8000-000000000001";
/** The workbench has none of the uploaded content. */
const never = () => Promise.resolve(false);

Deno.test("`receiveUploads()` streams every file to Storage and reports what it stored", async () => {
  const fake = fakeStore();
  const csv = new Uint8Array(200_000).fill(0x41);
  const received = await receiveUploads(
    await uploadRequest([["big.csv", csv], ["memo.docx", makeDocx([{ paragraph: "x" }])]]),
    {
      workbenchId: WORKBENCH,
      limits: DEFAULT_LIMITS,
      store: fake.store,
      isKnown: never,
    },
  );
  assert.deepEqual(received.map((r) => [r.file.name, r.file.type, r.file.size]), [
    ["big.csv", "csv", 200_000],
    ["memo.docx", "docx", makeDocx([{ paragraph: "x" }]).length],
  ]);
  for (const r of received) {
    assert.ok(r.path?.startsWith(`${WORKBENCH}/${r.fileId}/`));
    assert.deepEqual(fake.objects.get(r.path!), {
      bytes: r.file.size,
      contentType: r.file.mimeType,
    });
  }
  assert.deepEqual(fake.aborted, []);
});

Deno.test("`receiveUploads()` removes what it stored when a later file is refused", async () => {
  const fake = fakeStore();
  const err = await receiveUploads(
    await uploadRequest([
      ["first.csv", new Uint8Array(200_000).fill(0x41)],
      ["second.txt", utf8("fine")],
      ["long.pdf", makePdf(Array.from({ length: 400 }, () => ["x"]))], // > 64 KB: streamed
      ["after.txt", utf8("read through, not stored")],
    ]),
    {
      workbenchId: WORKBENCH,
      limits: DEFAULT_LIMITS,
      store: fake.store,
      isKnown: never,
    },
  ).then(() => assert.fail("expected a refusal"), (e) => e);
  assert.ok(err instanceof HttpError);
  assert.equal(err.code, "pdf_too_many_pages");
  assert.equal(fake.objects.size, 0, "nothing is left in Storage");
  assert.equal(fake.aborted.length, 1, "the PDF's upload was aborted");
  assert.equal(fake.removed.length, 3, "the two stored files and the aborted one");
});

Deno.test("`receiveUploads()` aborts an oversized file's upload and answers with its size", async () => {
  const fake = fakeStore();
  const limits = { ...DEFAULT_LIMITS, maxFileBytes: 100_000 };
  const err = await receiveUploads(
    await uploadRequest([["big.csv", new Uint8Array(300_000).fill(0x41)]]),
    { workbenchId: WORKBENCH, limits, store: fake.store, isKnown: never },
  ).then(() => assert.fail("expected a refusal"), (e) => e);
  assert.equal(err.code, "file_too_large");
  assert.equal(err.details.size_bytes, 300_000);
  assert.equal(fake.aborted.length, 1);
  assert.equal(fake.objects.size, 0);
});

Deno.test("`receiveUploads()` does not store content the workbench (or the request) already has", async () => {
  const fake = fakeStore();
  const known = new Uint8Array(100_000).fill(0x42);
  const knownHash = await sha256(known);
  const small = utf8("twice");
  const received: Received[] = await receiveUploads(
    await uploadRequest([["known.txt", known], ["a.txt", small], ["b.txt", small]]),
    {
      workbenchId: WORKBENCH,
      limits: DEFAULT_LIMITS,
      store: fake.store,
      isKnown: (hash) => Promise.resolve(hash === knownHash),
    },
  );
  assert.deepEqual(received.map((r) => [r.file.name, r.path !== null]), [
    ["known.txt", false],
    ["a.txt", true],
    ["b.txt", false],
  ]);
  assert.equal(fake.objects.size, 1);
  assert.deepEqual(fake.aborted.length, 1, "the known file's upload stopped at its end");
});

Deno.test("`receiveUploads()` answers request-level errors in the old order", async () => {
  const fake = fakeStore();
  const opts = {
    workbenchId: WORKBENCH,
    limits: SMALL,
    store: fake.store,
    isKnown: never,
  };
  const codeOf = async (req: Request) =>
    await receiveUploads(req, opts).then(() => "ok", (e: HttpError) => e.code);
  const four = Array.from(
    { length: 4 },
    (_, i) => [`f${i}.txt`, utf8(`${i}`)] as [string, Uint8Array],
  );
  assert.equal(await codeOf(await uploadRequest(four)), "too_many_files");
  assert.equal(
    await codeOf(await uploadRequest([["logo.png", PNG], ...four])),
    "too_many_files",
    "the file count comes before a bad file",
  );
  assert.equal(
    await codeOf(
      await uploadRequest([["a.txt", new Uint8Array(600_000).fill(65)], [
        "b.txt",
        new Uint8Array(600_000).fill(66),
      ]]),
    ),
    "request_too_large",
  );
  assert.equal(await codeOf(await uploadRequest([])), "no_files");
  assert.equal(
    await codeOf(
      new Request("http://x/", {
        method: "POST",
        body: "{}",
        headers: { "content-type": "application/json" },
      }),
    ),
    "unsupported_media_type",
  );
  assert.equal(
    await codeOf(
      new Request("http://x/", {
        method: "POST",
        body: "garbage",
        headers: { "content-type": "multipart/form-data; boundary=zz" },
      }),
    ),
    "invalid_multipart",
  );
  assert.equal(fake.objects.size, 0);
});
