/**
 * The retrieval eval as a test: the same code as `task eval` (bench/retrieval_eval.ts: the corpus
 * indexed by the index worker on PGlite, the BM25 baseline in TypeScript, the product's search
 * as the owner under RLS), with the built-in deterministic embedder the eval uses without
 * HF_TOKEN. It fails when hybrid hit@1 drops below the BM25 baseline of the same run or below the
 * figures docs/retrieval.md states, or when a table question (an entity's value in a period) is
 * not answered by its row first.
 */
import assert from "node:assert/strict";
import { createLocalEmbedder } from "../../shared/embeddings.ts";
import { indexEvalCorpus, type RankingResult, runEval } from "../../bench/retrieval_eval.ts";
import { evalQuestions } from "../fixtures/eval/corpus.ts";
import { startMigratedDb } from "../helpers/retrieval_db.ts";

/** The rows of docs/retrieval.md's quality table: ranking → [hit@1, hit@5, MRR, table hit@1]. */
async function statedFigures(): Promise<Map<string, number[]>> {
  const doc = await Deno.readTextFile(new URL("../../docs/retrieval.md", import.meta.url));
  const section = doc.split("## Quality")[1];
  assert.ok(section, "docs/retrieval.md has a Quality section");
  const figures = new Map<string, number[]>();
  for (const line of section.split("\n")) {
    const cells = line.split("|").map((c) => c.trim().replaceAll("*", ""));
    if (cells.length < 7 || !/^\d/.test(cells[2] ?? "")) continue;
    figures.set(cells[1]!, cells.slice(2, 6).map(Number));
  }
  return figures;
}

Deno.test({
  name: "retrieval eval (on PGlite, the local embedder)",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    const embedder = createLocalEmbedder();
    const db = await startMigratedDb();
    let results: RankingResult[] = [];
    try {
      const wb = await indexEvalCorpus(db.sql, embedder);
      results = await runEval(db.sql, embedder, wb);
    } finally {
      await db.stop();
    }
    const by = new Map(results.map((r) => [r.name, r]));
    const bm25 = by.get("BM25 (baseline)")!;
    const hybrid = by.get("hybrid")!;
    const text = by.get("full text only")!;

    await t.step("the set has at least 40 questions, table questions among them", () => {
      assert.ok(evalQuestions().length >= 40);
      assert.ok(hybrid.table.n >= 10, `table questions: ${hybrid.table.n}`);
    });

    await t.step("`runEval()` ranks hybrid at least as well as BM25 in the same run", () => {
      assert.ok(
        hybrid.all.hit1 >= bm25.all.hit1,
        `hybrid hit@1 ${hybrid.all.hit1} < BM25 ${bm25.all.hit1}\n${hybrid.misses.join("\n")}`,
      );
      assert.ok(text.all.hit1 >= bm25.all.hit1, `full text ${text.all.hit1} < ${bm25.all.hit1}`);
      assert.ok(hybrid.all.mrr >= bm25.all.mrr, `hybrid MRR ${hybrid.all.mrr} < ${bm25.all.mrr}`);
    });

    await t.step("`runEval()` answers every table question with its row first", () => {
      assert.equal(
        hybrid.table.hit1,
        1,
        `table hit@1 ${hybrid.table.hit1}\n${
          hybrid.misses.filter((m) => !m.startsWith("rank 1")).join("\n")
        }`,
      );
      assert.equal(text.table.hit1, 1);
    });

    await t.step("`runEval()` meets the figures docs/retrieval.md states", async () => {
      const stated = await statedFigures();
      const floor = stated.get("hybrid");
      assert.ok(floor, "docs/retrieval.md states hybrid's figures");
      const [hit1, hit5, mrr, table] = floor;
      assert.ok(hybrid.all.hit1 >= hit1! - 0.005, `hybrid hit@1 ${hybrid.all.hit1} < ${hit1}`);
      assert.ok(hybrid.all.hit5 >= hit5! - 0.005, `hybrid hit@5 ${hybrid.all.hit5} < ${hit5}`);
      assert.ok(hybrid.all.mrr >= mrr! - 5e-4, `hybrid MRR ${hybrid.all.mrr} < ${mrr}`);
      assert.ok(hybrid.table.hit1 >= table! - 0.005, `table hit@1 ${hybrid.table.hit1} < ${table}`);
      // The baseline is the same computation every run (figures rounded as stated).
      const base = stated.get("BM25 (baseline)");
      assert.ok(base, "docs/retrieval.md states the baseline's figures");
      assert.equal(bm25.all.hit1.toFixed(2), base[0]!.toFixed(2));
    });
  },
});
