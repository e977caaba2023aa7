/**
 * An indexing step embeds with no transaction open: while the embedding service answers (an HTTP
 * round trip per batch with Hugging Face), the database serves everybody else. On the local
 * platform a transaction held across the call would hold PGlite's only session, and any other
 * statement would wait for it.
 */
import assert from "node:assert/strict";
import { getDb } from "../shared/db.ts";
import { createLocalEmbedder, type Embedder, EmbeddingError } from "../shared/embeddings.ts";
import { DEFAULT_STEP_CONFIG, type FileRow, runStep } from "../shared/indexing/mod.ts";
import { createObjectStore } from "../shared/storage.ts";
import { makeCsv } from "./fixtures/documents.ts";
import { signUpUser, startTestStack } from "./helpers/stack.ts";

/** Resolves with `p`, or rejects after `ms` (and stops the timer either way). */
async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what}: no answer in ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

Deno.test("`runStep()` holds no transaction while the embedder works", {
  sanitizeOps: false,
  sanitizeResources: false,
}, async () => {
  const stack = await startTestStack({ autoWorker: false });
  const sql = getDb();
  try {
    const alice = await signUpUser(stack, "alice");
    const { data: wb } = await alice.client.functions.invoke("workbenches", {
      body: { name: "Embedding" },
    });
    const rows = Array.from({ length: 40 }, (_, i) => [`2025-${i}`, 1000 + i, `note ${i}`]);
    const fd = new FormData();
    fd.append("file", new Blob([makeCsv(["month", "revenue", "note"], rows) as BlobPart]), "r.csv");
    const { data: up, error } = await alice.client.functions.invoke(`workbenches/${wb.id}/files`, {
      body: fd,
    });
    assert.equal(error, null);
    const fileId: string = up.files[0].id;

    // While each batch is being embedded, another statement must run at once.
    const local = createLocalEmbedder();
    const probes: number[] = [];
    const embedder: Embedder = {
      model: local.model,
      dimensions: local.dimensions,
      embed: async (texts) => {
        const [row] = await within(
          sql<{ n: number }[]>`select count(*)::int as n from public.workbench_files
             where id = ${fileId}`,
          5000,
          "a statement sent while the step embeds",
        );
        probes.push(row!.n);
        return await local.embed(texts);
      },
    };
    const store = createObjectStore(stack.apiUrl, stack.serviceRoleKey);
    const [file] = await sql<FileRow[]>`select id, workbench_id, file_type, storage_path, status,
      attempts, page_count, progress from public.workbench_files where id = ${fileId}`;
    const config = {
      ...DEFAULT_STEP_CONFIG,
      embedBatchSize: 1,
      chunkTokens: 100,
      overlapTokens: 0,
    };

    // The embedding service fails on the second batch: the step fails and writes nothing.
    let calls = 0;
    const failing: Embedder = {
      ...embedder,
      embed: (texts) => {
        calls++;
        return calls === 2
          ? Promise.reject(new EmbeddingError("the embedding service is unavailable (HTTP 503)"))
          : embedder.embed(texts);
      },
    };
    await assert.rejects(runStep({ sql, store, embedder: failing, config }, file!), EmbeddingError);
    const [untouched] = await sql`select status, progress, chunks_done,
        (select count(*)::int from public.workbench_chunks where file_id = ${fileId}) as chunks
      from public.workbench_files where id = ${fileId}`;
    assert.deepEqual(
      { ...untouched },
      { status: file!.status, progress: file!.progress, chunks_done: 0, chunks: 0 },
      "no chunk and no cursor from a step whose embedding failed",
    );

    probes.length = 0;
    const outcome = await runStep({ sql, store, embedder, config }, file!);
    assert.equal(outcome.done, true);
    // Each probe answered within its 5 s (else `within` threw and the step failed).
    assert.ok(probes.length > 1, `several batches were embedded (${probes.length})`);
    const [chunks] = await sql<{ n: number; embedded: number }[]>`
      select count(*)::int as n, count(embedding)::int as embedded
        from public.workbench_chunks where file_id = ${fileId}`;
    assert.equal(chunks!.n, probes.length, "one chunk per embedded batch of one");
    assert.equal(chunks!.embedded, chunks!.n);
    const [after] = await sql`select status, chunks_done from public.workbench_files
      where id = ${fileId}`;
    assert.deepEqual({ ...after }, { status: "indexed", chunks_done: chunks!.n });
  } finally {
    await stack.stop();
  }
});
