/**
 * `deno task eval`: retrieval quality on the eval set (tests/fixtures/eval/corpus.ts), run by
 * bench/retrieval_eval.ts: a BM25 baseline (TypeScript, over the same chunks and tokens) and the
 * product's vector, full-text and hybrid rankings, in one run over one indexed workbench. Prints
 * hit@1, hit@5 and MRR (over the top 5) for each, table questions (an entity's value in a period)
 * separately, hybrid by kind, and the questions hybrid does not answer first.
 *
 * `--variants`: also other settings (text and vector weights, RRF k, candidates). `--dump`: the
 * chunks. The embedder is the one the functions would use (`embedderFromEnv`): the local hashed
 * bag-of-words without HF_TOKEN, Hugging Face with it (`HF_TOKEN`, `EMBEDDING_MODEL`).
 */
import { embedderFromEnv } from "../shared/embeddings.ts";
import { DEFAULT_RETRIEVAL_SETTINGS, type RetrievalSettings } from "../shared/retrieval/mod.ts";
import { startMigratedDb } from "../tests/helpers/retrieval_db.ts";
import { evalQuestions } from "../tests/fixtures/eval/corpus.ts";
import { indexEvalCorpus, runEval, type Score } from "./retrieval_eval.ts";

Deno.env.set("LOG_LEVEL", Deno.env.get("LOG_LEVEL") ?? "warn");

const VARIANTS: { name: string; settings: Partial<RetrievalSettings> }[] = [
  { name: "hybrid, text weight 1.5", settings: { textWeight: 1.5 } },
  { name: "hybrid, text weight 2", settings: { textWeight: 2 } },
  { name: "hybrid, vector weight 2", settings: { vectorWeight: 2 } },
  { name: "hybrid, rrf k 10", settings: { rrfK: 10 } },
  { name: "hybrid, 40 candidates", settings: { candidates: 40 } },
];

const fmt = (s: Score) =>
  `${s.hit1.toFixed(2).padStart(6)} ${s.hit5.toFixed(2).padStart(6)} ${
    s.mrr.toFixed(3).padStart(6)
  }`;

const embedder = embedderFromEnv(Deno.env.toObject());
const db = await startMigratedDb();
try {
  const { sql } = db;
  const wb = await indexEvalCorpus(sql, embedder);
  console.log(`embedder: ${embedder.model}`);
  console.log(
    `indexed: ${wb.files.map((f) => `${f.file_name} (${f.chunks_done} chunks)`).join(", ")}`,
  );
  if (Deno.args.includes("--dump")) {
    const chunks = await sql<{ file_name: string; chunk_index: number; content: string }[]>`
      select f.file_name, c.chunk_index, c.content from public.workbench_chunks c
        join public.workbench_files f on f.id = c.file_id order by 1, 2`;
    for (const c of chunks) console.log(`--- ${c.file_name} #${c.chunk_index}\n${c.content}`);
  }
  const questions = evalQuestions();
  const tables = questions.filter((q) => q.kind === "table").length;
  console.log(`questions: ${questions.length} (${tables} table questions)\n`);
  const results = await runEval(sql, embedder, wb, {
    variants: Deno.args.includes("--variants") ? VARIANTS : [],
  });
  console.log(
    `${"ranking".padEnd(26)} ${"hit@1".padStart(6)} ${"hit@5".padStart(6)} ${
      "MRR".padStart(6)
    }   table: ${"hit@1".padStart(6)} ${"hit@5".padStart(6)} ${"MRR".padStart(6)}`,
  );
  for (const r of results) {
    console.log(`${r.name.padEnd(26)} ${fmt(r.all)}          ${fmt(r.table)}`);
  }
  for (const r of results) {
    if (r.name === "vector only" || r.name.startsWith("hybrid,")) continue;
    console.log(`\n${r.name} by kind:`);
    for (const [kind, s] of r.byKind) console.log(`  ${kind.padEnd(24)} ${fmt(s)}  (${s.n})`);
    if (r.misses.length) console.log(`${r.name} not at rank 1:\n  ${r.misses.join("\n  ")}`);
  }
  console.log(`\ndefaults: ${JSON.stringify(DEFAULT_RETRIEVAL_SETTINGS)}`);
} finally {
  await db.stop();
}
