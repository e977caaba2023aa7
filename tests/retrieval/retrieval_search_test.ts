/**
 * `public.search_workbench_chunks` and `searchWorkbench()` on a migrated PGlite, run as users
 * (role authenticated, RLS on) exactly as the chat function runs them: scoped to one workbench,
 * vectors only compared within one model, only indexed files, no starvation of a small workbench
 * beside a large one, and the per-workbench partial HNSW index built at the threshold and dropped
 * with its workbench.
 */
import assert from "node:assert/strict";
import { asUser, type Sql, type Tx } from "../../shared/db.ts";
import type { Claims } from "../../shared/auth.ts";
import { createLocalEmbedder, type Embedder, toVectorLiteral } from "../../shared/embeddings.ts";
import { buildVectorIndex, buildVectorIndexes } from "../../shared/indexing/mod.ts";
import { retrieve, searchWorkbench } from "../../shared/retrieval/mod.ts";
import {
  createFile,
  createUser,
  createWorkbench,
  insertChunks,
  type MigratedDb,
  startMigratedDb,
} from "../helpers/retrieval_db.ts";

const embedder = createLocalEmbedder();
const as = (sub: string): Claims => ({ sub, role: "authenticated" });

interface Row {
  chunk_id: string;
  file_id: string;
  content: string;
  vector_rank: number | null;
  text_rank: number | null;
  score: number;
}

async function search(
  tx: Tx,
  e: Embedder,
  workbenchId: string,
  text: string,
  opts: { k?: number; vectorWeight?: number; textWeight?: number; model?: string } = {},
): Promise<Row[]> {
  const [v] = await e.embed([text]);
  return await tx<Row[]>`
    select chunk_id, file_id, content, vector_rank, text_rank, score
      from public.search_workbench_chunks(
        ${workbenchId}::uuid, ${toVectorLiteral(v!)}::extensions.vector,
        ${opts.model ?? e.model}::text, ${text}::text, ${opts.k ?? 8}::integer,
        p_vector_weight => ${opts.vectorWeight ?? 1}::double precision,
        p_text_weight => ${opts.textWeight ?? 1}::double precision)`;
}

const WORDS = ("revenue margin cash payroll marketing rent travel software hardware audit tax " +
  "dividend capital lease loan interest inventory freight customs royalty grant subsidy " +
  "pension bonus equity warrant option forecast budget variance accrual deferral").split(" ");

/** Deterministic pseudo-random text over a shared vocabulary. */
function synthetic(seed: number, n: number): string[] {
  let x = seed * 2654435761 >>> 0;
  const next = () => (x = (Math.imul(x, 1103515245) + 12345) >>> 0) / 2 ** 32;
  return Array.from({ length: n }, (_, i) => {
    const words = Array.from({ length: 12 }, () => WORDS[Math.floor(next() * WORDS.length)]);
    return `item ${seed}-${i}: ${words.join(" ")}`;
  });
}

function cosine(a: number[], b: number[]): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s; // both are unit vectors
}

let db: MigratedDb;
let sql: Sql;

Deno.test({
  name: "hybrid search (on PGlite, as users)",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    db = await startMigratedDb();
    sql = db.sql;
    try {
      const alice = await createUser(sql);
      const bob = await createUser(sql);
      const mine = await createWorkbench(sql, alice, "Alice's");
      const theirs = await createWorkbench(sql, bob, "Bob's");
      const pl = await createFile(sql, mine, "pl.csv");
      await insertChunks(sql, embedder, mine, pl, [
        {
          content: "Year | Revenue | Operating costs\n2024 | 1,200,000 | 800,000\n" +
            "2025 | 1,500,000 | 900,000",
          metadata: { row_start: 2, row_end: 3 },
        },
        {
          content: "Headcount grew to 42 employees, mostly in engineering.",
          metadata: { page: 2 },
        },
        { content: "The office lease in Pune runs until 2027.", metadata: { page: 3 } },
      ]);
      const secret = await createFile(sql, theirs, "secret.txt");
      await insertChunks(sql, embedder, theirs, secret, [
        { content: "Revenue in 2025 was 99 million. Revenue revenue revenue 2025." },
      ]);

      await t.step(
        "`searchWorkbench()` returns the caller's passages with their place",
        async () => {
          const passages = await asUser(
            sql,
            as(alice),
            (tx) =>
              searchWorkbench(tx, embedder, { workbenchId: mine, question: "revenue in 2025" }),
          );
          assert.equal(passages[0]?.fileName, "pl.csv");
          assert.match(passages[0]!.content, /1,500,000/);
          assert.equal(passages[0]?.rowStart, 2);
          assert.equal(passages[0]?.rowEnd, 3);
          assert.ok(passages.every((p) => p.fileId === pl));
        },
      );

      await t.step("another tenant's chunks never come back, under RLS", async () => {
        const own = await asUser(
          sql,
          as(alice),
          (tx) => search(tx, embedder, mine, "revenue 2025"),
        );
        assert.ok(own.length > 0);
        assert.ok(!own.some((r) => r.file_id === secret), "Bob's chunk is not in Alice's results");
        const other = await asUser(
          sql,
          as(alice),
          (tx) => search(tx, embedder, theirs, "revenue 2025"),
        );
        assert.equal(other.length, 0, "a workbench Alice is not a member of gives nothing");
        const bobs = await asUser(sql, as(bob), (tx) => search(tx, embedder, theirs, "revenue"));
        assert.equal(bobs[0]?.file_id, secret, "its member finds it");
      });

      await t.step(
        "odd query text (quotes, backslashes, operators) searches, never fails",
        async () => {
          for (
            const q of [
              `O'Brien's "revenue" C:\\temp\\x -costs OR 2025 'quoted' \\' :*`,
              "the of and",
              "",
              "!!! ??? |||",
            ]
          ) {
            const rows = await asUser(sql, as(alice), (tx) => search(tx, embedder, mine, q));
            assert.ok(Array.isArray(rows), q);
          }
        },
      );

      await t.step("a follow-up retrieves with the previous turn", async () => {
        const r = await asUser(sql, as(alice), (tx) =>
          retrieve(tx, embedder, {
            workbenchId: mine,
            question: "and in 2025?",
            previousUserTurns: ["What was revenue in 2024?"],
          }));
        assert.match(r.query, /revenue/i);
        assert.match(r.query, /2025/);
        assert.doesNotMatch(r.query, /2024/);
        assert.match(r.passages[0]!.content, /Revenue/);
        assert.equal(r.mode, "hybrid");
      });

      await t.step("chunks of another embedding model are not compared by vector", async () => {
        const mixed = await createFile(sql, mine, "old-model.txt");
        const q = "quarterly dividend policy";
        const [qv] = await embedder.embed([q]);
        // Its vector equals the query's, but it was made by another model.
        await insertChunks(sql, embedder, mine, mixed, [
          { content: "nothing in common here", embedding: qv!, model: "other/model-v0" },
          {
            content: "The quarterly dividend policy was approved.",
            embedding: qv!,
            model: "other/model-v0",
          },
        ]);
        const rows = await asUser(sql, as(alice), (tx) => search(tx, embedder, mine, q));
        const ids = await sql<{ id: string; content: string }[]>`
          select id, content from public.workbench_chunks where file_id = ${mixed}`;
        const unrelated = ids.find((r) => r.content.startsWith("nothing"))!;
        const related = ids.find((r) => r.content.startsWith("The quarterly"))!;
        assert.ok(!rows.some((r) => r.chunk_id === unrelated.id), "not found by its vector");
        const byText = rows.find((r) => r.chunk_id === related.id);
        assert.ok(byText, "still found by text");
        assert.equal(byText.vector_rank, null);
        assert.equal(byText.text_rank, 1);
        // Asked with the other model, the vector list holds only that model's chunks.
        const other = await asUser(
          sql,
          as(alice),
          (tx) => search(tx, embedder, mine, q, { model: "other/model-v0", textWeight: 0 }),
        );
        assert.deepEqual(
          new Set(other.map((r) => r.chunk_id)),
          new Set([unrelated.id, related.id]),
        );
      });

      await t.step(
        "`retrieve()` embeds with the workbench's model, else searches by text",
        async () => {
          const fake: Embedder = {
            model: "hf/some-other-model",
            dimensions: 384,
            // A model no chunk was made with: its vectors are never compared.
            embed: (texts) => Promise.resolve(texts.map(() => [1, ...Array(383).fill(0)])),
          };
          const solo = await createWorkbench(sql, alice, "local only");
          const f = await createFile(sql, solo, "notes.md");
          await insertChunks(sql, embedder, solo, f, [{ content: "Cash runway is 18 months." }]);
          const stood = await asUser(
            sql,
            as(alice),
            (tx) => retrieve(tx, fake, { workbenchId: solo, question: "cash runway" }),
          );
          assert.equal(stood.model, embedder.model, "the local model stands in");
          assert.equal(stood.mode, "hybrid");
          assert.match(stood.note ?? "", /local\/hashed/);
          assert.equal(stood.passages[0]?.vectorRank, 1);
          const textOnly = await asUser(sql, as(alice), (tx) =>
            retrieve(tx, fake, {
              workbenchId: solo,
              question: "cash runway",
              embedderFor: () => undefined,
            }));
          assert.equal(textOnly.mode, "text");
          assert.equal(textOnly.model, null);
          assert.match(textOnly.note ?? "", /text only/);
          assert.equal(textOnly.passages[0]?.vectorRank, null);
          assert.equal(textOnly.passages[0]?.textRank, 1);
        },
      );

      await t.step("files that are not indexed, and deleted files, never come back", async () => {
        const text = "confidential merger with Globex";
        const files: Record<string, string> = {};
        for (const status of ["pending", "processing", "error", "indexed"] as const) {
          files[status] = await createFile(sql, mine, `${status}.txt`, status);
          await insertChunks(sql, embedder, mine, files[status]!, [{ content: text }]);
        }
        const found = async () =>
          new Set(
            (await asUser(sql, as(alice), (tx) => search(tx, embedder, mine, text, { k: 20 })))
              .map((r) => r.file_id),
          );
        let seen = await found();
        assert.ok(seen.has(files.indexed!));
        for (const s of ["pending", "processing", "error"]) assert.ok(!seen.has(files[s]!), s);
        await sql`delete from public.workbench_files where id = ${files.indexed!}`;
        seen = await found();
        assert.ok(!seen.has(files.indexed!), "a deleted file is gone");
        // A file being re-indexed (back to processing) is out until it is indexed again.
        await sql`update public.workbench_files set status = 'processing' where id = ${pl}`;
        seen = await found();
        assert.ok(!seen.has(pl));
        await sql`update public.workbench_files set status = 'indexed' where id = ${pl}`;
      });

      await t.step(
        "a small workbench beside a large indexed one gets full, exact top-k; the large one recalls",
        async () => {
          await sql`update private.settings set value = '300'
                     where key = 'workbench_vector_index_min_chunks'`;
          const big = await createWorkbench(sql, alice, "big");
          const small = await createWorkbench(sql, alice, "small");
          const bigFile = await createFile(sql, big, "big.txt");
          const smallFile = await createFile(sql, small, "small.txt");
          const bigTexts = synthetic(1, 600);
          const smallTexts = synthetic(2, 25);
          await insertChunks(sql, embedder, big, bigFile, bigTexts.map((content) => ({ content })));
          await insertChunks(
            sql,
            embedder,
            small,
            smallFile,
            smallTexts.map((content) => ({ content })),
          );
          await sql`update public.workbench_files set chunks_done = 600 where id = ${bigFile}`;
          await sql`update public.workbench_files set chunks_done = 25 where id = ${smallFile}`;
          const built = await buildVectorIndexes(sql, 5);
          assert.deepEqual(
            built.map((r) => [r.workbench_id, r.built, r.concurrent]),
            [[big, true, true]],
            "only the large workbench gets one (PGlite, through the local front, builds it CONCURRENTLY)",
          );
          const [bigIndex] = await sql<{ indexdef: string }[]>`
            select indexdef from pg_indexes
             where indexname = private.workbench_vector_index_name(${big})`;
          assert.match(bigIndex!.indexdef, /m='16', ef_construction='200'/, "the default build");

          for (
            const [wb, texts, exact] of [[big, bigTexts, false], [small, smallTexts, true]] as const
          ) {
            const vectors = await embedder.embed(texts);
            const queries = synthetic(wb === big ? 3 : 4, 10).map((q) => q.split(": ")[1]!);
            let hits = 0;
            for (const q of queries) {
              const rows = await asUser(
                sql,
                as(alice),
                (tx) => search(tx, embedder, wb, q, { k: 10, textWeight: 0 }),
              );
              assert.equal(rows.length, 10, "a full top-10");
              const [qv] = await embedder.embed([q]);
              const similarity = new Map(texts.map((text, i) => [text, cosine(qv!, vectors[i]!)]));
              // The exact 10th best similarity; ties at it count as hits (hashed words tie often).
              const tenth = [...similarity.values()].sort((a, b) => b - a)[9]!;
              hits += rows.filter((r) => similarity.get(r.content)! >= tenth - 1e-6).length;
            }
            const recall = hits / (queries.length * 10);
            if (exact) assert.equal(recall, 1, "the small workbench is scanned exactly");
            else assert.ok(recall >= 0.9, `recall@10 of the partial HNSW index: ${recall}`);
          }
        },
      );

      await t.step("the partial index is built at the threshold, used, and dropped", async () => {
        const wb = await createWorkbench(sql, alice, "growing");
        const f = await createFile(sql, wb, "g.txt");
        await insertChunks(sql, embedder, wb, f, synthetic(5, 299).map((content) => ({ content })));
        assert.equal(
          await buildVectorIndex(sql, { workbenchId: wb }),
          null,
          "299 chunks: no index",
        );
        await insertChunks(sql, embedder, wb, f, [{ content: "one more chunk" }], 299);
        await sql`update private.settings set value = '100'
                   where key = 'workbench_vector_index_ef_construction'`;
        let at: { built: boolean } | null = null;
        try {
          at = await buildVectorIndex(sql, { workbenchId: wb });
        } finally {
          await sql`update private.settings set value = '200'
                     where key = 'workbench_vector_index_ef_construction'`;
        }
        assert.equal(at?.built, true, "300 chunks: an index");
        const name = `workbench_chunks_vec_${wb.replaceAll("-", "")}`;
        const [idx] = await sql<{ indexdef: string }[]>`
          select indexdef from pg_indexes where indexname = ${name}`;
        assert.match(idx!.indexdef, /hnsw/);
        assert.match(idx!.indexdef, /ef_construction='100'/, "built with the setting of the time");
        assert.ok(idx!.indexdef.includes(wb), "partial on the workbench");
        const scans = async () => {
          await sql`select pg_stat_force_next_flush()`;
          const [row] = await sql<{ n: string }[]>`
            select idx_scan as n from pg_stat_user_indexes where indexrelname = ${name}`;
          return Number(row!.n);
        };
        const before = await scans();
        const rows = await asUser(
          sql,
          as(alice),
          (tx) => search(tx, embedder, wb, "payroll audit"),
        );
        assert.equal(rows.length, 8);
        assert.equal(await scans(), before + 1, "the search used the workbench's index");
        await sql`delete from public.workbench where id = ${wb}`;
        const left = await sql`select 1 from pg_indexes where indexname = ${name}`;
        assert.equal(left.length, 0, "deleting the workbench drops its index");
      });
    } finally {
      await db.stop();
    }
  },
});
