/**
 * Retrieval bench (`deno task bench retrieval [10k|100k ...]`, or alone:
 * `deno run -A bench/retrieval.ts [10k] [100k]`).
 *
 * For each scale: N synthetic chunks (business-like text, embedded with the local embedder) over
 * 200 workbenches of Zipf-skewed sizes (one owner each), inserted directly with SQL, then the
 * per-workbench HNSW indexes built as the cron job builds them (every workbench at or over
 * `workbench_vector_index_min_chunks`, 2000). The database is PGlite in this process, persisted
 * to a temporary directory so it can be restarted cold. Each search reports its wall time and
 * this process's CPU time (client + pooler + database: on an idle machine the wall time is about
 * the CPU time; on a loaded one the CPU time still shows the cost).
 *
 * Measured, through `retrieve()` inside `asUser` exactly as chat calls it (embedding the question,
 * the hybrid SQL function as the owner under RLS, trimming; client, wire and pooler included),
 * with the default settings, and again on PGlite itself (`measureInPglite`: the database's share):
 *   - warm latency p50/p95 for large (indexed) and small (exact scan) workbenches, queries made of
 *     words of one of the workbench's chunks (after unmeasured searches of every large and every
 *     10th small workbench: PGlite's WASM code is compiled as it first runs);
 *   - the same for a one-common-word query ("revenue") on the largest workbench (the full-text
 *     tail that `p_text_scan_limit` bounds);
 *   - recall@10: the hybrid top-10 against the same search with `retrieval.exact_scan = on`
 *     (exact cosine over the workbench), same query;
 *   - cold: the database process restarted, then the first search of each of 40 workbenches;
 *   - in PGlite, the issue's reference design as one raw statement next to each search
 *     (`referenceSearchSql`): the floor this machine sets for the design itself.
 */
import { asUser, createDb, type Sql } from "../shared/db.ts";
import { buildVectorIndexes } from "../shared/indexing/mod.ts";
import { createLocalEmbedder, toVectorLiteral } from "../shared/embeddings.ts";
import {
  DEFAULT_RETRIEVAL_SETTINGS,
  formSearchQuery,
  retrieve,
  SEARCH_SQL,
  searchParams,
} from "../shared/retrieval/mod.ts";
import { PGlite } from "@electric-sql/pglite";
import { vector } from "@electric-sql/pglite-pgvector";
import { applyPlatformBaseline } from "../local/platform_sql.ts";
import { defaultPaths, migrate } from "../local/migrate.ts";
import { Rng, TextGenerator } from "./corpus.ts";
import { startPglite } from "../local/database.ts";
import process from "node:process";
import { benchStart, isQuick, percentile, printRatio } from "./calibration.ts";
import { type Engine, engineFlags, openEngine } from "./engines.ts";

const WORKBENCHES = 200;
const embedder = createLocalEmbedder();

interface Database {
  url: string;
  stop(): Promise<void>;
}

/**
 * PGlite in this process, persisted to `dataDir` (on the local platform's database thread, with
 * its pooler): this process's CPU time per search, all threads, is the whole cost of a search
 * (client, wire, pooler, planning and execution), measurable even when other work loads the
 * machine.
 */
function startDatabase(dataDir: string): Promise<Database> {
  return startPglite({ port: 0, dataDir });
}

/** Zipf-like sizes (exponent 1.1) summing to `total`, largest first, each at least 5. */
export function skewedSizes(total: number, n: number): number[] {
  const weights = Array.from({ length: n }, (_, i) => 1 / (i + 1) ** 1.1);
  const sum = weights.reduce((a, b) => a + b, 0);
  const sizes = weights.map((w) => Math.max(5, Math.floor((w / sum) * total)));
  let diff = total - sizes.reduce((a, b) => a + b, 0);
  for (let i = 0; diff !== 0; i = (i + 1) % n) {
    const step = diff > 0 ? 1 : -1;
    if (sizes[i]! + step >= 5) {
      sizes[i]! += step;
      diff -= step;
    }
  }
  return sizes;
}

interface Workbench {
  id: string;
  owner: string;
  size: number;
}

async function load(sql: Sql, total: number): Promise<Workbench[]> {
  const rng = new Rng(7);
  const text = new TextGenerator(rng);
  const sizes = skewedSizes(total, WORKBENCHES);
  const workbenches: Workbench[] = [];
  for (let w = 0; w < WORKBENCHES; w++) {
    const owner = crypto.randomUUID();
    await sql`insert into auth.users (id, email) values (${owner}, ${`bench-${w}@example.com`})`;
    const [wb] = await sql<{ id: string }[]>`
      insert into public.workbench (name, owner_user_id) values (${`wb ${w}`}, ${owner})
      returning id`;
    const [file] = await sql<{ id: string }[]>`
      insert into public.workbench_files
        (workbench_id, file_name, file_type, size_bytes, content_hash, status, chunks_done)
      values (${wb!.id}, 'synthetic.txt', 'txt', 1, ${crypto.randomUUID()}, 'indexed',
              ${sizes[w]!})
      returning id`;
    workbenches.push({ id: wb!.id, owner, size: sizes[w]! });
    for (let i = 0; i < sizes[w]!; i += 1000) {
      const n = Math.min(1000, sizes[w]! - i);
      const contents = Array.from({ length: n }, () => `${text.paragraph()}`);
      const vectors = await embedder.embed(contents);
      const rows = contents.map((content, j) => ({
        workbench_id: wb!.id,
        file_id: file!.id,
        chunk_index: i + j,
        content,
        embedding: toVectorLiteral(vectors[j]!),
        embedding_model: embedder.model,
      }));
      await sql`insert into public.workbench_chunks ${
        sql(
          rows,
          "workbench_id",
          "file_id",
          "chunk_index",
          "content",
          "embedding",
          "embedding_model",
        )
      }`;
    }
  }
  await sql`analyze`;
  return workbenches;
}

const pct = percentile;

/** A question made of 6 words of one of the workbench's chunks. */
async function questionsFor(sql: Sql, wb: Workbench, n: number, rng: Rng): Promise<string[]> {
  const rows = await sql<{ content: string }[]>`
    select content from public.workbench_chunks
     where workbench_id = ${wb.id} and chunk_index = any (${
    Array.from({ length: n }, () => rng.int(wb.size))
  }::int[])`;
  return rows.map((r) => {
    const words = r.content.replace(/[.,]/g, "").split(/\s+/);
    const start = rng.int(Math.max(1, words.length - 6));
    return words.slice(start, start + 6).join(" ");
  });
}

async function search(sql: Sql, wb: Workbench, question: string, exact = false) {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const result = await asUser(sql, { sub: wb.owner, role: "authenticated" }, async (tx) => {
    if (exact) await tx`select set_config('retrieval.exact_scan', 'on', true)`;
    return await retrieve(tx, embedder, { workbenchId: wb.id, question, settings: { topK: 10 } });
  });
  const c = process.cpuUsage(c0);
  return {
    ms: performance.now() - t0,
    cpu: (c.user + c.system) / 1000,
    ids: result.passages.map((p) => p.chunkId),
  };
}

interface Asked {
  wb: Workbench;
  question: string;
}

interface ClassResult {
  latencies: number[];
  cpu: number[];
  recall: number;
  queries: number;
  asked: Asked[];
}

async function measureClass(
  sql: Sql,
  wbs: Workbench[],
  perWorkbench: number,
  rng: Rng,
): Promise<ClassResult> {
  const latencies: number[] = [];
  const cpu: number[] = [];
  const asked: Asked[] = [];
  let hits = 0;
  let expected = 0;
  for (const wb of wbs) {
    for (const q of await questionsFor(sql, wb, perWorkbench, rng)) {
      asked.push({ wb, question: q });
      await search(sql, wb, q); // warm this query's pages
      const got = await search(sql, wb, q);
      latencies.push(got.ms);
      cpu.push(got.cpu);
      const truth = await search(sql, wb, q, true);
      const set = new Set(got.ids);
      hits += truth.ids.filter((id) => set.has(id)).length;
      expected += truth.ids.length;
    }
  }
  return {
    latencies,
    cpu,
    recall: expected ? hits / expected : NaN,
    queries: latencies.length,
    asked,
  };
}

/**
 * The issue's reference design as ONE SQL statement, for comparison: as the database owner (no
 * RLS, no access check), no file or model filter, no fallback when no chunk has every word. The
 * nearest 20 by cosine at ef_search 400 (the plan is the planner's own choice: the workbench's
 * partial HNSW index, or an exact scan where it estimates that cheaper), the best 20 of at most 200
 * full-text matches by cover density, fused by RRF (k = 60), the top 10 with their content. What
 * this machine allows the design itself; the product's search adds the access rules, the filters
 * and the fallback to it, and always takes the workbench's index.
 */
function referenceSearchSql(workbenchId: string): string {
  // The workbench id is written into the text (a uuid from this bench, not input): the planner
  // picks a partial index only for a value it can see.
  const wb = `'${workbenchId.replace(/[^0-9a-f-]/g, "")}'::uuid`;
  return `
    with v as (
      select n.id, row_number() over (order by n.d, n.id) as r
        from (select c.id, c.embedding operator(extensions.<=>) $1::extensions.vector as d
                from public.workbench_chunks c where c.workbench_id = ${wb}
               order by c.embedding operator(extensions.<=>) $1::extensions.vector limit 20) n),
    t as (
      select m.id, row_number() over (order by m.rank desc, m.id) as r
        from (select s.id, ts_rank_cd(s.fts, q) as rank
                from websearch_to_tsquery('english', $2) q,
                     lateral (select c.id, c.fts from public.workbench_chunks c
                               where c.workbench_id = ${wb} and c.fts @@ q limit 200) s
               order by rank desc limit 20) m)
    select c.id, c.content, coalesce(1.0 / (60 + v.r), 0) + coalesce(1.0 / (60 + t.r), 0) as score
      from v full join t on t.id = v.id
      join public.workbench_chunks c on c.id = coalesce(v.id, t.id)
     order by score desc limit 10`;
}

/**
 * The same searches on PGlite itself, in this thread, with no client, wire or pooler: what the
 * search costs in the database (the issue's measure). Each: the query embedded, then one
 * transaction as the workbench's owner (role and claims in one statement, then the SQL function
 * with the default settings). The reference design (`referenceSearchSql`) runs each question
 * next to it, in its own transaction, so both see the same machine; which goes first alternates
 * (the second finds the pages the first read). Every question once unmeasured, then once
 * measured.
 */
/** Runs statements in one transaction on the engine itself (the bench's own connection). */
type Transact = (statements: { text: string; params: unknown[] }[]) => Promise<void>;

/** Per class: ours and the reference, wall and CPU of each search. */
export interface ClassComparison {
  name: string;
  ours: { latencies: number[]; cpu: number[] };
  reference: { latencies: number[]; cpu: number[] };
}

async function compareWithReference(
  transact: Transact,
  where: string,
  classes: { name: string; asked: Asked[] }[],
): Promise<ClassComparison[]> {
  const timed = async (work: () => Promise<unknown>) => {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    await work();
    const c = process.cpuUsage(c0);
    return { ms: performance.now() - t0, cpu: (c.user + c.system) / 1000 };
  };
  const run = async ({ wb, question }: Asked, referenceFirst: boolean) => {
    // Each timing includes embedding the question, as `retrieve()` does.
    const embedded = async () => {
      const query = formSearchQuery(question, []);
      const [v] = await embedder.embed([query]);
      return { query, values: v! };
    };
    const searchOurs = () =>
      timed(async () => {
        const { query, values } = await embedded();
        await transact([
          {
            text: `select set_config('role', 'authenticated', true),
                  set_config('request.jwt.claims', $1, true)`,
            params: [JSON.stringify({ sub: wb.owner, role: "authenticated" })],
          },
          {
            text: SEARCH_SQL,
            params: searchParams(
              wb.id,
              query,
              { values, model: embedder.model },
              DEFAULT_RETRIEVAL_SETTINGS,
            ),
          },
        ]);
      });
    const searchReference = () =>
      timed(async () => {
        const { query, values } = await embedded();
        await transact([
          { text: `select set_config('hnsw.ef_search', '400', true)`, params: [] },
          { text: referenceSearchSql(wb.id), params: [toVectorLiteral(values), query] },
        ]);
      });
    // Alternately first: the second search of a question finds the pages the first read.
    if (referenceFirst) {
      const reference = await searchReference();
      return { ours: await searchOurs(), reference };
    }
    const ours = await searchOurs();
    return { ours, reference: await searchReference() };
  };
  for (const c of classes) for (const [i, a] of c.asked.entries()) await run(a, i % 2 === 1);
  const out: ClassComparison[] = [];
  for (const c of classes) {
    const ours = { latencies: [] as number[], cpu: [] as number[] };
    const reference = { latencies: [] as number[], cpu: [] as number[] };
    for (const [i, a] of c.asked.entries()) {
      const got = await run(a, i % 2 === 0);
      ours.latencies.push(got.ours.ms);
      ours.cpu.push(got.ours.cpu);
      reference.latencies.push(got.reference.ms);
      reference.cpu.push(got.reference.cpu);
    }
    console.log(line(`${c.name}, ${where}`, ours));
    console.log(line(`${c.name}, reference design`, reference));
    out.push({ name: c.name, ours, reference });
  }
  return out;
}

/**
 * The same searches on PGlite itself, in this thread, with no client, wire or pooler: what the
 * search costs in the database (the issue's measure). Each: the query embedded, then one
 * transaction as the workbench's owner (role and claims in one statement, then the SQL function
 * with the default settings). The reference design (`referenceSearchSql`) runs each question
 * next to it, in its own transaction, so both see the same machine; which goes first alternates
 * (the second finds the pages the first read). Every question once unmeasured, then once
 * measured.
 */
async function measureInPglite(
  dir: string,
  classes: { name: string; asked: Asked[] }[],
): Promise<ClassComparison[]> {
  const pg = await PGlite.create({ dataDir: dir, extensions: { vector } });
  try {
    return await compareWithReference(
      (statements) =>
        pg.transaction(async (tx) => {
          for (const st of statements) await tx.query(st.text, st.params);
        }),
      "in PGlite",
      classes,
    );
  } finally {
    await pg.close();
  }
}

/** The same on native PostgreSQL, over one direct postgres.js connection (no pooler). */
async function measureDirect(
  url: string,
  classes: { name: string; asked: Asked[] }[],
): Promise<ClassComparison[]> {
  const sql = createDb(url);
  try {
    return await compareWithReference(
      (statements) =>
        sql.begin(async (tx) => {
          for (const st of statements) {
            await tx.unsafe(st.text, st.params as (string | number | null)[]);
          }
        }).then(() => {}),
      "native, direct",
      classes,
    );
  } finally {
    await sql.end({ timeout: 5 });
  }
}

/** What one scale gave: per class ours vs the reference, and recall of the measured classes. */
export interface ScaleResult {
  total: number;
  engine: string;
  comparisons: ClassComparison[];
  recall: Record<string, number>;
}

/** The issue's goals for one scale, printed as ratios. */
export function printRetrievalRatios(r: ScaleResult): void {
  console.log(`ratios (${r.engine}, ${r.total} chunks; ours = the product's statement):`);
  for (const c of r.comparisons) {
    for (const p of [50, 95]) {
      const ours = percentile(c.ours.latencies, p);
      const ref = percentile(c.reference.latencies, p);
      printRatio(
        `${c.name}: ours / reference, p${p}`,
        ours / ref,
        { op: "≤", bound: 1.2 },
        `${ours.toFixed(1)} / ${ref.toFixed(1)} ms`,
      );
    }
  }
  for (const [name, recall] of Object.entries(r.recall)) {
    printRatio(`${name}: recall@10`, recall, { op: "≥", bound: 0.98 });
  }
}

/** p95 at the larger scale ÷ p95 at the smaller, per class (cost should grow slower than data). */
export function printScaling(small: ScaleResult, large: ScaleResult): void {
  console.log(`scaling (${large.engine}): p95 at ${large.total} / p95 at ${small.total}`);
  for (const c of large.comparisons) {
    const s = small.comparisons.find((x) => x.name === c.name);
    if (!s) continue;
    const a = percentile(c.ours.latencies, 95);
    const b = percentile(s.ours.latencies, 95);
    printRatio(
      `${c.name}: p95 ${large.total} / p95 ${small.total}`,
      a / b,
      {
        op: "≤",
        bound: 1.5,
      },
      `${a.toFixed(1)} / ${b.toFixed(1)} ms${
        large.total === 100_000 ? "" : " (goal is at 100k/10k)"
      }`,
    );
  }
}

const ms = (v: number) => v.toFixed(1).padStart(6);

function line(name: string, r: { latencies: number[]; cpu: number[]; recall?: number }): string {
  return `  ${name.padEnd(40)} ${String(r.latencies.length).padStart(4)} q  wall p50 ${
    ms(pct(r.latencies, 50))
  } p95 ${ms(pct(r.latencies, 95))} ms  cpu p50 ${ms(pct(r.cpu, 50))} p95 ${ms(pct(r.cpu, 95))} ms${
    r.recall === undefined ? "" : `  recall@10 ${r.recall.toFixed(3)}`
  }`;
}

/**
 * One scale on one engine: PGlite (in this process, restarted for the cold searches) or native
 * PostgreSQL at `engine.dbUrl` (an empty database: the bench applies the baseline and migrations;
 * no cold run there, the server is not the bench's to restart).
 */
export async function benchRetrieval(total: number, engine?: Engine): Promise<ScaleResult> {
  const native = engine?.name === "native" && engine.dbUrl;
  const dir = await Deno.makeTempDir({ prefix: "bench-retrieval-" });
  let db: Database = native
    ? { url: engine!.dbUrl!, stop: () => Promise.resolve() }
    : await startDatabase(dir);
  let sql = createDb(db.url);
  const result: ScaleResult = {
    total,
    engine: native ? "native" : "pglite",
    comparisons: [],
    recall: {},
  };
  try {
    let t = performance.now();
    const cpu0 = process.cpuUsage();
    await applyPlatformBaseline(sql);
    await migrate(sql, defaultPaths());
    // The bench builds the indexes itself, then measures; no cron job runs here.
    const wbs = await load(sql, total);
    console.log(
      `retrieval @ ${total} chunks, ${WORKBENCHES} workbenches (largest ${wbs[0]!.size}, ` +
        `smallest ${wbs[wbs.length - 1]!.size}): loaded in ${
          ((performance.now() - t) / 1000).toFixed(1)
        } s (cpu ${
          ((process.cpuUsage(cpu0).user + process.cpuUsage(cpu0).system) / 1e6).toFixed(1)
        } s)`,
    );
    t = performance.now();
    const built = (await buildVectorIndexes(sql, WORKBENCHES)).map((b) => ({ id: b.workbench_id }));
    console.log(
      `  ${built.length} partial HNSW indexes (workbenches ≥ 2000 chunks) built in ${
        ((performance.now() - t) / 1000).toFixed(1)
      } s`,
    );
    const indexed = new Set(built.map((r) => r.id));
    const large = wbs.filter((w) => indexed.has(w.id));
    const small = wbs.filter((w) => !indexed.has(w.id));
    const rng = new Rng(11);
    // Warm: the database's WASM code is compiled lazily, and its search paths (HNSW, GIN,
    // PL/pgSQL) were not run by the load; a few searches of each kind first, none measured.
    t = performance.now();
    for (const wb of [...large, ...small.filter((_, i) => i % 10 === 0)]) {
      for (const q of await questionsFor(sql, wb, 3, new Rng(99))) await search(sql, wb, q);
    }
    console.log(`  warmed up in ${((performance.now() - t) / 1000).toFixed(1)} s`);
    // Small workbenches: every 5th, so sizes from a few hundred down to 5 are covered.
    const smallSample = small.filter((_, i) => i % 5 === 0);
    const perLarge = Math.max(5, Math.ceil(60 / Math.max(1, large.length)));
    const classes: { name: string; asked: Asked[] }[] = [];
    if (large.length) {
      const name = `large (indexed, ${large.length} workbenches)`;
      const r = await measureClass(sql, large, perLarge, rng);
      console.log(line(name, r));
      classes.push({ name: "large", asked: r.asked });
      result.recall.large = r.recall;
    }
    const smallName = `small (exact, ${smallSample.length} of ${small.length})`;
    const smallResult = await measureClass(sql, smallSample, 2, rng);
    console.log(line(smallName, smallResult));
    classes.push({ name: "small", asked: smallResult.asked });
    result.recall.small = smallResult.recall;
    const common = { latencies: [] as number[], cpu: [] as number[] };
    for (let i = 0; i < 20; i++) {
      const r = await search(sql, wbs[0]!, "revenue");
      common.latencies.push(r.ms);
      common.cpu.push(r.cpu);
    }
    console.log(line("one common word, largest workbench", common));
    classes.push({
      name: "one common word",
      asked: Array.from({ length: 20 }, () => ({ wb: wbs[0]!, question: "revenue" })),
    });

    if (native) {
      result.comparisons = await measureDirect(db.url, classes);
      printRetrievalRatios(result);
      return result;
    }
    await sql.end({ timeout: 5 });
    await db.stop();
    result.comparisons = await measureInPglite(dir, classes);
    printRetrievalRatios(result);

    // Cold: restart the database, then the first search of 40 workbenches (large ones included).
    db = await startDatabase(dir);
    sql = createDb(db.url);
    const coldSample = [...large, ...smallSample].slice(0, 40);
    const cold = { latencies: [] as number[], cpu: [] as number[] };
    for (const wb of coldSample) {
      const [q] = await questionsFor(sql, wb, 1, rng);
      const r = await search(sql, wb, q ?? "revenue");
      cold.latencies.push(r.ms);
      cold.cpu.push(r.cpu);
    }
    console.log(line("cold (first search after a restart)", cold));
    return result;
  } finally {
    await sql.end({ timeout: 5 });
    await db.stop();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

/**
 * Every scale on every engine the flags choose (bench/engines.ts): a fresh database per scale
 * (PGlite in a temporary folder; native: a throw-away cluster, or `--db-url`, then it must be
 * empty and only one scale is run), then p95 of the largest scale ÷ p95 of the smallest.
 */
export async function benchRetrievalScales(scales: number[], args = Deno.args): Promise<void> {
  const done = benchStart("retrieval");
  try {
    const { engines, dbUrl } = engineFlags(args);
    for (const name of engines) {
      console.log(
        `\n=== engine: ${name === "pglite" ? "PGlite" : "native PostgreSQL + pgvector"} ===`,
      );
      const results: ScaleResult[] = [];
      for (const total of dbUrl && name === "native" ? scales.slice(0, 1) : scales) {
        const engine = await openEngine(name, dbUrl);
        try {
          results.push(await benchRetrieval(total, engine));
        } finally {
          await engine.stop();
        }
      }
      if (results.length > 1) printScaling(results[0]!, results[results.length - 1]!);
    }
  } finally {
    done();
  }
}

/** `10k`, `20k`, `100k` → chunk counts; `--quick` alone means 10k and 20k. */
export function retrievalScales(args: string[]): number[] {
  const scales = args.map((a) => a.toLowerCase()).filter((a) => /^\d+k$/.test(a));
  const chosen = scales.length ? scales : isQuick(args) ? ["10k", "20k"] : ["10k", "100k"];
  return chosen.map((s) => Number(s.slice(0, -1)) * 1000).sort((a, b) => a - b);
}

if (import.meta.main) {
  Deno.env.set("LOG_LEVEL", Deno.env.get("LOG_LEVEL") ?? "warn");
  await benchRetrievalScales(retrievalScales(Deno.args));
}
