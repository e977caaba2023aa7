/**
 * Indexing steps with the built-in embedder (Supabase.ai gte-small, used without HF_TOKEN): the
 * model runs in the request, so its time is CPU within the Edge limit. The stand-in
 * `Supabase.ai` (tests/fakes/supabase_ai.ts) costs a fixed time per chunk on a fake clock, so the
 * budget is tested without a slow model and without timed assertions.
 */
import assert from "node:assert/strict";
import { chunkBlocks } from "../../shared/chunking.ts";
import {
  createLocalEmbedder,
  cutToModelInput,
  embedderFromEnv,
  GTE_SMALL_MAX_CHARS,
  SUPABASE_AI_MODEL,
} from "../../shared/embeddings.ts";
import {
  DEFAULT_STEP_CONFIG,
  type FileRow,
  runStep,
  stepConfigFromEnv,
  stepPlan,
} from "../../shared/indexing/mod.ts";
import { extract } from "../../shared/parsers/mod.ts";
import type { ObjectStore } from "../../shared/storage.ts";
import { makeCsv } from "../fixtures/documents.ts";
import { fakeSupabaseAi } from "../fakes/supabase_ai.ts";
import {
  createFile,
  createUser,
  createWorkbench,
  startMigratedDb,
} from "../helpers/retrieval_db.ts";

Deno.test("`stepPlan()` sizes steps and batches for the built-in embedder from its cost per chunk", () => {
  const builtin = embedderFromEnv({}, fakeSupabaseAi().runtime);
  // Defaults: 1000 ms of model per step at an assumed 150 ms per chunk, two chunks per call,
  // chunks of at most 1530 characters (gte-small's 510 tokens at 3 characters per token; the
  // chunker counts 4 per token).
  assert.deepEqual(stepPlan(DEFAULT_STEP_CONFIG, builtin), {
    batchSize: 2,
    chunksPerStep: 6,
    cpuBudgetMs: 300 + 1000,
    msPerChunk: 150,
    chunkTokens: 382,
    overlapTokens: 95,
    sliceBytes: 382 * 4,
  });
  // Configured by environment: a faster model gets more chunks per step.
  const env = stepConfigFromEnv({
    INDEX_BUILTIN_EMBED_MS_PER_CHUNK: "40",
    INDEX_BUILTIN_EMBED_MS_PER_STEP: "1200",
    INDEX_BUILTIN_EMBED_BATCH_SIZE: "5",
  });
  const plan = stepPlan(env, builtin);
  assert.deepEqual([plan.chunksPerStep, plan.batchSize, plan.cpuBudgetMs], [30, 5, 1500]);
  // Never above the step's chunk limit, never below one chunk.
  assert.equal(stepPlan({ ...env, extractChunksPerStep: 10 }, builtin).chunksPerStep, 10);
  assert.equal(stepPlan({ ...env, builtinEmbedMsPerChunk: 5000 }, builtin).chunksPerStep, 1);
  // A remote or local embedder keeps the config as it is: its time is waiting, not CPU.
  assert.deepEqual(stepPlan(DEFAULT_STEP_CONFIG, createLocalEmbedder()), {
    batchSize: 32,
    chunksPerStep: 512,
    cpuBudgetMs: 300,
    msPerChunk: 0,
    chunkTokens: 800,
    overlapTokens: 200,
  });
});

/**
 * Indexes a 1000-row CSV step by step with the stand-in built-in model costing `msPerChunk` on
 * the fake clock while the config assumes `assumedMsPerChunk`; checks every step's model time
 * against the step's CPU budget and the chunks against one pass over the file.
 */
async function indexStepByStep(
  msPerChunk: number,
  assumedMsPerChunk: number,
  opts: { maxStepModelMs?: number } = {},
) {
  const db = await startMigratedDb();
  try {
    const sql = db.sql;
    const workbench = await createWorkbench(sql, await createUser(sql));
    const fileId = await createFile(sql, workbench, "ledger.csv", "pending");
    const rows = Array.from(
      { length: 1000 },
      (_, i) => [`2025-${i}`, 1000 + i, `account ${i} moved by ${i * 7} this month`],
    );
    const bytes = makeCsv(["month", "revenue", "note"], rows);
    const store = { download: () => Promise.resolve(bytes) } as unknown as ObjectStore;
    const ai = fakeSupabaseAi({ msPerRun: msPerChunk });
    const embedder = embedderFromEnv({}, ai.runtime);
    const config = {
      ...DEFAULT_STEP_CONFIG,
      builtinEmbedMsPerChunk: assumedMsPerChunk,
      builtinEmbedMsPerStep: 500,
    };
    const plan = stepPlan(config, embedder);
    const steps: { modelMs: number; chunks: number }[] = [];
    for (let i = 0; i < 200; i++) {
      const [file] = await sql<FileRow[]>`select id, workbench_id, file_type, storage_path, status,
        attempts, page_count, progress from public.workbench_files where id = ${fileId}`;
      const [ms, calls] = [ai.clock.now(), ai.calls.length];
      const outcome = await runStep({ sql, store, embedder, config, now: ai.clock.now }, file!);
      steps.push({ modelMs: ai.clock.now() - ms, chunks: ai.calls.length - calls });
      if (outcome.done) break;
    }

    // Every step's model time fits the step's CPU budget; so the file takes several steps.
    const limit = opts.maxStepModelMs ?? plan.cpuBudgetMs;
    for (const [i, step] of steps.entries()) {
      assert.ok(
        step.modelMs <= limit,
        `step ${i}: ${step.modelMs} ms of model, at most ${limit} ms`,
      );
    }
    assert.ok(steps.length > 3, `${steps.length} steps`);
    assert.ok(steps.every((s) => s.chunks > 0), "every step makes progress");

    // Together: the chunks of one pass over the file, each embedded once, in order.
    const expected = chunkBlocks((await extract("csv", bytes)).blocks, {
      maxTokens: plan.chunkTokens,
      overlapTokens: plan.overlapTokens,
    });
    const chunks = await sql<{ chunk_index: number; content: string; model: string }[]>`
      select chunk_index, content, embedding_model as model from public.workbench_chunks
       where file_id = ${fileId} and embedding is not null order by chunk_index`;
    assert.deepEqual(chunks.map((c) => c.chunk_index), [...expected.keys()]);
    assert.deepEqual(chunks.map((c) => c.content), expected.map((c) => c.content));
    assert.ok(chunks.every((c) => c.model === SUPABASE_AI_MODEL));
    assert.deepEqual(
      ai.calls.map((c) => c.input),
      expected.map((c) => cutToModelInput(c.content, GTE_SMALL_MAX_CHARS)),
      "each chunk went through the model once",
    );
    assert.equal(steps.reduce((n, s) => n + s.chunks, 0), expected.length);
    const [file] = await sql`select status, chunks_done, chunks_total from public.workbench_files
      where id = ${fileId}`;
    assert.deepEqual({ ...file }, {
      status: "indexed",
      chunks_done: expected.length,
      chunks_total: expected.length,
    });
  } finally {
    await db.stop();
  }
}

Deno.test("`runStep()` with the built-in embedder stops within its CPU budget and the next step goes on without losing or duplicating chunks", async () => {
  // Each chunk costs the model 100 ms of CPU, as the config assumes.
  await indexStepByStep(100, 100);
});

Deno.test("`runStep()` with a built-in model slower than assumed stops by the cost it measured", async () => {
  // 250 ms per chunk where 100 are assumed: the per-step cap (5 chunks, 1250 ms) alone would not
  // hold the budget; the cost measured in the step does.
  await indexStepByStep(250, 100);
});

Deno.test("`runStep()` with the built-in embedder takes a chunk even when one costs more than the budget", async () => {
  await indexStepByStep(3000, 3000, { maxStepModelMs: 2 * 3000 });
});
