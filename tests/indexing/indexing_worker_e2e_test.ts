/**
 * The indexing worker and the upload path when something fails, on two stacks (one per
 * configuration) with one step per scenario.
 *
 * With the worker driven by the test (no pg_net sending, no cron):
 * - a worker that dies mid-file: its message comes back after the visibility timeout and the next
 *   worker finishes the file exactly once, without duplicate chunks;
 * - a workbench deleted while its file is being indexed: the step's failure (its chunks' file is
 *   gone) ends the message quietly instead of being retried as an error;
 * - an indexing step embeds with no transaction open: while the embedding service answers (an
 *   HTTP round trip per batch with Hugging Face), the database serves everybody else. On the local
 *   platform a transaction held across the call would hold PGlite's only session, and any other
 *   statement would wait for it.
 *
 * With the pipeline running on its own (a PDF page limit of 3):
 * - the worker holds every PDF to the page limit, including those whose page count the upload
 *   check could not read cheaply: such a file ends in `error` with a readable message, and nothing
 *   of it is indexed;
 * - no orphans: the workbenches function is killed (SIGKILL, as the runtime kills it at a limit) in
 *   the middle of a 20-file upload, after some files' bytes are stored and before any row is
 *   written. Nothing refers to those objects; the sweep queues them once they are older than the
 *   grace period, and the worker removes them. The function serves the next request from a fresh
 *   isolate.
 *
 * The steps share their stack, so their order matters: the crash scenario expects the file_index
 * queue to hold only its own messages and leaves it empty; the deleted-file scenario then takes
 * the next message, its own; the embedding scenario runs its step directly and leaves its message
 * behind, so it comes last. The page-limit scenario runs before the orphan sweep's grace period is
 * set to 0.
 */
import assert from "node:assert/strict";
import { createClient } from "@supabase/supabase-js";
import { chunkBlocks } from "../../shared/chunking.ts";
import { getDb } from "../../shared/db.ts";
import { createLocalEmbedder, type Embedder, EmbeddingError } from "../../shared/embeddings.ts";
import {
  DEFAULT_STEP_CONFIG,
  DEFAULT_WORKER_CONFIG,
  type FileRow,
  processNextFile,
  runStep,
  StaleStepError,
} from "../../shared/indexing/mod.ts";
import { extract } from "../../shared/parsers/mod.ts";
import { createObjectStore, type ObjectStore } from "../../shared/storage.ts";
import { makeCsv, makePdf } from "../fixtures/documents.ts";
import { eventually, signUpUser, startTestStack } from "../helpers/stack.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };

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

/** Regular files under a directory (0 when it does not exist). */
async function filesUnder(dir: string): Promise<number> {
  let n = 0;
  try {
    for await (const e of Deno.readDir(dir)) {
      n += e.isDirectory ? await filesUnder(`${dir}/${e.name}`) : 1;
    }
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
  return n;
}

Deno.test("index-worker scenarios driven step by step (no pg_net, no cron)", opts, async (t) => {
  const stack = await startTestStack({
    autoWorker: false, // no pg_net sending or cron: the test plays the scheduler
    // The settings below are the index-worker function's: only the crash step calls it.
    // Steps of exactly two pages: no time budget cuts a step short (a cold isolate loading pdf.js
    // would otherwise stop after one page), so the cursor positions below are exact.
    functionEnv: {
      INDEX_PDF_PAGES_PER_STEP: "2",
      INDEX_STEP_WORK_MS: "60000",
      INDEX_VISIBILITY_TIMEOUT_SEC: "2",
    },
  });
  const sql = getDb();
  try {
    await t.step(
      "index-worker: a crash mid-file is redone once, without duplicate chunks",
      async () => {
        const service = createClient(stack.apiUrl, stack.serviceRoleKey, {
          auth: { persistSession: false, autoRefreshToken: false },
        });
        const work = async () => {
          const { data, error } = await service.functions.invoke("index-worker", { body: {} });
          assert.equal(error, null);
          return data;
        };
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
        const { data: up, error } = await alice.client.functions.invoke(
          `workbenches/${wb.id}/files`,
          {
            body: fd,
          },
        );
        assert.equal(error, null);
        const fileId = up.files[0].id;

        // A user may not call the worker.
        const denied = await alice.client.functions.invoke("index-worker", { body: {} });
        assert.equal(denied.response?.status, 403);

        // Step 1 extracts pages 1-2 and commits its chunks with the cursor.
        assert.deepEqual(await work(), { status: "stepped", file_id: fileId, phase: "extract" });
        const [after1] =
          await sql`select progress from public.workbench_files where id = ${fileId}`;
        assert.equal(after1.progress.phase, "extract");
        assert.equal(after1.progress.next_page, 3);
        assert.equal(
          after1.progress.next_chunk,
          1,
          "one full chunk; the rest is held in the cursor",
        );
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
        assert.deepEqual({ ...still }, {
          status: "indexed",
          chunks_total: expected,
          chunks: expected,
        });

        // A file that kills every worker ends in `error` after three attempts instead of looping.
        const fd2 = new FormData();
        fd2.append("file", new Blob([makePdf([["deadly"]]) as BlobPart]), "deadly.pdf");
        const up2 = await alice.client.functions.invoke(`workbenches/${wb.id}/files`, {
          body: fd2,
        });
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
      },
    );

    await t.step(
      "`processNextFile()` drops the message of a file deleted mid-step, without a retry",
      async () => {
        const alice = await signUpUser(stack, "alice");
        const { data: wb } = await alice.client.functions.invoke("workbenches", {
          body: { name: "Doomed" },
        });
        const fd = new FormData();
        const csv = makeCsv(["month", "revenue"], [["Jan", 100], ["Feb", 120]]);
        fd.append("file", new Blob([csv as BlobPart]), "revenue.csv");
        const { data: up, error } = await alice.client.functions.invoke(
          `workbenches/${wb.id}/files`,
          {
            body: fd,
          },
        );
        assert.equal(error, null);
        const fileId: string = up.files[0].id;

        // The step has read the file from Storage when the owner deletes the workbench (and with it
        // the file's row): the step's chunks then have no file to belong to.
        const store = createObjectStore(stack.apiUrl, stack.serviceRoleKey);
        const deleting: ObjectStore = {
          ...store,
          download: async (bucket, path) => {
            const bytes = await store.download(bucket, path);
            const { error } = await alice.client.functions.invoke(`workbenches/${wb.id}`, {
              method: "DELETE",
            });
            assert.equal(error, null);
            return bytes;
          },
        };
        const deps = {
          sql: () => sql,
          store: deleting,
          embedder: createLocalEmbedder(),
          config: DEFAULT_STEP_CONFIG,
          worker: DEFAULT_WORKER_CONFIG,
        };
        const result = await processNextFile(deps);
        assert.deepEqual(result, {
          status: "skipped",
          file_id: fileId,
          reason: "the file no longer exists",
        });
        const [queued] = await sql<{ n: number }[]>`
      select count(*)::int as n from pgmq.q_file_index where message->>'file_id' = ${fileId}`;
        assert.equal(queued!.n, 0, "the message is gone, not waiting for a retry");
        const chunks = await sql`select 1 from public.workbench_chunks where file_id = ${fileId}`;
        assert.equal(chunks.length, 0);
      },
    );

    await t.step("`runStep()` holds no transaction while the embedder works", async () => {
      const alice = await signUpUser(stack, "alice");
      const { data: wb } = await alice.client.functions.invoke("workbenches", {
        body: { name: "Embedding" },
      });
      const rows = Array.from({ length: 40 }, (_, i) => [`2025-${i}`, 1000 + i, `note ${i}`]);
      const fd = new FormData();
      fd.append(
        "file",
        new Blob([makeCsv(["month", "revenue", "note"], rows) as BlobPart]),
        "r.csv",
      );
      const { data: up, error } = await alice.client.functions.invoke(
        `workbenches/${wb.id}/files`,
        {
          body: fd,
        },
      );
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
      await assert.rejects(
        runStep({ sql, store, embedder: failing, config }, file!),
        EmbeddingError,
      );
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
    });
  } finally {
    await stack.stop();
  }
});

Deno.test("index-worker and uploads with the pipeline running (page limit 3)", opts, async (t) => {
  const stack = await startTestStack({ functionEnv: { INDEX_MAX_PDF_PAGES: "3" } });
  const sql = getDb();
  try {
    await t.step(
      "index-worker: a PDF over the page limit ends in error with the page count",
      async () => {
        const alice = await signUpUser(stack, "alice");
        const { data: wb } = await alice.client.functions.invoke("workbenches", {
          body: { name: "Pages" },
        });
        const form = new FormData();
        const pages = Array.from({ length: 5 }, (_, i) => [`Page ${i + 1} of the board pack.`]);
        form.append("file", new Blob([makePdf(pages) as BlobPart]), "pack.pdf");
        const { data: up, error } = await alice.client.functions.invoke(
          `workbenches/${wb.id}/files`,
          {
            body: form,
          },
        );
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
      },
    );

    await t.step("a function killed mid-upload leaves no object behind once swept", async () => {
      const alice = await signUpUser(stack, "alice");
      const { data: wb } = await alice.client.functions.invoke("workbenches", {
        body: { name: "Crash" },
      });
      const objects = async () =>
        (await sql`select count(*)::int as n from storage.objects
                  where bucket_id = 'workbench' and name like ${wb.id + "/%"}`)[0]!.n as number;

      // A slow 20-file body: each file is 256 KiB of CSV, sent in small pieces.
      const boundary = "crash-boundary";
      const enc = new TextEncoder();
      let file = 0;
      let aborted = false;
      const body = new ReadableStream<Uint8Array>({
        async pull(controller) {
          if (aborted) return controller.close();
          if (file === 20) {
            controller.enqueue(enc.encode(`--${boundary}--\r\n`));
            return controller.close();
          }
          const rows = Array.from({ length: 8_000 }, (_, i) => `${file},${i},${i * 7}`).join("\n");
          controller.enqueue(enc.encode(
            `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="f${file}.csv"\r\n` +
              `Content-Type: text/csv\r\n\r\nfile,row,amount\n`,
          ));
          for (let at = 0; at < rows.length; at += 32_768) {
            controller.enqueue(enc.encode(rows.slice(at, at + 32_768)));
            await new Promise((r) => setTimeout(r, 5));
          }
          controller.enqueue(enc.encode("\r\n"));
          file++;
          await new Promise((r) => setTimeout(r, 150));
        },
      });
      const upload = fetch(`${stack.apiUrl}/functions/v1/workbenches/${wb.id}/files`, {
        method: "POST",
        headers: {
          authorization: `Bearer ${alice.token}`,
          "content-type": `multipart/form-data; boundary=${boundary}`,
        },
        body,
      }).then((r) => r.status, () => 0);

      await eventually(async () => (await objects()) >= 2 ? true : undefined, "stored objects");
      const pid = stack.gateway.pidOf("workbenches");
      assert.ok(pid, "the workbenches isolate runs");
      Deno.kill(pid, "SIGKILL");
      aborted = true;
      const status = await upload;
      assert.notEqual(status, 201, "the killed request did not succeed");

      const [{ rows }] = await sql`select count(*)::int as rows from public.workbench_files
                                  where workbench_id = ${wb.id}`;
      assert.equal(rows, 0, "no row was committed");
      const left = await objects();
      assert.ok(left >= 1, `objects without rows are left behind by the kill (${left})`);

      // A grace period of 0 minutes stands in for waiting 15.
      await sql`update private.settings set value = '0' where key = 'orphan_object_grace_minutes'`;
      const [{ queued }] = await sql`select private.sweep_orphan_objects() as queued`;
      assert.equal(queued, left);
      await eventually(async () => (await objects()) === 0 ? true : undefined, "the sweep", 30_000);
      assert.equal(await filesUnder(`${stack.storageDir}/workbench/${wb.id}`), 0, "bytes removed");

      // The function starts again on the next request.
      const again = await alice.client.functions.invoke(`workbenches/${wb.id}/files`, {
        method: "GET",
      });
      assert.equal(again.error, null);
      assert.deepEqual(again.data.files, []);
    });
  } finally {
    await stack.stop();
  }
});
