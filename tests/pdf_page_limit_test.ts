/**
 * The worker holds every PDF to the page limit, including those whose page count the upload check
 * could not read cheaply: such a file ends in `error` with a readable message, and nothing of it
 * is indexed.
 */
import assert from "node:assert/strict";
import { makePdf } from "./fixtures/documents.ts";
import { eventually, signUpUser, startTestStack } from "./helpers/stack.ts";

Deno.test("index-worker: a PDF over the page limit ends in error with the page count", {
  sanitizeOps: false,
  sanitizeResources: false,
}, async () => {
  const stack = await startTestStack({ functionEnv: { INDEX_MAX_PDF_PAGES: "3" } });
  try {
    const alice = await signUpUser(stack, "alice");
    const { data: wb } = await alice.client.functions.invoke("workbenches", {
      body: { name: "Pages" },
    });
    const form = new FormData();
    const pages = Array.from({ length: 5 }, (_, i) => [`Page ${i + 1} of the board pack.`]);
    form.append("file", new Blob([makePdf(pages) as BlobPart]), "pack.pdf");
    const { data: up, error } = await alice.client.functions.invoke(`workbenches/${wb.id}/files`, {
      body: form,
    });
    assert.equal(error, null);
    const file = await eventually(
      async () => {
        const { data } = await alice.client.functions.invoke(
          `workbenches/${wb.id}/files/${up.files[0].id}`,
          { method: "GET" },
        );
        return data?.status === "error" || data?.status === "indexed" ? data : undefined;
      },
      "the file to settle",
      30_000,
    );
    assert.equal(file.status, "error");
    assert.equal(file.error_message, "the PDF has 5 pages; the limit is 3");
    assert.equal(file.chunks_done, 0);
  } finally {
    await stack.stop();
  }
});
