/**
 * A workbench deleted while its file is being indexed: the step's failure (its chunks' file is
 * gone) ends the message quietly instead of being retried as an error.
 */
import assert from "node:assert/strict";
import { getDb } from "../shared/db.ts";
import { createLocalEmbedder } from "../shared/embeddings.ts";
import {
  DEFAULT_STEP_CONFIG,
  DEFAULT_WORKER_CONFIG,
  processNextFile,
} from "../shared/indexing/mod.ts";
import { createObjectStore, type ObjectStore } from "../shared/storage.ts";
import { makeCsv } from "./fixtures/documents.ts";
import { signUpUser, startTestStack } from "./helpers/stack.ts";

Deno.test("`processNextFile()` drops the message of a file deleted mid-step, without a retry", {
  sanitizeOps: false,
  sanitizeResources: false,
}, async () => {
  const stack = await startTestStack({ autoWorker: false });
  const sql = getDb();
  try {
    const alice = await signUpUser(stack, "alice");
    const { data: wb } = await alice.client.functions.invoke("workbenches", {
      body: { name: "Doomed" },
    });
    const fd = new FormData();
    const csv = makeCsv(["month", "revenue"], [["Jan", 100], ["Feb", 120]]);
    fd.append("file", new Blob([csv as BlobPart]), "revenue.csv");
    const { data: up, error } = await alice.client.functions.invoke(`workbenches/${wb.id}/files`, {
      body: fd,
    });
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
  } finally {
    await stack.stop();
  }
});
