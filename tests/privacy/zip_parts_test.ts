/**
 * The export's ZIP written in parts (functions/me/zip_parts.ts, an internal of the me function):
 * parts written at their offsets and concatenated with the central directory read back as one
 * archive with every entry's bytes, UTF-8 names included.
 */
import assert from "node:assert/strict";
import { unzipSync } from "fflate";
import { zipEnd, zipPart } from "../../functions/me/zip_parts.ts";

Deno.test("`zipPart()` parts and `zipEnd()` concatenated are one ZIP that fflate reads", () => {
  const enc = new TextEncoder();
  const first = zipPart([
    { name: "profile.json", data: enc.encode('{"a":1}') },
    { name: "files/wb/ä.txt", data: enc.encode("umlaut") },
  ], 0);
  const big = new Uint8Array(70_000).map((_, i) => (i * 31 + 7) % 251);
  const second = zipPart([{ name: "files/wb/big.bin", data: big }], first.bytes.length);
  const offset = first.bytes.length + second.bytes.length;
  const end = zipEnd([...first.entries, ...second.entries], offset);
  const zip = new Uint8Array(offset + end.length);
  zip.set(first.bytes, 0);
  zip.set(second.bytes, first.bytes.length);
  zip.set(end, offset);
  const files = unzipSync(zip);
  assert.deepEqual(Object.keys(files).sort(), [
    "files/wb/big.bin",
    "files/wb/ä.txt",
    "profile.json",
  ]);
  assert.equal(new TextDecoder().decode(files["profile.json"]), '{"a":1}');
  assert.equal(new TextDecoder().decode(files["files/wb/ä.txt"]), "umlaut");
  assert.deepEqual(files["files/wb/big.bin"], big);
  assert.equal(second.entries[0].offset, first.bytes.length, "entries record their offsets");
});
