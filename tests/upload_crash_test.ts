/**
 * No orphans: the workbenches function is killed (SIGKILL, as the runtime kills it at a limit) in
 * the middle of a 20-file upload, after some files' bytes are stored and before any row is written.
 * Nothing refers to those objects; the sweep queues them once they are older than the grace period,
 * and the worker removes them. The function serves the next request from a fresh isolate.
 */
import assert from "node:assert/strict";
import { getDb } from "../shared/db.ts";
import { eventually, signUpUser, startTestStack } from "./helpers/stack.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };

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

Deno.test("a function killed mid-upload leaves no object behind once swept", opts, async () => {
  const stack = await startTestStack();
  const sql = getDb();
  try {
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
  } finally {
    await stack.stop();
  }
});
