/**
 * End to end through supabase-js: companies, workbenches, uploads of every file type, the
 * trigger -> pgmq -> pg_net -> index-worker pipeline with a fake Hugging Face server, errors for
 * bad files, duplicates, roles, retries, and deletion.
 */
import assert from "node:assert/strict";
import { zipSync } from "fflate";
import v8 from "node:v8";
import vm from "node:vm";
import { createWorkbenchesHandler } from "../../functions/workbenches/handler.ts";
import { createJwtVerifier } from "../../shared/auth.ts";
import { getDb } from "../../shared/db.ts";
import { DEFAULT_HF_MODEL } from "../../shared/embeddings.ts";
import { serve } from "../../shared/http.ts";
import type { ObjectStore } from "../../shared/storage.ts";
import type { Stack } from "../../local/stack.ts";
import { makeCsv, makeDocx, makeEncryptedPdf, makePdf, makeXlsx } from "../fixtures/documents.ts";
import { startFakeHf } from "../fakes/huggingface.ts";
import {
  call,
  eventuallyDispatched,
  invitationToken,
  signUpUser,
  startTestStack,
  type TestUser,
} from "../helpers/stack.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };

interface Upload {
  name: string;
  bytes: Uint8Array;
}

// deno-lint-ignore no-explicit-any
type Json = any;

function form(files: Upload[]): FormData {
  const fd = new FormData();
  for (const f of files) fd.append("file", new Blob([f.bytes as BlobPart]), f.name);
  return fd;
}

const text = (s: string) => new TextEncoder().encode(s);

async function waitForFiles(
  user: TestUser,
  workbenchId: string,
  ids: string[],
  timeoutMs = 60_000,
): Promise<Record<string, Json>> {
  return await eventuallyDispatched(
    async () => {
      const { body } = await call(user.client, `workbenches/${workbenchId}/files?limit=100`);
      const files = (body.files as Json[]).filter((f) => ids.includes(f.id));
      return files.length === ids.length &&
          files.every((f) => f.status === "indexed" || f.status === "error")
        ? Object.fromEntries(files.map((f) => [f.id, f]))
        : undefined;
    },
    `files ${ids.join(", ")} to finish`,
    timeoutMs,
  );
}

Deno.test("companies, workbenches and the indexing pipeline end to end", opts, async (t) => {
  const hf = startFakeHf();
  const stack = await startTestStack({
    functionEnv: {
      HF_TOKEN: "hf_test_token",
      HF_ENDPOINT_URL: hf.endpointFor(DEFAULT_HF_MODEL),
      INDEX_PDF_PAGES_PER_STEP: "2",
      // The one backoff a step asserts ("embedding failures are retried with backoff").
      INDEX_RETRY_BASE_SEC: "1",
    },
  });
  const sql = getDb();
  try {
    const alice = await signUpUser(stack, "alice");
    const bob = await signUpUser(stack, "bob");
    const carol = await signUpUser(stack, "carol");
    let companyId = "";
    let personal = "";
    let shared = "";

    await t.step("companies: create, rename, add a member, list with roles", async () => {
      const created = await call(alice.client, "companies", { body: { name: "Acme" } });
      assert.equal(created.status, 201);
      assert.equal(created.body.role, "owner");
      companyId = created.body.id;
      const renamed = await call(alice.client, `companies/${companyId}`, {
        method: "PATCH",
        body: { name: "Acme Ltd" },
      });
      assert.equal(renamed.body.name, "Acme Ltd");
      const invited = await call(alice.client, `companies/${companyId}/invitations`, {
        body: { email: bob.email, role: "member" },
      });
      assert.equal(invited.status, 201);
      const accepted = await call(bob.client, `invitations/${invited.body.id}/accept`, {
        body: { token: await invitationToken(stack, bob.email, invited.body.id) },
      });
      assert.equal(accepted.status, 200);
      const again = await call(alice.client, `companies/${companyId}/invitations`, {
        body: { email: bob.email },
      });
      assert.equal(again.status, 409);
      const list = await call(bob.client, "companies");
      assert.deepEqual(list.body.companies.map((c: Json) => [c.name, c.role]), [[
        "Acme Ltd",
        "member",
      ]]);
      const bobRename = await call(bob.client, `companies/${companyId}`, {
        method: "PATCH",
        body: { name: "x" },
      });
      assert.equal(bobRename.status, 403);
      const carolRename = await call(carol.client, `companies/${companyId}`, {
        method: "PATCH",
        body: { name: "x" },
      });
      assert.equal(carolRename.status, 404, "another tenant gets 404, not 403");
      const bad = await call(alice.client, "companies", { body: { name: "" } });
      assert.equal(bad.status, 400);
      assert.equal(bad.body.error.code, "validation_failed");
    });

    await t.step("workbenches: create personal and company workbenches, list them", async () => {
      const p = await call(alice.client, "workbenches", { body: { name: "Q3 close" } });
      assert.equal(p.status, 201);
      personal = p.body.id;
      const s = await call(alice.client, "workbenches", {
        body: { name: "Acme books", company_id: companyId },
      });
      assert.equal(s.status, 201);
      shared = s.body.id;
      const mine = await call(alice.client, "workbenches");
      assert.equal(mine.body.workbenches.length, 2);
      const filtered = await call(alice.client, `workbenches?companyId=${companyId}`);
      assert.deepEqual(filtered.body.workbenches.map((w: Json) => w.name), ["Acme books"]);
      const bobs = await call(bob.client, "workbenches");
      assert.deepEqual(bobs.body.workbenches.map((w: Json) => [w.name, w.role]), [[
        "Acme books",
        "viewer",
      ]]);
      const sneaky = await call(carol.client, "workbenches", {
        body: { name: "x", company_id: companyId },
      });
      assert.equal(sneaky.status, 404);
    });

    const pdfPages = [
      ["Quarterly report", "Revenue grew in the first quarter."],
      ["Operating expenses were flat."],
      ["Cash position remained strong."],
      ["The zebra initiative delivered margin gains."],
      ["Outlook for the next year is cautious."],
    ];
    const good: Upload[] = [
      { name: "report.pdf", bytes: makePdf(pdfPages) },
      {
        name: "memo.docx",
        bytes: makeDocx([
          { heading: "Board memo", level: 1 },
          { paragraph: "The board approved the acquisition budget." },
          { heading: "Headcount", level: 2 },
          { table: [["Team", "People"], ["Finance", "12"], ["Sales", "30"]] },
        ]),
      },
      {
        name: "budget.xlsx",
        bytes: makeXlsx([
          { name: "Opex", rows: [["Item", "Amount"], ["Rent", 1200], ["Travel", 300]] },
          { name: "Capex", rows: [["Asset", "Cost"], ["Servers", 9000]] },
        ]),
      },
      {
        name: "ledger.csv",
        bytes: makeCsv(["date", "account", "amount"], [["2026-01-01", "cash", 10], [
          "2026-01-02",
          "bank",
          20,
        ]]),
      },
      {
        name: "notes.txt",
        bytes: text("Plain notes about the audit.\n\nThe auditor asked about inventory."),
      },
      {
        name: "guide.md",
        bytes: text("# Policies\nExpense policy text.\n\n## Travel\nBook economy class."),
      },
    ];
    let uploaded: Json[] = [];

    await t.step("uploading every file type indexes each one with the right metadata", async () => {
      const res = await call(alice.client, `workbenches/${personal}/files`, { body: form(good) });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      uploaded = res.body.files;
      assert.deepEqual(uploaded.map((f) => f.file_type), [
        "pdf",
        "docx",
        "xlsx",
        "csv",
        "txt",
        "md",
      ]);
      assert.ok(uploaded.every((f) => f.status === "pending" && f.duplicate === false));
      const done = await waitForFiles(alice, personal, uploaded.map((f) => f.id));
      for (const f of uploaded) {
        assert.equal(done[f.id].status, "indexed", `${f.file_name}: ${done[f.id].error_message}`);
        assert.equal(done[f.id].progress, 1);
        assert.ok(done[f.id].chunks_total > 0);
        assert.equal(done[f.id].chunks_done, done[f.id].chunks_total);
      }
      assert.equal(done[uploaded[0].id].page_count, 5);

      const meta = async (
        id: string,
      ) => (await sql`select metadata, embedding_model, embedding is not null as embedded
                     from public.workbench_chunks where file_id = ${id} order by chunk_index`);
      const pdf = await meta(uploaded[0].id);
      assert.ok(pdf.every((c) => c.embedded && c.embedding_model === DEFAULT_HF_MODEL));
      assert.deepEqual(
        pdf.map((c) => [c.metadata.page, c.metadata.page_end]),
        [[1, 5]],
        "read 2 pages per step, chunked as one pass: the short pages share one chunk",
      );
      const docx = await meta(uploaded[1].id);
      assert.ok(docx.some((c) => c.metadata.heading === "Board memo"));
      assert.ok(docx.some((c) => c.metadata.heading === "Headcount" && c.metadata.row_start === 2));
      const xlsx = await meta(uploaded[2].id);
      assert.deepEqual(
        xlsx.map((c) => [c.metadata.sheet, c.metadata.row_start, c.metadata.row_end]),
        [
          ["Opex", 2, 3],
          ["Capex", 2, 2],
        ],
      );
      const csv = await meta(uploaded[3].id);
      assert.deepEqual(csv.map((c) => [c.metadata.row_start, c.metadata.row_end]), [[2, 3]]);
      // The typed rows of the tables, one per data row, numbered as the file numbers them.
      const typed = async (id: string) =>
        (await sql<{ sheet: string; row_number: number; header: unknown; cells: unknown }[]>`
          select sheet, row_number, header, cells from public.workbench_table_rows
           where file_id = ${id} order by sheet desc, row_number`).map((r) => ({
          ...r,
          cells: typeof r.cells === "string" ? JSON.parse(r.cells) : r.cells,
          header: typeof r.header === "string" ? JSON.parse(r.header) : r.header,
        }));
      const xlsxRows = await typed(uploaded[2].id);
      assert.deepEqual(xlsxRows.map((r) => [r.sheet, r.row_number]), [
        ["Opex", 2],
        ["Opex", 3],
        ["Capex", 2],
      ]);
      const csvRows = await typed(uploaded[3].id);
      assert.deepEqual(csvRows.map((r) => [r.sheet, r.row_number]), [["", 2], ["", 3]]);
      assert.ok(
        [...xlsxRows, ...csvRows].every((r) =>
          r.cells.length === r.header.length &&
          r.cells.some((c: { t: string; n?: number }) => c.t === "number" && c.n !== undefined)
        ),
        JSON.stringify(csvRows),
      );
      const md = await meta(uploaded[5].id);
      assert.deepEqual(md.map((c) => c.metadata.heading), ["Policies", "Travel"]);
      assert.ok(
        hf.requests.length > 0 &&
          hf.requests.every((r) => r.authorization === "Bearer hf_test_token"),
      );
    });

    await t.step("indexed chunks are searchable by vector and by full text", async () => {
      const { createLocalEmbedder, toVectorLiteral } = await import("../../shared/embeddings.ts");
      const [q] = await createLocalEmbedder().embed(["zebra initiative margin"]);
      const [top] = await sql`
        select c.content, c.metadata from public.workbench_chunks c
         where c.workbench_id = ${personal}
         order by c.embedding operator(extensions.<=>) ${toVectorLiteral(q)}::extensions.vector
         limit 1`;
      assert.match(top.content, /zebra initiative/);
      assert.ok(top.metadata.page <= 3 && 3 <= top.metadata.page_end, "its pages include 3");
      const fts = await sql`select metadata from public.workbench_chunks
        where workbench_id = ${personal} and fts @@ plainto_tsquery('english', 'economy travel')`;
      assert.deepEqual(fts.map((r) => r.metadata.heading), ["Travel"]);
      const csvHeader = await sql`select content from public.workbench_chunks c
        join public.workbench_files f on f.id = c.file_id where f.file_type = 'csv'`;
      assert.match(csvHeader[0].content, /^date \| account \| amount/);
    });

    await t.step("status summarises counts and lists errors", async () => {
      const { body } = await call(alice.client, `workbenches/${personal}/status`);
      assert.equal(body.files, 6);
      assert.equal(body.counts.indexed, 6);
      assert.equal(body.ready, true);
      assert.deepEqual(body.errors, []);
      assert.ok(body.chunks.total > 0 && body.chunks.done === body.chunks.total);
    });

    await t.step(
      "bad files end in `error` with a readable message; others are untouched",
      async () => {
        const [{ before }] = await sql`select count(*)::int as before from public.workbench_chunks
        where workbench_id = ${personal}`;
        const bad: Upload[] = [
          { name: "corrupt.pdf", bytes: text("%PDF-1.7\nthis is not really a pdf at all") },
          { name: "locked.pdf", bytes: makeEncryptedPdf() },
          { name: "empty.csv", bytes: new Uint8Array() },
        ];
        const res = await call(alice.client, `workbenches/${personal}/files`, { body: form(bad) });
        assert.equal(res.status, 201, JSON.stringify(res.body));
        const ids = res.body.files.map((f: Json) => f.id);
        const done = await waitForFiles(alice, personal, ids);
        const messages = ids.map((id: string) => [done[id].status, done[id].error_message]);
        assert.deepEqual(messages, [
          ["error", "file is not a valid PDF"],
          ["error", "PDF is encrypted"],
          ["error", "the CSV file is empty"],
        ]);
        const [{ after }] = await sql`select count(*)::int as after from public.workbench_chunks
        where workbench_id = ${personal}`;
        assert.equal(after, before, "no chunks from bad files, none lost from good ones");
        const status = await call(alice.client, `workbenches/${personal}/status`);
        assert.equal(status.body.counts.indexed, 6);
        assert.equal(status.body.counts.error, 3);
        assert.equal(status.body.errors.length, 3);
        const archived = await sql`select count(*)::int as n from pgmq.a_file_index`;
        assert.ok(archived[0].n >= 3, "failed messages are archived");
      },
    );

    await t.step(
      "oversized, too-long and unsupported uploads are refused and store nothing",
      async () => {
        const [{ before }] = await sql`select count(*)::int as before from public.workbench_files`;
        const big = await call(alice.client, `workbenches/${personal}/files`, {
          body: form([{ name: "big.csv", bytes: new Uint8Array(21 * 1024 * 1024).fill(65) }]),
        });
        assert.equal(big.status, 413);
        assert.equal(big.body.error.code, "file_too_large");
        const long = await call(alice.client, `workbenches/${personal}/files`, {
          body: form([{
            name: "long.pdf",
            bytes: makePdf(Array.from({ length: 201 }, (_, i) => [`page ${i + 1}`])),
          }]),
        });
        assert.equal(long.status, 413);
        assert.equal(long.body.error.code, "pdf_too_many_pages");
        assert.match(long.body.error.message, /201 pages; the limit is 200/);
        const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0]);
        const unsupported = await call(alice.client, `workbenches/${personal}/files`, {
          body: form([{ name: "logo.png", bytes: png }]),
        });
        assert.equal(unsupported.status, 415);
        assert.equal(unsupported.body.error.code, "unsupported_file_type");
        const renamed = await call(alice.client, `workbenches/${personal}/files`, {
          body: form([{
            name: "renamed.docx",
            bytes: text("I am a text file pretending to be a Word document."),
          }]),
        });
        assert.equal(renamed.status, 415);
        assert.equal(renamed.body.error.code, "file_type_mismatch");
        assert.equal(
          renamed.body.error.message,
          "renamed.docx is not a valid DOCX file: its content is text.",
        );
        const pngCsv = await call(alice.client, `workbenches/${personal}/files`, {
          body: form([{ name: "numbers.csv", bytes: png }]),
        });
        assert.equal(pngCsv.status, 415);
        const { zipSync } = await import("fflate");
        const bomb = zipSync({
          "[Content_Types].xml": text("<Types/>"),
          "word/document.xml": new Uint8Array(151 * 1024 * 1024),
        });
        assert.ok(bomb.byteLength < 1024 * 1024, "the bomb itself is small");
        const bombed = await call(alice.client, `workbenches/${personal}/files`, {
          body: form([{ name: "bomb.docx", bytes: bomb }]),
        });
        assert.equal(bombed.status, 413);
        assert.equal(bombed.body.error.code, "document_too_large");
        const mixed = await call(alice.client, `workbenches/${personal}/files`, {
          body: form([{ name: "ok.txt", bytes: text("fine") }, { name: "logo.png", bytes: png }]),
        });
        assert.equal(mixed.status, 415, "one bad file refuses the whole request");
        const none = await call(alice.client, `workbenches/${personal}/files`, {
          body: new FormData(),
        });
        assert.equal(none.status, 400);
        const [{ after }] = await sql`select count(*)::int as after from public.workbench_files`;
        assert.equal(after, before);
      },
    );

    await t.step(
      "a file refused after others were stored leaves nothing behind: no row, no object",
      async () => {
        const objects = async () =>
          (await sql`select name from storage.objects where bucket_id = 'workbench'
                      order by name`).map((r) => r.name);
        const onDisk = async () => {
          const names: string[] = [];
          const walk = async (dir: string): Promise<void> => {
            for await (const e of Deno.readDir(dir)) {
              if (e.isDirectory) await walk(`${dir}/${e.name}`);
              else names.push(`${dir}/${e.name}`);
            }
          };
          await walk(`${stack.storageDir}/workbench`);
          return names.sort();
        };
        const [{ before }] = await sql`select count(*)::int as before from public.workbench_files`;
        const objectsBefore = await objects();
        const diskBefore = await onDisk();
        const res = await call(alice.client, `workbenches/${personal}/files`, {
          body: form([
            // Over 64 KB each, so each is streamed to Storage as it arrives.
            { name: "first.txt", bytes: text("stored first, then removed\n".repeat(5000)) },
            { name: "second.md", bytes: text("# stored second\n".repeat(8000)) },
            {
              name: "long.pdf",
              bytes: makePdf(Array.from({ length: 400 }, (_, i) => [`page ${i + 1}`])),
            },
            { name: "after.txt", bytes: text("read through, never stored") },
          ]),
        });
        assert.equal(res.status, 413);
        assert.equal(res.body.error.code, "pdf_too_many_pages");
        assert.match(res.body.error.message, /long\.pdf has 400 pages/);
        const [{ after }] = await sql`select count(*)::int as after from public.workbench_files`;
        assert.equal(after, before);
        assert.deepEqual(await objects(), objectsBefore);
        assert.deepEqual(await onDisk(), diskBefore);
      },
    );

    await t.step(
      "the same content twice in one request is stored once; Office files need no extension",
      async () => {
        const box = await call(alice.client, "workbenches", { body: { name: "Inbox" } });
        const inbox = box.body.id;
        const res = await call(alice.client, `workbenches/${inbox}/files`, {
          body: form([
            { name: "a.txt", bytes: text("the same words") },
            { name: "b.txt", bytes: text("the same words") },
            { name: "board-memo", bytes: makeDocx([{ paragraph: "Sent without an extension." }]) },
          ]),
        });
        assert.equal(res.status, 201, JSON.stringify(res.body));
        const [a, b, memo] = res.body.files;
        assert.deepEqual([a.duplicate, b.duplicate, b.id], [false, true, a.id]);
        assert.equal(b.file_name, "a.txt", "the existing file is returned");
        assert.deepEqual([memo.file_type, memo.mime_type], [
          "docx",
          "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ]);
        const stored = await sql`select name from storage.objects
          where bucket_id = 'workbench' and name like ${inbox + "/%"}`;
        assert.equal(stored.length, 2);
        const done = await waitForFiles(alice, inbox, [a.id, memo.id]);
        assert.deepEqual([done[a.id].status, done[memo.id].status], ["indexed", "indexed"]);
      },
    );

    await t.step("the same content uploaded twice returns the existing file", async () => {
      const res = await call(alice.client, `workbenches/${personal}/files`, {
        body: form([good[3]]),
      });
      assert.equal(res.status, 200);
      assert.equal(res.body.files[0].duplicate, true);
      assert.equal(res.body.files[0].id, uploaded[3].id);
      const [{ n }] = await sql`select count(*)::int as n from public.workbench_files
        where workbench_id = ${personal} and file_type = 'csv'`;
      assert.equal(n, 2, "the ledger.csv and the empty.csv, nothing new");
    });

    await t.step("a viewer cannot upload and another tenant gets 404", async () => {
      const viewer = await call(bob.client, `workbenches/${shared}/files`, {
        body: form([good[4]]),
      });
      assert.equal(viewer.status, 403);
      const canRead = await call(bob.client, `workbenches/${shared}/files`);
      assert.equal(canRead.status, 200);
      for (
        const path of [
          `workbenches/${personal}/files`,
          `workbenches/${personal}/status`,
          `workbenches/${personal}`,
        ]
      ) {
        const res = await call(carol.client, path);
        assert.equal(res.status, 404, path);
        assert.equal(res.body.error.code, "not_found");
      }
      const upload = await call(carol.client, `workbenches/${personal}/files`, {
        body: form([good[4]]),
      });
      assert.equal(upload.status, 404);
      const del = await call(carol.client, `workbenches/${personal}/files/${uploaded[4].id}`, {
        method: "DELETE",
      });
      assert.equal(del.status, 404);
    });

    await t.step("embedding failures are retried with backoff, then reported", async () => {
      hf.failNext(1);
      const once = await call(alice.client, `workbenches/${shared}/files`, {
        body: form([{ name: "retry.txt", bytes: text("A note that needs one retry.") }]),
      });
      const [recovered] = Object.values(await waitForFiles(alice, shared, [once.body.files[0].id]));
      assert.equal(recovered.status, "indexed");
      assert.equal(recovered.attempts, 0, "a successful step resets the attempts");
      assert.equal(recovered.error_message, null);
      const failedAt = hf.requests.findLast((r) => r.status === 503)!.at;
      const retriedAt = hf.requests.find((r) => r.at >= failedAt && r.status === 200)!.at;
      assert.ok(
        retriedAt - failedAt >= 1000,
        `retried after ${retriedAt - failedAt} ms, not before the 1 s backoff`,
      );

      hf.failNext(3);
      const never = await call(alice.client, `workbenches/${shared}/files`, {
        body: form([{
          name: "never.txt",
          bytes: text("A note the embedding service never takes."),
        }]),
      });
      const [failed] = Object.values(await waitForFiles(alice, shared, [never.body.files[0].id]));
      assert.equal(failed.status, "error");
      assert.equal(failed.attempts, 3);
      assert.equal(
        failed.error_message,
        "indexing failed after 3 attempts: the embedding service is unavailable (HTTP 503)",
      );
    });

    await t.step("deleting a file removes its row, chunks and stored object", async () => {
      const target = uploaded[0];
      const [{ path }] =
        await sql`select storage_path as path from public.workbench_files where id = ${target.id}`;
      const viewerDelete = await call(bob.client, `workbenches/${personal}/files/${target.id}`, {
        method: "DELETE",
      });
      assert.equal(viewerDelete.status, 404, "bob has no access to alice's personal workbench");
      const res = await call(alice.client, `workbenches/${personal}/files/${target.id}`, {
        method: "DELETE",
      });
      assert.equal(res.status, 204);
      const [{ chunks }] =
        await sql`select count(*)::int as chunks from public.workbench_chunks where file_id = ${target.id}`;
      assert.equal(chunks, 0);
      const objects =
        await sql`select 1 from storage.objects where bucket_id = 'workbench' and name = ${path}`;
      assert.equal(objects.length, 0);
      await assert.rejects(Deno.stat(`${stack.storageDir}/workbench/${path}`));
      const again = await call(alice.client, `workbenches/${personal}/files/${target.id}`, {
        method: "DELETE",
      });
      assert.equal(again.status, 404);
    });
    await t.step(
      "a 20-file, 47 MiB upload stays well within an Edge Function's 256 MB",
      async () => {
        const MiB = 1024 * 1024;
        const m = await measureBigUpload(stack, alice);
        assert.equal(m.status, 201, JSON.stringify(m.body));
        assert.equal(m.body.files.length, 20);
        assert.equal(m.stored, m.total, "every byte went to Storage");
        const pages = m.body.files.filter((f: Json) => f.file_type === "pdf").map((f: Json) =>
          f.page_count
        );
        assert.deepEqual(pages, [200, 200, 200, 200]);
        console.log(
          `20 files, ${(m.total / MiB).toFixed(1)} MiB: peak growth of heap+external ` +
            `${(m.peakHeap / MiB).toFixed(1)} MiB, of RSS ${(m.peakRss / MiB).toFixed(1)} MiB`,
        );
        // The old handler held the body, the parsed form and each file again (over 150 MiB).
        assert.ok(
          m.peakHeap < 96 * MiB,
          `heap+external grew by ${(m.peakHeap / MiB).toFixed(1)} MiB`,
        );
      },
    );
  } finally {
    await stack.stop();
    await hf.stop();
  }
});

/** `files` as a multipart body produced as it is read (the test holds only the inputs). */
function streamedForm(files: Upload[], boundary: string): ReadableStream<Uint8Array> {
  const pieces: Uint8Array[] = [];
  for (const f of files) {
    pieces.push(text(
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${f.name}"\r\n` +
        `Content-Type: application/octet-stream\r\n\r\n`,
    ));
    for (let at = 0; at < f.bytes.length; at += 64 * 1024) {
      pieces.push(f.bytes.subarray(at, at + 64 * 1024));
    }
    pieces.push(text("\r\n"));
  }
  pieces.push(text(`--${boundary}--\r\n`));
  let next = 0;
  return new ReadableStream({
    pull(controller) {
      if (next < pieces.length) controller.enqueue(pieces[next++]);
      else controller.close();
    },
  });
}

/**
 * `bytes` of text that differs per `seed` and barely compresses: a random 64 KB block of letters
 * repeated (deflate's window is 32 KB, so the repeats do not compress either).
 */
function randomText(bytes: number, seed: number): Uint8Array {
  const block = new Uint8Array(64 * 1024);
  let x = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < block.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    block[i] = i % 61 === 60 ? 10 : 97 + ((x >>> 0) % 26);
  }
  const out = new Uint8Array(bytes);
  for (let at = 0; at < bytes; at += block.length) out.set(block.subarray(0, bytes - at), at);
  return out;
}

/** Collects garbage (V8's `gc`, exposed at run time) so that a memory baseline is clean. */
function collectGarbage(): void {
  v8.setFlagsFromString("--expose_gc");
  (vm.runInNewContext("gc") as () => void)();
}

/**
 * Calls the workbenches handler in-process with a 20-file, 48 MB multipart body produced as it is
 * read, and a Storage that reads each upload to its end and drops it; returns the peak growth of
 * the JS heap plus external memory (ArrayBuffers) and of the RSS while it ran.
 */
async function measureBigUpload(stack: Stack, user: TestUser) {
  const MiB = 1024 * 1024;
  const wb = await call(user.client, "workbenches", { body: { name: "Big upload" } });
  // 12 CSV, 4 PDF (200 pages), 4 DOCX; about 2.4 MB each, 47 MiB in all.
  const files: Upload[] = [];
  for (let i = 0; i < 12; i++) {
    files.push({ name: `ledger-${i}.csv`, bytes: randomText(2.3 * MiB, i + 1) });
  }
  for (let i = 0; i < 4; i++) {
    const line = new TextDecoder().decode(randomText(60, 100 + i)).trim();
    files.push({
      name: `report-${i}.pdf`,
      bytes: makePdf(Array.from({ length: 200 }, (_, p) => Array(180).fill(`${p} ${line}`))),
    });
  }
  for (let i = 0; i < 4; i++) {
    const xml = randomText(3.6 * MiB, 200 + i);
    files.push({
      name: `memo-${i}.docx`,
      bytes: zipSync({ "word/document.xml": xml }, { level: 1 }),
    });
  }
  const total = files.reduce((sum, f) => sum + f.bytes.length, 0);
  assert.ok(total > 45 * MiB && total < 49.9 * MiB, `${total} bytes`);

  let peakHeap = 0;
  let peakRss = 0;
  let stored = 0;
  collectGarbage();
  const base = Deno.memoryUsage();
  const sample = () => {
    const m = Deno.memoryUsage();
    peakHeap = Math.max(peakHeap, m.heapUsed + m.external - base.heapUsed - base.external);
    peakRss = Math.max(peakRss, m.rss - base.rss);
  };
  const store: ObjectStore = {
    async upload(_bucket, _path, body) {
      if (body instanceof Uint8Array) throw new Error("expected a stream");
      for await (const chunk of body) {
        stored += chunk.length;
        sample();
      }
    },
    download: () => Promise.reject(new Error("not used")),
    remove: () => Promise.resolve(),
    signedUrl: () => Promise.reject(new Error("not used")),
  };
  const handler = serve(
    "workbenches",
    createWorkbenchesHandler({
      sql: getDb,
      verifier: createJwtVerifier({
        supabaseUrl: stack.apiUrl,
        publicKey: stack.anonKey,
        serviceKeys: [stack.serviceRoleKey],
      }),
      store,
    }),
  );
  const boundary = "memory-test-boundary";
  const res = await handler(
    new Request(`${stack.apiUrl}/functions/v1/workbenches/${wb.body.id}/files`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${user.token}`,
        "content-type": `multipart/form-data; boundary=${boundary}`,
      },
      body: streamedForm(files, boundary),
    }),
  );
  sample();
  const body = await res.json();
  // Nothing was kept of these files: stop their indexing.
  await getDb()`delete from public.workbench where id = ${wb.body.id}`;
  return { status: res.status, body, total, stored, peakHeap, peakRss };
}
