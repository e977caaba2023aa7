/**
 * A worker that dies mid-file: its message comes back after the visibility timeout and the next
 * worker finishes the file exactly once, without duplicate chunks.
 */
import assert from "node:assert/strict";
import { createClient } from "@supabase/supabase-js";
import { chunkBlocks } from "../shared/chunking.ts";
import { getDb } from "../shared/db.ts";
import { createLocalEmbedder } from "../shared/embeddings.ts";
import {
  DEFAULT_STEP_CONFIG,
  type FileRow,
  runStep,
  StaleStepError,
} from "../shared/indexing/step.ts";
import { createObjectStore } from "../shared/storage.ts";
import { extract } from "../shared/parsers/mod.ts";
import { makePdf } from "./fixtures/documents.ts";
import { eventually, signUpUser, startTestStack } from "./helpers/stack.ts";

Deno.test("index-worker: a crash mid-file is redone once, without duplicate chunks", {
  sanitizeOps: false,
  sanitizeResources: false,
}, async () => {
  const stack = await startTestStack({
    autoWorker: false, // no pg_net sending or cron: the test plays the scheduler
    // Steps of exactly two pages: no time budget cuts a step short (a cold isolate loading pdf.js
    // would otherwise stop after one page), so the cursor positions below are exact.
    functionEnv: {
      INDEX_PDF_PAGES_PER_STEP: "2",
      INDEX_STEP_WORK_MS: "60000",
      INDEX_VISIBILITY_TIMEOUT_SEC: "2",
    },
  });
  const sql = getDb();
  const service = createClient(stack.apiUrl, stack.serviceRoleKey, {
    auth: { persistSession: false, autoRefreshToken: false },
  });
  const work = async () => {
    const { data, error } = await service.functions.invoke("index-worker", { body: {} });
    assert.equal(error, null);
    return data;
  };
  try {
    const alice = await signUpUser(stack, "alice");
    const { data: wb } = await alice.client.functions.invoke("workbenches", {
      body: { name: "W" },
    });
    // Pages long enough that chunks span step boundaries (the chunker carries over between steps).
    const pages = Array.from(
      { length: 6 },
      (_, i) =>
        Array.from(
          { length: 45 },
          (_, l) => `Page ${i + 1} line ${l + 1} talks about topic ${i + 1} at some length.`,
        ),
    );
    const pdf = makePdf(pages);
    const fd = new FormData();
    fd.append("file", new Blob([pdf as BlobPart]), "six.pdf");
    const { data: up, error } = await alice.client.functions.invoke(`workbenches/${wb.id}/files`, {
      body: fd,
    });
    assert.equal(error, null);
    const fileId = up.files[0].id;

    // A user may not call the worker.
    const denied = await alice.client.functions.invoke("index-worker", { body: {} });
    assert.equal(denied.response?.status, 403);

    // Step 1 extracts pages 1-2 and commits its chunks with the cursor.
    assert.deepEqual(await work(), { status: "stepped", file_id: fileId, phase: "extract" });
    const [after1] = await sql`select progress from public.workbench_files where id = ${fileId}`;
    assert.equal(after1.progress.phase, "extract");
    assert.equal(after1.progress.next_page, 3);
    assert.equal(after1.progress.next_chunk, 1, "one full chunk; the rest is held in the cursor");
    assert.equal(after1.progress.chunker.mode, "text");
    // The API reports how much of the file the steps have read (two pages of six).
    const { data: partly } = await alice.client.functions.invoke(
      `workbenches/${wb.id}/files/${fileId}`,
      { method: "GET" },
    );
    assert.equal(partly.progress, after1.progress.fraction);
    assert.ok(partly.progress > 0.2 && partly.progress < 0.5, `progress ${partly.progress}`);

    // A worker takes the message for step 2 (hidden for `vtSec`), counts its attempt as every
    // worker does first, and is killed before its step commits.
    const crash = async (vtSec: number) => {
      const taken = await sql`select * from pgmq.read('file_index', ${vtSec}::int, 1)`;
      assert.equal(taken.length, 1);
      await sql`update public.workbench_files set attempts = attempts + 1 where id = ${
        taken[0].message.file_id
      }`;
    };
    await crash(2);
    assert.deepEqual(
      await work(),
      { status: "idle" },
      "the message is invisible while the dead worker holds it",
    );

    // After the visibility timeout the message is back and the file completes.
    const first = await eventually(async () => {
      const r = await work();
      return r.status === "idle" ? undefined : r;
    }, "the message back after its visibility timeout");
    const results = [first.status];
    for (let i = 1; i < 10 && first.status !== "indexed"; i++) {
      const r = await work();
      results.push(r.status);
      if (r.status === "indexed") break;
    }
    assert.equal(results.at(-1), "indexed", results.join(", "));
    assert.deepEqual(await work(), { status: "idle" }, "nothing is left to do: completed once");

    const chunks = await sql`select chunk_index, content from public.workbench_chunks
      where file_id = ${fileId} order by chunk_index`;
    const expected = chunkBlocks((await extract("pdf", pdf)).blocks).length;
    assert.ok(expected > 3);
    assert.equal(chunks.length, expected);
    assert.deepEqual(
      chunks.map((c) => c.chunk_index),
      [...Array(expected).keys()],
      "contiguous, no duplicates",
    );
    assert.equal(new Set(chunks.map((c) => c.content)).size, expected);
    assert.deepEqual(
      chunks.map((c) => c.content),
      chunkBlocks((await extract("pdf", pdf)).blocks).map((c) => c.content),
      "the same chunks as one pass over the file",
    );
    const [file] =
      await sql`select status, chunks_done, chunks_total, attempts from public.workbench_files
      where id = ${fileId}`;
    assert.deepEqual({ ...file }, {
      status: "indexed",
      chunks_done: expected,
      chunks_total: expected,
      attempts: 0,
    });
    const [{ n }] = await sql`select count(*)::int as n from pgmq.q_file_index`;
    assert.equal(n, 0, "the message is deleted once the file is indexed");
    const [{ requeued }] = await sql`select private.requeue_file(${fileId}) as requeued`;
    assert.equal(requeued, false, "only a file in error can be requeued");

    // A step that outlived its message (started from an old view of the file) writes nothing.
    const store = createObjectStore(stack.apiUrl, stack.serviceRoleKey);
    const [row] = await sql<FileRow[]>`select id, workbench_id, file_type, storage_path, status,
      attempts, page_count, progress from public.workbench_files where id = ${fileId}`;
    const deps = { sql, store, embedder: createLocalEmbedder(), config: DEFAULT_STEP_CONFIG };
    await assert.rejects(
      runStep(deps, { ...row, status: "processing", progress: after1.progress }),
      StaleStepError,
    );
    await assert.rejects(
      runStep(deps, {
        ...row,
        status: "processing",
        progress: { phase: "embed", next_chunk: expected },
      }),
      StaleStepError,
    );
    const [still] =
      await sql`select status, chunks_total, (select count(*)::int from public.workbench_chunks
      where file_id = ${fileId}) as chunks from public.workbench_files where id = ${fileId}`;
    assert.deepEqual({ ...still }, { status: "indexed", chunks_total: expected, chunks: expected });

    // A file that kills every worker ends in `error` after three attempts instead of looping.
    const fd2 = new FormData();
    fd2.append("file", new Blob([makePdf([["deadly"]]) as BlobPart]), "deadly.pdf");
    const up2 = await alice.client.functions.invoke(`workbenches/${wb.id}/files`, { body: fd2 });
    const deadly = up2.data.files[0].id;
    // Each dead worker's visibility timeout has passed by the next read (0 s).
    for (let i = 0; i < 3; i++) await crash(0);
    const last = await work();
    assert.equal(last.status, "failed");
    const [dead] = await sql`select status, error_message, attempts from public.workbench_files
      where id = ${deadly}`;
    assert.deepEqual({ ...dead }, {
      status: "error",
      error_message:
        "indexing stopped after 3 attempts: the file is too large or too complex to process",
      attempts: 3,
    });
    const [{ archived }] = await sql`select count(*)::int as archived from pgmq.a_file_index`;
    assert.equal(archived, 1, "its message is archived");
  } finally {
    await stack.stop();
  }
});
