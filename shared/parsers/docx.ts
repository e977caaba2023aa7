/** DOCX extraction with mammoth: headings, paragraphs and lists as text, tables as table blocks. */
import { Buffer } from "node:buffer";
import mammoth from "mammoth";
import mammothPromises from "mammoth/lib/promises.js";
import { htmlToBlocks } from "./html_blocks.ts";
import { type ExtractResult, ParseError } from "./types.ts";

// mammoth wraps its results in a Promise subclass built with `__proto__` assignments, which Deno
// disables (Object.prototype.__proto__ is removed): `convertToHtml` then fails with
// "ExternalPromise.resolve is not a function". Returning the native promise changes nothing else.
if (typeof mammothPromises?.toExternalPromise === "function") {
  mammothPromises.toExternalPromise = (promise: Promise<unknown>) => Promise.resolve(promise);
}

/** Images are dropped rather than inlined as base64 data URIs: only text is wanted. */
const noImages = mammoth.images.imgElement(() => Promise.resolve({ src: "" }));

/** Extracts a Word document: text blocks carry their nearest heading, tables become tables. */
export async function extractDocx(bytes: Uint8Array): Promise<ExtractResult> {
  let html: string;
  try {
    const result = await mammoth.convertToHtml({ buffer: Buffer.from(bytes) }, {
      convertImage: noImages,
      externalFileAccess: false,
    });
    html = result.value;
  } catch {
    throw new ParseError("file is not a valid DOCX");
  }
  const blocks = htmlToBlocks(html);
  if (blocks.length === 0) throw new ParseError("the document has no text");
  return { blocks };
}
