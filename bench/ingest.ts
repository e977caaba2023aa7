/**
 * Ingestion bench (run by bench/run.ts in its own process, with `--expose-gc`; or alone:
 * `deno run -A --v8-flags=--expose-gc bench/ingest.ts [xlsx|csv|pdf|docx ...]`).
 *
 * Cases: a 50,000-row XLSX, a 20 MB CSV, a 200-page PDF and a 20 MB DOCX; and, for the comparison
 * with LangChain.js, a 100-page PDF (`pdf100`) and a 50,000-row CSV (`csv50k`). `--quick` makes
 * every case about a tenth of its size. For each:
 *   - floor: the raw parser alone over the file's bytes (unpdf's text extraction for PDFs,
 *     papaparse for CSV, fflate's inflate of the package for XLSX and DOCX), then the file's
 *     chunks (made beforehand, not timed) embedded with the same embedder and bulk-inserted into
 *     workbench_chunks in one transaction; goal: pipeline ≤ 1.3× floor;
 *   - pipeline: the index worker's steps, `processNextFile()` called in this process (the bench
 *     plays the scheduler) until the file is indexed. Per step: CPU of this process, heap growth
 *     (after a GC before the step, peak during it). The file's bytes come from a store that reads
 *     them from disk on every download, as the Storage download does.
 *   - for `pdf100` and `csv50k`, LangChain.js on the same bytes (bench/ingest_langchain.ts);
 *     goals: the PDF in ≤ 0.8× LangChain's time, the CSV ≥ 20× faster.
 * The database (PGlite) runs in another process (bench/db_process.ts), as on Supabase, so the
 * step CPU is the worker's own; or native PostgreSQL (`--engine`, `--db-url`, bench/engines.ts;
 * its CPU is not read). Both runs start from an empty chunks table.
 *
 * No HNSW index is maintained during the bench unless `--with-hnsw` is given (then the bench
 * workbench gets its partial HNSW index, as a large workbench has, before ingestion): PGlite
 * (Postgres compiled to WASM) spends ~20 ms a chunk maintaining it, several times native
 * Postgres, so with it both the floor and the pipeline are mostly index maintenance and the
 * pipeline's own overhead hardly shows (and the bench takes most of an hour on 2 cores).
 */
import process from "node:process";
import { join } from "node:path";
import { type Chunk, Chunker } from "../shared/chunking.ts";
import { createDb, type Sql } from "../shared/db.ts";
import { createLocalEmbedder, type Embedder, toVectorLiteral } from "../shared/embeddings.ts";
import {
  buildVectorIndex,
  CHUNK_COLUMNS,
  chunkRow,
  DEFAULT_WORKER_CONFIG,
  processNextFile,
  stepConfigFromEnv,
} from "../shared/indexing/mod.ts";
import { type FileType, readFile, UNLIMITED } from "../shared/parsers/mod.ts";
import type { ObjectStore } from "../shared/storage.ts";
import { applyPlatformBaseline } from "../local/platform_sql.ts";
import { defaultPaths, migrate } from "../local/migrate.ts";
import {
  type DocxBlock,
  docxParts,
  makeCsv,
  makePdf,
  type XlsxCell,
  xlsxParts,
} from "../tests/fixtures/documents.ts";
import { ledgerRow, Rng, TextGenerator } from "./corpus.ts";
import { zipNative } from "./zip_writer.ts";
import { extractText, getDocumentProxy } from "unpdf";
import Papa from "papaparse";
import { unzipSync } from "fflate";
import { benchStart, isQuick, printRatio } from "./calibration.ts";
import { type Engine, engineFlags, forEachEngine } from "./engines.ts";
import { langchainIngest } from "./ingest_langchain.ts";

/** `--quick`: about a tenth of every case. */
const SCALE = isQuick() ? 0.1 : 1;

interface Case {
  key: string;
  name: string;
  fileName: string;
  type: FileType;
  bytes: Uint8Array;
  units: number;
  unitName: string;
}

const MB = 1_000_000;

function xlsxCase(): Promise<Case> {
  const rng = new Rng(1);
  const rows: XlsxCell[][] = [["date", "account", "cost centre", "amount"]];
  for (let i = 0; i < 50_000 * SCALE; i++) {
    rows.push([
      new Date(Date.UTC(2026, i % 12, (i % 28) + 1)),
      `account-${i % 97}`,
      `cost centre ${i % 13}`,
      Math.round(rng.next() * 10_000_000) / 100,
    ]);
  }
  return zipNative(xlsxParts([{ name: "Ledger", rows }])).then((bytes) => ({
    key: "xlsx",
    name: `${(50_000 * SCALE).toLocaleString("en")}-row XLSX`,
    fileName: "ledger.xlsx",
    type: "xlsx" as const,
    bytes,
    units: 50_000 * SCALE,
    unitName: "rows",
  }));
}

function csvCase(): Case {
  const rng = new Rng(2);
  const text = new TextGenerator(new Rng(3));
  const rows: (string | number)[][] = [];
  let size = 0;
  while (size < 20 * MB * SCALE - 300) {
    const row = ledgerRow(rng, text, rows.length);
    rows.push(row);
    size += row.join(",").length + 4;
  }
  let bytes = makeCsv(
    ["date", "account", "cost_centre", "counterparty", "description", "amount"],
    rows,
  );
  while (bytes.length > 20 * MB * SCALE) {
    rows.pop();
    bytes = makeCsv(
      ["date", "account", "cost_centre", "counterparty", "description", "amount"],
      rows,
    );
  }
  return {
    key: "csv",
    name: `${20 * SCALE} MB CSV (${rows.length.toLocaleString("en")} rows)`,
    fileName: "ledger.csv",
    type: "csv",
    bytes,
    units: rows.length,
    unitName: "rows",
  };
}

/** A 50,000-row ledger CSV (LangChain's CSVLoader makes one document per row). */
function csvRowsCase(): Case {
  const rng = new Rng(2);
  const text = new TextGenerator(new Rng(3));
  const n = 50_000 * SCALE;
  const rows = Array.from({ length: n }, (_, i) => ledgerRow(rng, text, i));
  return {
    key: "csv50k",
    name: `${n.toLocaleString("en")}-row CSV`,
    fileName: "rows.csv",
    type: "csv",
    bytes: makeCsv(
      ["date", "account", "cost_centre", "counterparty", "description", "amount"],
      rows,
    ),
    units: n,
    unitName: "rows",
  };
}

function pdfCase(total = 200, key = "pdf"): Case {
  const count = Math.max(5, Math.round(total * SCALE));
  const text = new TextGenerator(new Rng(4));
  const pages = Array.from({ length: count }, () => {
    const lines: string[] = [];
    for (let l = 0; l < 40; l++) lines.push(text.sentence().slice(0, 90));
    return lines;
  });
  return {
    key,
    name: `${count}-page PDF`,
    fileName: "report.pdf",
    type: "pdf",
    bytes: makePdf(pages),
    units: count,
    unitName: "pages",
  };
}

function docxBlocks(sections: number, text: TextGenerator, rng: Rng): {
  blocks: DocxBlock[];
  paragraphs: number;
} {
  const blocks: DocxBlock[] = [];
  let paragraphs = 0;
  for (let s = 0; s < sections; s++) {
    blocks.push({ heading: `${s + 1}. ${text.title()}`, level: 1 });
    for (let sub = 0; sub < 3; sub++) {
      blocks.push({ heading: text.title(), level: 2 });
      const n = 4 + rng.int(6);
      for (let p = 0; p < n; p++) blocks.push({ paragraph: text.paragraph() });
      paragraphs += n;
    }
    if (s % 10 === 0) {
      blocks.push({ list: [text.sentence(), text.sentence(), text.sentence()] });
    }
    if (s % 25 === 0) {
      const rows = [["Item", "Q1", "Q2", "Q3", "Q4"]];
      for (let r = 0; r < 12; r++) {
        rows.push([text.title(), ...Array.from({ length: 4 }, () => String(rng.int(100_000)))]);
      }
      blocks.push({ table: rows });
    }
  }
  return { blocks, paragraphs };
}

/**
 * A text-heavy DOCX with Word-like markup, sized to just under 20 MB and to at most ~148 MB of XML
 * (uploads refuse DOCX/XLSX files that expand beyond 150 MB).
 */
async function docxCase(): Promise<Case> {
  const build = async (sections: number) => {
    const { blocks, paragraphs } = docxBlocks(sections, new TextGenerator(new Rng(5)), new Rng(6));
    const parts = docxParts(blocks, { wordMarkup: true });
    const bytes = await zipNative(parts);
    const xml = parts["word/document.xml"].length;
    return { bytes, paragraphs, xml };
  };
  let sections = 500;
  let built = await build(sections);
  // Two proportional corrections reach the size.
  for (let i = 0; i < 2; i++) {
    sections = Math.floor(
      sections * Math.min((19.8 * MB) / built.bytes.length, (147 * MB) / built.xml),
    );
    built = await build(sections);
  }
  while (built.bytes.length > 20 * MB || built.xml > 148 * MB) built = await build(--sections);
  return {
    key: "docx",
    name: `${(built.bytes.length / MB).toFixed(1)} MB DOCX (${sections} sections, ${
      (built.xml / MB).toFixed(0)
    } MB of XML)`,
    fileName: "report.docx",
    type: "docx",
    bytes: built.bytes,
    units: built.paragraphs,
    unitName: "paragraphs",
  };
}

/** Reads the object from disk on every download, as a Storage download brings fresh bytes. */
function diskStore(root: string): ObjectStore {
  const path = (bucket: string, name: string) => join(root, bucket, name);
  return {
    async upload(bucket, name, bytes) {
      await Deno.mkdir(join(path(bucket, name), ".."), { recursive: true });
      await Deno.writeFile(path(bucket, name), bytes);
    },
    download: (bucket, name) => Deno.readFile(path(bucket, name)),
    async remove(bucket, names) {
      for (const name of names) await Deno.remove(path(bucket, name)).catch(() => {});
    },
    signedUrl: () => Promise.reject(new Error("not in the bench")),
  };
}

async function chunksOf(c: Case, opts: { maxTokens: number; overlapTokens: number }) {
  const chunker = new Chunker(opts);
  const chunks: Chunk[] = [];
  chunker.onChunk = (chunk) => chunks.push(chunk);
  await readFile(c.type, c.bytes, undefined, chunker, UNLIMITED);
  chunker.end();
  return chunks;
}

async function newFile(sql: Sql, workbench: string, c: Case, path: string | null) {
  const [row] = await sql<{ id: string }[]>`
    insert into public.workbench_files (workbench_id, file_name, file_type, size_bytes,
                                        content_hash, storage_path)
    values (${workbench}, ${c.fileName}, ${c.type}, ${c.bytes.length},
            ${crypto.randomUUID()}, ${path})
    returning id`;
  return row.id;
}

/**
 * The raw parser alone over the bytes: what any pipeline must pay to read the file (unpdf's text
 * extraction, papaparse, the package's inflate for OOXML).
 */
async function rawParse(c: Case): Promise<void> {
  if (c.type === "pdf") {
    const pdf = await getDocumentProxy(new Uint8Array(c.bytes));
    await extractText(pdf, { mergePages: false });
  } else if (c.type === "csv") {
    Papa.parse(new TextDecoder().decode(c.bytes), { skipEmptyLines: true });
  } else {
    unzipSync(c.bytes);
  }
}

/** Parses the bytes raw, embeds the chunks and inserts them in one transaction; ms. */
async function floor(
  c: Case,
  sql: Sql,
  embedder: Embedder,
  batchSize: number,
  workbench: string,
  fileId: string,
  chunks: Chunk[],
): Promise<number> {
  const t0 = performance.now();
  await rawParse(c);
  const vectors: string[] = [];
  for (let i = 0; i < chunks.length; i += batchSize) {
    const batch = await embedder.embed(chunks.slice(i, i + batchSize).map((c) => c.content));
    for (const v of batch) vectors.push(toVectorLiteral(v));
  }
  await sql.begin(async (tx) => {
    for (let i = 0; i < chunks.length; i += 500) {
      const file = { workbench_id: workbench, id: fileId };
      const rows = chunks.slice(i, i + 500).map((c, j) =>
        chunkRow(file, i + j, c, vectors[i + j]!, embedder.model)
      );
      await tx`insert into public.workbench_chunks ${tx(rows, ...CHUNK_COLUMNS)}`;
    }
  });
  return performance.now() - t0;
}

interface StepStat {
  ms: number;
  /** CPU of the thread running the step (what an isolate's CPU limit meters). */
  cpuMs: number;
  /** CPU of the whole process: also GC helper threads and the runtime's I/O threads. */
  processCpuMs: number;
  heapGrowth: number;
  status: string;
}

const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});

/** CPU time of the calling thread in ms (Linux schedstat, ns resolution), NaN elsewhere. */
function threadCpuMs(): number {
  try {
    return Number(Deno.readTextFileSync("/proc/thread-self/schedstat").split(" ")[0]) / 1e6;
  } catch {
    return NaN;
  }
}

async function pipeline(sql: Sql, store: ObjectStore, embedder: Embedder): Promise<StepStat[]> {
  const config = stepConfigFromEnv(Deno.env.toObject());
  const deps = { sql: () => sql, store, embedder, config, worker: DEFAULT_WORKER_CONFIG };
  const steps: StepStat[] = [];
  for (let i = 0; i < 10_000; i++) {
    gc();
    const base = Deno.memoryUsage().heapUsed;
    let peak = base;
    // Sampling costs CPU (~13 ms per second at this rate); the step yields often enough.
    const sampler = setInterval(() => {
      peak = Math.max(peak, Deno.memoryUsage().heapUsed);
    }, 10);
    const cpu = process.cpuUsage();
    const thread = threadCpuMs();
    const t0 = performance.now();
    const result = await processNextFile(deps);
    const ms = performance.now() - t0;
    const threadUsed = threadCpuMs() - thread;
    const used = process.cpuUsage(cpu);
    clearInterval(sampler);
    peak = Math.max(peak, Deno.memoryUsage().heapUsed);
    steps.push({
      ms,
      cpuMs: threadUsed,
      processCpuMs: (used.user + used.system) / 1000,
      heapGrowth: peak - base,
      status: result.status,
    });
    if (result.status === "indexed") return steps;
    if (result.status !== "stepped") {
      throw new Error(`step ${i + 1}: ${JSON.stringify(result)}`);
    }
  }
  throw new Error("the file did not finish in 10,000 steps");
}

interface Database {
  url: string;
  /** CPU time used by the database process so far (Linux /proc; 10 ms resolution). */
  cpuMs(): number;
  stop(): Promise<void>;
}

async function startDatabase(): Promise<Database> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL("./db_process.ts", import.meta.url).pathname],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let out = "";
  while (!out.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error("the database process ended");
    out += value;
  }
  reader.releaseLock();
  const { url } = JSON.parse(out.split("\n")[0]);
  const ticks = 100; // USER_HZ
  return {
    url,
    cpuMs() {
      try {
        const stat = Deno.readTextFileSync(`/proc/${child.pid}/stat`);
        const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
        return ((Number(fields[11]) + Number(fields[12])) / ticks) * 1000;
      } catch {
        return NaN;
      }
    },
    async stop() {
      await child.stdin.close();
      await child.stdout.cancel().catch(() => {});
      await child.status;
    },
  };
}

const fmt = (n: number, digits = 0) => n.toFixed(digits).padStart(8);

export async function benchIngestion(
  only: string[] = [],
  withHnsw = false,
  engine?: Engine,
): Promise<void> {
  const db: Database = engine?.dbUrl
    ? { url: engine.dbUrl, cpuMs: () => NaN, stop: () => Promise.resolve() }
    : await startDatabase();
  const sql = createDb(db.url);
  const scratch = await Deno.makeTempDir({ prefix: "bench-ingest-" });
  try {
    await applyPlatformBaseline(sql);
    await migrate(sql, defaultPaths());
    // As deployed: the worker's kicks go through pg_net (nothing sends them here).
    await sql`select vault.create_secret('http://127.0.0.1:9', 'project_url')`;
    await sql`select vault.create_secret('bench', 'service_role_key')`;
    const [wb] = await sql<{ id: string }[]>`
      insert into public.workbench (name) values ('bench') returning id`;
    // No global vector index (see the search migration); a large workbench has its own
    // partial one, which `--with-hnsw` builds before ingestion (the worst case for inserts).
    if (withHnsw) await buildVectorIndex(sql, { workbenchId: wb.id, minChunks: 0 });
    const store = diskStore(scratch);
    const embedder = createLocalEmbedder();
    const config = stepConfigFromEnv(Deno.env.toObject());
    console.log(
      `\nIngestion (local embedder; a step stops at ${config.extractChunksPerStep} chunks, ` +
        `${config.stepWorkMs} ms of its own work or ${config.pdfPagesPerStep} PDF pages; ` +
        `${config.embedBatchSize} chunks per embedding batch and insert; ` +
        `database in another process${withHnsw ? ", with the workbench's HNSW index" : ""})`,
    );
    const makers: Array<[string, () => Case | Promise<Case>]> = [
      ["xlsx", xlsxCase],
      ["csv", csvCase],
      ["pdf", () => pdfCase()],
      ["docx", docxCase],
      ["pdf100", () => pdfCase(100, "pdf100")],
      ["csv50k", csvRowsCase],
    ];
    for (const [key, make] of makers) {
      if (only.length > 0 ? !only.includes(key) : key === "pdf100" || key === "csv50k") continue;
      const c = await make();
      const chunks = await chunksOf(c, {
        maxTokens: config.chunkTokens,
        overlapTokens: config.overlapTokens,
      });

      await sql`truncate public.workbench_chunks`;
      const floorFile = await newFile(sql, wb.id, c, null);
      await sql`delete from pgmq.q_file_index where message ->> 'file_id' = ${floorFile}`;
      let dbCpu = db.cpuMs();
      const ownCpu = process.cpuUsage();
      const floorMs = await floor(
        c,
        sql,
        embedder,
        config.embedBatchSize,
        wb.id,
        floorFile,
        chunks,
      );
      const floorDbCpu = db.cpuMs() - dbCpu;
      const floorOwn = process.cpuUsage(ownCpu);
      const floorOwnCpu = (floorOwn.user + floorOwn.system) / 1000;
      await sql`delete from public.workbench_files where id = ${floorFile}`;
      await sql`truncate public.workbench_chunks`;

      const path = `${wb.id}/${c.fileName}`;
      await store.upload("workbench", path, c.bytes, "application/octet-stream");
      const fileId = await newFile(sql, wb.id, c, path);
      dbCpu = db.cpuMs();
      const steps = await pipeline(sql, store, embedder);
      const pipelineDbCpu = db.cpuMs() - dbCpu;
      const [file] = await sql<{ status: string; chunks_total: number }[]>`
        select status, chunks_total from public.workbench_files where id = ${fileId}`;
      const stored = await sql<{ content: string }[]>`
        select content from public.workbench_chunks where file_id = ${fileId} order by chunk_index`;
      const identical = stored.length === chunks.length &&
        stored.every((row, i) => row.content === chunks[i].content);
      const totalMs = steps.reduce((a, s) => a + s.ms, 0);
      const maxCpu = Math.max(...steps.map((s) => s.cpuMs));
      const meanCpu = steps.reduce((a, s) => a + s.cpuMs, 0) / steps.length;
      const maxProcessCpu = Math.max(...steps.map((s) => s.processCpuMs));
      const maxHeap = Math.max(...steps.map((s) => s.heapGrowth)) / 1024 / 1024;
      const rate = (n: number, ms: number) => n / (ms / 1000);
      console.log(
        `\n  ${c.name}: ${(c.bytes.length / MB).toFixed(1)} MB, ${file.status}, ` +
          `${file.chunks_total} chunks (one pass: ${chunks.length}, ` +
          `${identical ? "identical" : "DIFFERENT"})`,
      );
      console.log(
        `    steps ${steps.length}; CPU per step max ${fmt(maxCpu)} ms, mean ${fmt(meanCpu)} ms ` +
          `(whole process, with GC and I/O threads: max ${fmt(maxProcessCpu)} ms); ` +
          `heap growth per step max ${fmt(maxHeap, 1)} MiB`,
      );
      const stepCpu = steps.reduce((a, s) => a + s.processCpuMs, 0);
      const list = steps.map((s) => s.cpuMs.toFixed(0));
      console.log(
        `    CPU of each step (ms): ${
          list.length > 24
            ? [...list.slice(0, 12), "…", ...list.slice(-12)].join(" ")
            : list.join(" ")
        }`,
      );
      console.log(
        `    pipeline ${fmt(totalMs)} ms  ${fmt(rate(c.units, totalMs), 1)} ${c.unitName}/s ` +
          `${fmt(rate(file.chunks_total, totalMs), 1)} chunks/s; CPU: worker ${fmt(stepCpu)} ms ` +
          `+ database ${fmt(pipelineDbCpu)} ms`,
      );
      console.log(
        `    floor    ${fmt(floorMs)} ms  (raw parser + embed + one-transaction insert of the ` +
          `same chunks); ` +
          `CPU: bench ${fmt(floorOwnCpu)} ms + database ${fmt(floorDbCpu)} ms`,
      );
      console.log(
        `    pipeline / floor = ${(totalMs / floorMs).toFixed(2)} (wall time), ` +
          `${((stepCpu + pipelineDbCpu) / (floorOwnCpu + floorDbCpu)).toFixed(2)} (CPU of both ` +
          `processes)`,
      );
      printRatio(`${c.name}: pipeline / floor (wall)`, totalMs / floorMs, { op: "≤", bound: 1.3 });
      if (key === "pdf100" || key === "csv50k") {
        const lcOpts = {
          bytes: c.bytes,
          type: c.type as "pdf" | "csv",
          url: db.url,
          embedder,
          chunkChars: config.chunkTokens * 4,
          overlapChars: config.overlapTokens * 4,
        };
        // pdf-parse's pdf.js loads on first use (ours was warmed by the floor): once unmeasured.
        if (key === "pdf100") await langchainIngest(lcOpts);
        const lc = await langchainIngest(lcOpts);
        console.log(
          `    LangChain.js ${fmt(lc.ms)} ms  (${lc.documents} documents, ${lc.chunks} chunks; ` +
            `loader + RecursiveCharacterTextSplitter + PGVectorStore, same embedder)`,
        );
        if (key === "pdf100") {
          printRatio(`${c.name}: ours / LangChain.js`, totalMs / lc.ms, { op: "≤", bound: 0.8 });
        } else {
          printRatio(`${c.name}: LangChain.js / ours (times faster)`, lc.ms / totalMs, {
            op: "≥",
            bound: 20,
          });
        }
      }
      await sql`truncate public.workbench_chunks`;
    }
  } finally {
    await sql.end({ timeout: 5 });
    await db.stop();
    await Deno.remove(scratch, { recursive: true }).catch(() => {});
  }
}

if (import.meta.main) {
  Deno.env.set("LOG_LEVEL", Deno.env.get("LOG_LEVEL") ?? "warn");
  const cases = engineFlags(Deno.args).rest.filter((a) => !a.startsWith("--"));
  const done = benchStart("ingestion");
  try {
    await forEachEngine((engine) =>
      benchIngestion(cases, Deno.args.includes("--with-hnsw"), engine)
    );
  } finally {
    done();
  }
}
