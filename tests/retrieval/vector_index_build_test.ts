/**
 * A workbench's own HNSW index is built without blocking writes (shared/indexing/vector_index.ts,
 * the search migration's header): on native PostgreSQL (PGlite serialises every statement, so it
 * cannot show a lock wait), while the index of a 20,000-chunk workbench builds, chunk inserts into
 * another workbench complete, none of them waits on a lock, and the build is still running when
 * they are done. A build that is cancelled leaves an INVALID index, which the next build drops
 * before building again; the route the cron job kicks (`POST /index-worker/vector-index`) builds
 * the index of the largest workbench that needs one.
 */
import assert from "node:assert/strict";
import type { Sql } from "../../shared/db.ts";
import { serve } from "../../shared/http.ts";
import { buildVectorIndex } from "../../shared/indexing/mod.ts";
import type { IndexWorkerDeps } from "../../functions/index-worker/deps.ts";
import { createIndexWorkerHandler } from "../../functions/index-worker/handler.ts";
import { needsMigratedPostgres, withMigratedPostgres } from "../helpers/postgres.ts";

const ignore = needsMigratedPostgres();

const CHUNKS = 20_000;
const INSERTS = 20;

/** A workbench with one indexed file holding `n` chunks of random 384-dim vectors. */
async function workbenchWithChunks(sql: Sql, name: string, n: number) {
  const [wb] = await sql<{ id: string }[]>`
    insert into public.workbench (name) values (${name}) returning id`;
  const [file] = await sql<{ id: string }[]>`
    insert into public.workbench_files
      (workbench_id, file_name, file_type, size_bytes, content_hash, status, chunks_done)
    values (${wb!.id}, ${`${name}.txt`}, 'txt', 1, ${crypto.randomUUID()}, 'indexed', ${n})
    returning id`;
  await sql`
    insert into public.workbench_chunks
      (workbench_id, file_id, chunk_index, content, embedding, embedding_model)
    select ${wb!.id}, ${file!.id}, g, 'chunk ' || g,
           (select array_agg(random()::real) from generate_series(1, 384) d where g >= 0)
             ::extensions.vector,
           'test/model'
      from generate_series(0, ${n - 1}) g`;
  return { workbench: wb!.id, file: file!.id };
}

/** Resolves once a backend builds an index on workbench_chunks; returns its pid. */
async function buildStarted(admin: Sql, build: Promise<unknown>): Promise<number> {
  let settled = false;
  build.then(() => settled = true, () => settled = true);
  for (;;) {
    const [row] = await admin<{ pid: number }[]>`
      select pid from pg_stat_progress_create_index
       where relid = 'public.workbench_chunks'::regclass`;
    if (row) return row.pid;
    assert.ok(!settled, "the build ended before it was seen running");
    await new Promise((r) => setTimeout(r, 20));
  }
}

Deno.test({
  name: "`buildVectorIndex()` lets other workbenches insert chunks while a build runs",
  ignore,
  sanitizeOps: false,
  sanitizeResources: false,
}, async (t) => {
  await withMigratedPostgres(4, async ({ admin, pool }) => {
    const a = await workbenchWithChunks(admin, "large", CHUNKS);
    const b = await workbenchWithChunks(admin, "small", 10);
    await admin`analyze public.workbench_chunks`;
    // pgvector's default ef_construction: the build takes seconds rather than the default's ~15 s
    // here, still far longer than the inserts; the locks it takes are the same.
    await admin`update private.settings set value = '64'
                 where key = 'workbench_vector_index_ef_construction'`;

    await t.step("inserts into another workbench complete while the build runs", async () => {
      let buildDone = false;
      const build = buildVectorIndex(pool, { workbenchId: a.workbench }).finally(() => {
        buildDone = true;
      });
      const builder = await buildStarted(admin, build);

      // Who waits on a lock while the inserts run (sampled by another connection).
      let sampling = true;
      const waits: string[] = [];
      const sampler = (async () => {
        while (sampling) {
          const rows = await admin<{ pid: number; wait: string; query: string }[]>`
            select a.pid, a.wait_event_type || ':' || a.wait_event as wait, a.query
              from pg_stat_activity a
             where a.pid <> ${builder} and a.wait_event_type = 'Lock'
               and a.query ilike '%workbench_chunks%'`;
          waits.push(...rows.map((r) => `${r.wait} ${r.query.slice(0, 60)}`));
          await new Promise((r) => setTimeout(r, 10));
        }
      })();

      const started = performance.now();
      const times: number[] = [];
      try {
        for (let i = 0; i < INSERTS; i++) {
          const t0 = performance.now();
          // Each insert is its own transaction, as an indexing step's batch is; it gives up
          // after 5 s of waiting for a lock (a blocked insert fails instead of hanging the test).
          await pool.begin(async (tx) => {
            await tx`set local lock_timeout = '5s'`;
            await tx`
              insert into public.workbench_chunks
                (workbench_id, file_id, chunk_index, content, embedding, embedding_model)
              select ${b.workbench}, ${b.file}, ${100 + i}, 'new chunk',
                     (select array_agg(random()::real) from generate_series(1, 384))
                       ::extensions.vector,
                     'test/model'`;
          });
          times.push(performance.now() - t0);
        }
      } finally {
        sampling = false;
        await sampler;
      }
      const insertsMs = performance.now() - started;
      const stillBuilding = !buildDone;
      const result = await build;
      const buildMs = result?.ms ?? 0;
      console.log(
        `  ${INSERTS} inserts into workbench B: ${insertsMs.toFixed(0)} ms in all ` +
          `(slowest ${Math.max(...times).toFixed(0)} ms), while the index of ${CHUNKS} chunks ` +
          `built in ${buildMs} ms (concurrent: ${result?.concurrent})`,
      );
      assert.deepEqual(waits, [], "no insert waited on a lock");
      assert.ok(stillBuilding, "the inserts were done before the build was");
      assert.equal(result?.built, true);
      assert.equal(result?.concurrent, true, "built with CONCURRENTLY");
      const [inserted] = await admin<{ n: number }[]>`
        select count(*)::int as n from public.workbench_chunks where workbench_id = ${b.workbench}`;
      assert.equal(inserted!.n, 10 + INSERTS);
      const [index] = await admin<{ valid: boolean; registered: boolean }[]>`
        select x.indisvalid as valid,
               exists (select 1 from private.workbench_vector_indexes i
                        where i.workbench_id = ${a.workbench}) as registered
          from pg_index x
         where x.indexrelid = to_regclass(
                 'public.' || private.workbench_vector_index_name(${a.workbench}))`;
      assert.deepEqual(index, { valid: true, registered: true });
    });

    await t.step(
      "a cancelled build leaves an INVALID index; the next one drops it and builds",
      async () => {
        // Drop the index built above (deleting the registry row drops it).
        await admin`delete from private.workbench_vector_indexes where workbench_id = ${a.workbench}`;
        const build = buildVectorIndex(pool, { workbenchId: a.workbench });
        const builder = await buildStarted(admin, build);
        // Cancel once the index is in the catalog and being filled (the build's second phase).
        for (;;) {
          const [p] = await admin<{ phase: string }[]>`
          select phase from pg_stat_progress_create_index where pid = ${builder}`;
          if (p?.phase.startsWith("building index")) break;
          await new Promise((r) => setTimeout(r, 20));
        }
        await admin`select pg_cancel_backend(${builder})`;
        await assert.rejects(build, (err: { code?: string }) => err.code === "57014");
        // The cancelled backend leaves pg_stat_progress_create_index a moment after its error
        // reaches the client; until then a claim rightly takes the index for one still building.
        for (let tries = 0;; tries++) {
          const [{ building }] = await admin<{ building: boolean }[]>`
            select exists (select 1 from pg_stat_progress_create_index where pid = ${builder})
              as building`;
          if (!building) break;
          assert.ok(tries < 500, "the cancelled build left pg_stat_progress_create_index");
          await new Promise((r) => setTimeout(r, 10));
        }
        const state = () =>
          admin<{ valid: boolean | null; registered: boolean; claimed: boolean }[]>`
          select (select x.indisvalid from pg_index x
                   where x.indexrelid = to_regclass(
                           'public.' || private.workbench_vector_index_name(${a.workbench})))
                   as valid,
                 exists (select 1 from private.workbench_vector_indexes i
                          where i.workbench_id = ${a.workbench}) as registered,
                 exists (select 1 from private.workbench_vector_index_builds c
                          where c.workbench_id = ${a.workbench}) as claimed`;
        assert.deepEqual((await state())[0], { valid: false, registered: false, claimed: false });

        const [claim] = await admin<{ drop_statement: string | null }[]>`
        select drop_statement from private.claim_workbench_vector_index(${a.workbench})`;
        assert.match(claim!.drop_statement ?? "", /^drop index concurrently if exists /);
        await admin`select private.finish_workbench_vector_index(${a.workbench})`;

        // The route the cron job kicks builds it (the largest workbench that needs one), then
        // finds nothing to do; the cron job's check agrees.
        const kick = async () =>
          (await admin<{ kicked: boolean }[]>`
            select private.kick_workbench_vector_index_build() as kicked`)[0]!.kicked;
        assert.equal(await kick(), true, "the cron job kicks the worker");
        const worker = serve(
          "index-worker",
          createIndexWorkerHandler(
            {
              sql: () => pool,
              verifier: {
                verify: () => Promise.reject(new Error("no user tokens here")),
                isServiceKey: (key: string) => key === "service-key",
              },
            } as unknown as IndexWorkerDeps,
          ),
        );
        const post = async () => {
          const res = await worker(
            new Request("http://localhost/functions/v1/index-worker/vector-index", {
              method: "POST",
              headers: { authorization: "Bearer service-key" },
            }),
          );
          assert.equal(res.status, 200);
          return await res.json();
        };
        const again = await post();
        assert.equal(again.status, "built");
        assert.equal(again.workbench_id, a.workbench);
        assert.equal(again.built, true);
        assert.deepEqual((await state())[0], { valid: true, registered: true, claimed: false });
        assert.deepEqual(await post(), { status: "idle" }, "nothing left to build");
        assert.equal(await kick(), false, "nor for the cron job");
      },
    );
  });
});
