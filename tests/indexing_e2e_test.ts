/**
 * End to end through supabase-js: companies, workbenches, uploads of every file type, the
 * trigger -> pgmq -> pg_net -> index-worker pipeline with a fake Hugging Face server, errors for
 * bad files, duplicates, roles, retries, and deletion.
 */
import assert from "node:assert/strict";
import type { SupabaseClient } from "@supabase/supabase-js";
import { getDb } from "../shared/db.ts";
import { DEFAULT_HF_MODEL } from "../shared/embeddings.ts";
import { makeCsv, makeDocx, makeEncryptedPdf, makePdf, makeXlsx } from "./fixtures/documents.ts";
import { startFakeHf } from "./fakes/huggingface.ts";
import {
  errorBody,
  eventually,
  signUpUser,
  startTestStack,
  type TestUser,
} from "./helpers/stack.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };

interface Upload {
  name: string;
  bytes: Uint8Array;
}

// deno-lint-ignore no-explicit-any
type Json = any;

async function call(
  client: SupabaseClient,
  path: string,
  init: { method?: "GET" | "POST" | "PATCH" | "DELETE"; body?: unknown } = {},
): Promise<{ status: number; body: Json }> {
  const { data, error, response } = await client.functions.invoke(path, {
    method: init.method ?? (init.body === undefined ? "GET" : "POST"),
    body: init.body as Record<string, unknown> | FormData | undefined,
  });
  if (error) {
    const e = await errorBody(error).catch(() => ({ status: 0, body: String(error) }));
    return { status: e.status, body: e.body };
  }
  return { status: response?.status ?? 200, body: data };
}

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
  return await eventually(
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
      const added = await call(alice.client, `companies/${companyId}/members`, {
        body: { email: bob.email, role: "member" },
      });
      assert.equal(added.status, 201);
      const again = await call(alice.client, `companies/${companyId}/members`, {
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
      const md = await meta(uploaded[5].id);
      assert.deepEqual(md.map((c) => c.metadata.heading), ["Policies", "Travel"]);
      assert.ok(
        hf.requests.length > 0 &&
          hf.requests.every((r) => r.authorization === "Bearer hf_test_token"),
      );
    });

    await t.step("indexed chunks are searchable by vector and by full text", async () => {
      const { createLocalEmbedder, toVectorLiteral } = await import("../shared/embeddings.ts");
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
  } finally {
    await stack.stop();
    await hf.stop();
  }
});
