/**
 * `deno task eval`: retrieval quality on a small question set (tests/fixtures/eval/corpus.ts).
 * The documents (Markdown, DOCX, PDF, CSV, XLSX) are indexed by the real index worker
 * (`processNextFile`, the same steps as in production) into a fresh PGlite, then every question
 * is searched with `retrieve()` as the workbench's owner (RLS on) under several settings. Prints
 * hit@1, hit@5 and MRR (over the top 5) per setting, and per kind of question for the defaults.
 * A question is answered at rank r when the r-th passage is from the expected file and contains
 * the expected text (the fact, or the table row that holds the number).
 *
 * The embedder is the one the functions would use (`embedderFromEnv`): the local hashed
 * bag-of-words without HF_TOKEN, Hugging Face with it (`HF_TOKEN`, `EMBEDDING_MODEL`).
 */
import { asUser } from "../shared/db.ts";
import { embedderFromEnv } from "../shared/embeddings.ts";
import {
  DEFAULT_WORKER_CONFIG,
  processNextFile,
  stepConfigFromEnv,
} from "../shared/indexing/mod.ts";
import type { ObjectStore } from "../shared/storage.ts";
import {
  DEFAULT_RETRIEVAL_SETTINGS,
  type Passage,
  type RetrievalSettings,
  retrieve,
} from "../shared/retrieval/mod.ts";
import { createUser, createWorkbench, startMigratedDb } from "../tests/helpers/retrieval_db.ts";
import { evalDocuments, type EvalQuestion, evalQuestions } from "../tests/fixtures/eval/corpus.ts";

Deno.env.set("LOG_LEVEL", Deno.env.get("LOG_LEVEL") ?? "warn");

const VARIANTS: { name: string; settings: Partial<RetrievalSettings> }[] = [
  { name: "vector only", settings: { textWeight: 0 } },
  { name: "full text only", settings: { vectorWeight: 0 } },
  { name: "hybrid (defaults)", settings: {} },
  { name: "hybrid, text weight 1.5", settings: { textWeight: 1.5 } },
  { name: "hybrid, text weight 2", settings: { textWeight: 2 } },
  { name: "hybrid, text weight 3", settings: { textWeight: 3 } },
  { name: "hybrid, vector weight 2", settings: { vectorWeight: 2 } },
  { name: "hybrid, rrf k 10", settings: { rrfK: 10 } },
  { name: "hybrid, 40 candidates", settings: { candidates: 40 } },
];

function memoryStore(): ObjectStore {
  const objects = new Map<string, Uint8Array>();
  return {
    upload(bucket, path, body) {
      if (!(body instanceof Uint8Array)) throw new Error("the eval stores bytes only");
      objects.set(`${bucket}/${path}`, body);
      return Promise.resolve();
    },
    download(bucket, path) {
      const bytes = objects.get(`${bucket}/${path}`);
      return bytes ? Promise.resolve(bytes) : Promise.reject(new Error("no such object"));
    },
    remove(bucket, paths) {
      for (const p of paths) objects.delete(`${bucket}/${p}`);
      return Promise.resolve();
    },
    signedUrl: () => Promise.reject(new Error("not in the eval")),
  };
}

/** 1-based rank of the first passage that answers `q`, or 0. */
export function answerRank(q: EvalQuestion, passages: Passage[]): number {
  const i = passages.findIndex((p) => p.fileName === q.file && p.content.includes(q.expect));
  return i + 1;
}

interface Score {
  hit1: number;
  hit5: number;
  mrr: number;
  n: number;
}

function score(ranks: number[]): Score {
  const n = ranks.length;
  return {
    hit1: ranks.filter((r) => r === 1).length / n,
    hit5: ranks.filter((r) => r >= 1 && r <= 5).length / n,
    mrr: ranks.reduce((s, r) => s + (r > 0 ? 1 / r : 0), 0) / n,
    n,
  };
}

const fmt = (s: Score) =>
  `${s.hit1.toFixed(2).padStart(6)} ${s.hit5.toFixed(2).padStart(6)} ${
    s.mrr.toFixed(3).padStart(6)
  }`;

const embedder = embedderFromEnv(Deno.env.toObject());
const db = await startMigratedDb();
try {
  const { sql } = db;
  const owner = await createUser(sql);
  const workbench = await createWorkbench(sql, owner, "eval");
  const store = memoryStore();
  for (const doc of evalDocuments()) {
    const path = `${workbench}/${crypto.randomUUID()}/${doc.fileName}`;
    await store.upload("workbench", path, doc.bytes, "application/octet-stream");
    await sql`
      insert into public.workbench_files (workbench_id, file_name, file_type, size_bytes,
                                          content_hash, storage_path)
      values (${workbench}, ${doc.fileName}, ${doc.fileType}, ${doc.bytes.length},
              ${crypto.randomUUID()}, ${path})`;
  }
  const deps = {
    sql: () => sql,
    store,
    embedder,
    config: stepConfigFromEnv(Deno.env.toObject()),
    worker: DEFAULT_WORKER_CONFIG,
  };
  for (let i = 0; i < 200; i++) {
    const [{ left }] = await sql<{ left: number }[]>`
      select count(*)::int as left from public.workbench_files
       where workbench_id = ${workbench} and status in ('pending', 'processing')`;
    if (left === 0) break;
    await processNextFile(deps);
  }
  const files = await sql<{ file_name: string; status: string; chunks_done: number }[]>`
    select file_name, status, chunks_done from public.workbench_files
     where workbench_id = ${workbench} order by file_name`;
  console.log(`embedder: ${embedder.model}`);
  console.log(
    `indexed: ${
      files.map((f) => `${f.file_name} (${f.status}, ${f.chunks_done} chunks)`).join(", ")
    }`,
  );
  if (files.some((f) => f.status !== "indexed")) throw new Error("a file was not indexed");

  if (Deno.args.includes("--dump")) {
    const chunks = await sql<{ file_name: string; chunk_index: number; content: string }[]>`
      select f.file_name, c.chunk_index, c.content from public.workbench_chunks c
        join public.workbench_files f on f.id = c.file_id order by 1, 2`;
    for (const c of chunks) console.log(`--- ${c.file_name} #${c.chunk_index}\n${c.content}`);
  }
  const questions = evalQuestions();
  console.log(`questions: ${questions.length}\n`);
  console.log(
    `${"setting".padEnd(26)} ${"hit@1".padStart(6)} ${"hit@5".padStart(6)} ${"MRR".padStart(6)}`,
  );
  const misses: string[] = [];
  for (const variant of VARIANTS) {
    const settings = { ...variant.settings, topK: 5, contextTokens: 100_000 };
    const ranks: number[] = [];
    const byKind = new Map<string, number[]>();
    for (const q of questions) {
      const result = await asUser(
        sql,
        { sub: owner, role: "authenticated" },
        (tx) =>
          retrieve(tx, embedder, {
            workbenchId: workbench,
            question: q.question,
            previousUserTurns: q.previous,
            settings,
          }),
      );
      const r = answerRank(q, result.passages);
      ranks.push(r);
      byKind.set(q.kind, [...(byKind.get(q.kind) ?? []), r]);
      if (variant.name.startsWith("hybrid (defaults)") && r !== 1) {
        const top = result.passages.map((p) =>
          `${p.fileName}#${p.chunkIndex}(v${p.vectorRank ?? "-"},t${p.textRank ?? "-"})`
        );
        misses.push(`  rank ${r || "-"}: ${q.question}  [${result.query}] -> ${top.join(" ")}`);
      }
    }
    console.log(`${variant.name.padEnd(26)} ${fmt(score(ranks))}`);
    if (Deno.args.includes("--by-kind") || variant.name === "hybrid (defaults)") {
      for (const [kind, rs] of byKind) {
        console.log(`  ${kind.padEnd(24)} ${fmt(score(rs))}  (${rs.length})`);
      }
    }
  }
  if (misses.length) console.log(`\nhybrid (defaults) not at rank 1:\n${misses.join("\n")}`);
  console.log(
    `\ndefaults: ${JSON.stringify(DEFAULT_RETRIEVAL_SETTINGS)}`,
  );
} finally {
  await db.stop();
}
