import assert from "node:assert/strict";
import { boundaryOf, parseMultipart } from "../../local/multipart.ts";

Deno.test("parseMultipart() reads fields and binary files, including an empty field name", async () => {
  const binary = new Uint8Array([0, 13, 10, 45, 45, 255, 128]);
  const form = new FormData();
  form.append("cacheControl", "3600");
  form.append("", new Blob([binary], { type: "application/pdf" }), "a.pdf");
  const req = new Request("http://x/", { method: "POST", body: form });
  const boundary = boundaryOf(req.headers.get("content-type")!);
  assert.ok(boundary);
  const parts = parseMultipart(new Uint8Array(await req.arrayBuffer()), boundary);
  assert.equal(parts.length, 2);
  assert.equal(new TextDecoder().decode(parts[0].data), "3600");
  assert.equal(parts[1].name, "");
  assert.equal(parts[1].filename, "a.pdf");
  assert.equal(parts[1].contentType, "application/pdf");
  assert.deepEqual(parts[1].data, binary);
});
