/** Reads back the PDFs the tests make or download, through pdf.js (unpdf) as a reader would. */
import assert from "node:assert/strict";
import { extractText, getDocumentProxy } from "unpdf";

/** The text of every page of a PDF (pages joined by newlines), and its page count. */
export async function pdfText(bytes: Uint8Array): Promise<{ pages: number; text: string }> {
  const pdf = await getDocumentProxy(new Uint8Array(bytes));
  const { totalPages, text } = await extractText(pdf, { mergePages: true });
  return { pages: totalPages, text };
}

/** Downloads a PDF (200, starts with `%PDF-`) and returns its text. */
export async function downloadedPdfText(url: string): Promise<string> {
  const res = await fetch(url);
  assert.equal(res.status, 200);
  const bytes = new Uint8Array(await res.arrayBuffer());
  assert.equal(new TextDecoder().decode(bytes.subarray(0, 5)), "%PDF-");
  return (await pdfText(bytes)).text;
}
