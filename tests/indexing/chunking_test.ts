import assert from "node:assert/strict";
import { CHARS_PER_TOKEN, chunkBlocks, estimateTokens } from "../../shared/chunking.ts";
import type { Block } from "../../shared/parsers/mod.ts";

Deno.test("estimateTokens() counts one token per four characters", () => {
  assert.equal(CHARS_PER_TOKEN, 4);
  assert.equal(estimateTokens(""), 0);
  assert.equal(estimateTokens("abcd"), 1);
  assert.equal(estimateTokens("abcde"), 2);
});

Deno.test("chunkBlocks() keeps chunks within the size and overlaps consecutive chunks", () => {
  const paragraphs = Array.from(
    { length: 60 },
    (_, i) => `Paragraph ${i} ${"word ".repeat(40)}`.trim(),
  );
  const blocks: Block[] = [{ kind: "text", text: paragraphs.join("\n\n"), page: 1 }];
  const chunks = chunkBlocks(blocks, { maxTokens: 200, overlapTokens: 50 });
  assert.ok(chunks.length > 3);
  for (const c of chunks) {
    assert.ok(c.content.length <= 200 * 4, `chunk of ${c.content.length} chars`);
  }
  for (let i = 1; i < chunks.length; i++) {
    const head = chunks[i].content.split("\n\n")[0];
    assert.ok(chunks[i - 1].content.endsWith(head), "the next chunk starts with the previous tail");
    assert.ok(head.length > 0 && head.length <= 50 * 4, "the overlap is at most 50 tokens");
  }
  const all = chunks.map((c) => c.content).join("\n\n");
  for (const p of paragraphs) assert.ok(all.includes(p), "no paragraph is lost");
});

Deno.test("chunkBlocks() never crosses a heading and records page ranges", () => {
  const blocks: Block[] = [
    { kind: "text", text: "Intro text.", heading: "Intro", page: 1 },
    { kind: "text", text: "More intro.", heading: "Intro", page: 2 },
    { kind: "text", text: "Risks text.", heading: "Risks", page: 2 },
  ];
  const chunks = chunkBlocks(blocks);
  assert.deepEqual(chunks.map((c) => c.metadata), [
    { page: 1, page_end: 2, heading: "Intro" },
    { page: 2, heading: "Risks" },
  ]);
});

Deno.test("chunkBlocks() splits tables by rows and repeats the header in every chunk", () => {
  const rows = Array.from({ length: 100 }, (_, i) => [`2026-01-${i}`, `acct-${i}`, String(i * 10)]);
  const chunks = chunkBlocks([
    { kind: "table", sheet: "Ledger", header: ["date", "account", "amount"], rows, firstRow: 2 },
  ], { maxTokens: 100, overlapTokens: 10 });
  assert.ok(chunks.length > 2);
  for (const c of chunks) {
    assert.ok(c.content.startsWith("Sheet: Ledger\ndate | account | amount\n"));
    assert.equal(c.metadata.sheet, "Ledger");
  }
  assert.equal(chunks[0].metadata.row_start, 2);
  assert.equal(chunks.at(-1)!.metadata.row_end, 101);
  for (let i = 1; i < chunks.length; i++) {
    assert.equal(
      chunks[i].metadata.row_start,
      Number(chunks[i - 1].metadata.row_end) + 1,
      "no gaps, no overlap",
    );
  }
});

Deno.test("chunkBlocks() refuses an overlap as large as the chunk", () => {
  assert.throws(() => chunkBlocks([], { maxTokens: 100, overlapTokens: 100 }), /overlap/);
});
