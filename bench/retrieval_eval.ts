/**
 * The retrieval eval itself, shared by `task eval` (bench/eval.ts, which prints it) and
 * tests/retrieval/retrieval_eval_test.ts (which fails when it drops): the corpus
 * (tests/fixtures/eval/corpus.ts) is indexed by the real index worker (`processNextFile`, the
 * same steps as in production) into a migrated database, then every question is ranked
 *
 * - by a **BM25 baseline** computed here in TypeScript (Okapi BM25, k1 1.2, b 0.75), over the same
 *   chunks and the same tokens the product indexes: each chunk's stored `fts` tsvector (lexemes
 *   with their positions: term frequency = positions, length = all positions), the query's
 *   lexemes from `to_tsvector('english', query)`, document frequencies and the average length over
 *   the workbench's indexed chunks;
 * - by the product, `retrieve()` as the workbench's owner (RLS on): vector only, full text only,
 *   and hybrid with the default settings (and any other settings asked for).
 *
 * A question is answered at rank r when the r-th passage is from the expected file and contains
 * the expected text (the fact, or the table row that holds the number). Scores over the top 5:
 * hit@1, hit@5 and MRR, overall and for kind `table` (an entity's value in a period) alone.
 */
import { asUser, type Sql } from "../shared/db.ts";
import type { Embedder } from "../shared/embeddings.ts";
import {
  DEFAULT_WORKER_CONFIG,
  processNextFile,
  stepConfigFromEnv,
} from "../shared/indexing/mod.ts";
import type { ObjectStore } from "../shared/storage.ts";
import { formSearchQuery, type RetrievalSettings, retrieve } from "../shared/retrieval/mod.ts";
import { createUser, createWorkbench } from "../tests/helpers/retrieval_db.ts";
import { evalDocuments, type EvalQuestion, evalQuestions } from "../tests/fixtures/eval/corpus.ts";

/** Okapi BM25's constants for the baseline. */
export const BM25_K1 = 1.2;
export const BM25_B = 0.75;

/** The rankings every run reports, in order (the baseline first). */
export const RANKINGS = ["BM25 (baseline)", "vector only", "full text only", "hybrid"] as const;

/** The product's settings for the rankings above (the baseline has none). */
const PRODUCT_SETTINGS: Record<string, Partial<RetrievalSettings>> = {
  "vector only": { textWeight: 0 },
  "full text only": { vectorWeight: 0 },
  "hybrid": {},
};

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

export interface EvalWorkbench {
  owner: string;
  workbench: string;
  files: { file_name: string; status: string; chunks_done: number }[];
}

/** A workbench holding the eval corpus, indexed by the index worker; throws if a file failed. */
export async function indexEvalCorpus(sql: Sql, embedder: Embedder): Promise<EvalWorkbench> {
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
    config: stepConfigFromEnv({}),
    worker: DEFAULT_WORKER_CONFIG,
  };
  for (let i = 0; i < 400; i++) {
    const [{ left }] = await sql<{ left: number }[]>`
      select count(*)::int as left from public.workbench_files
       where workbench_id = ${workbench} and status in ('pending', 'processing')`;
    if (left === 0) break;
    await processNextFile(deps);
  }
  const files = await sql<EvalWorkbench["files"]>`
    select file_name, status, chunks_done from public.workbench_files
     where workbench_id = ${workbench} order by file_name`;
  if (files.some((f) => f.status !== "indexed")) {
    throw new Error(`a file was not indexed: ${JSON.stringify(files)}`);
  }
  return { owner, workbench, files };
}

/** What a ranking returns per question: enough to tell whether it answers. */
export interface Ranked {
  fileName: string;
  chunkIndex: number;
  content: string;
}

/** 1-based rank of the first passage that answers `q`, or 0. */
export function answerRank(q: EvalQuestion, passages: Ranked[]): number {
  return passages.findIndex((p) => p.fileName === q.file && p.content.includes(q.expect)) + 1;
}

interface BM25Doc extends Ranked {
  tf: Map<string, number>;
  length: number;
}

/** The BM25 index of a workbench: its indexed chunks' stored lexemes and positions. */
export class BM25 {
  private constructor(
    private readonly sql: Sql,
    private readonly docs: BM25Doc[],
    private readonly df: Map<string, number>,
    private readonly avgLength: number,
  ) {}

  static async load(sql: Sql, workbench: string): Promise<BM25> {
    const rows = await sql<
      { file_name: string; chunk_index: number; content: string; terms: [string, number][] }[]
    >`
      select f.file_name, c.chunk_index, c.content,
             coalesce((select json_agg(json_build_array(u.lexeme,
                                                        coalesce(cardinality(u.positions), 1)))
                         from unnest(c.fts) u), '[]'::json) as terms
        from public.workbench_chunks c
        join public.workbench_files f on f.id = c.file_id
       where c.workbench_id = ${workbench} and f.status = 'indexed'
       order by f.file_name, c.chunk_index`;
    const df = new Map<string, number>();
    const docs = rows.map((r) => {
      const tf = new Map(r.terms);
      for (const t of tf.keys()) df.set(t, (df.get(t) ?? 0) + 1);
      const length = [...tf.values()].reduce((a, b) => a + b, 0);
      return { fileName: r.file_name, chunkIndex: r.chunk_index, content: r.content, tf, length };
    });
    const avg = docs.reduce((a, d) => a + d.length, 0) / Math.max(docs.length, 1);
    return new BM25(sql, docs, df, avg);
  }

  /** The query's lexemes, as the product's full text makes them. */
  async terms(query: string): Promise<string[]> {
    const [row] = await this.sql<{ terms: string[] }[]>`
      select tsvector_to_array(to_tsvector('english', ${query})) as terms`;
    return row?.terms ?? [];
  }

  /** The best `k` chunks for `query` (ties in the order chunks are stored: file, then index). */
  async rank(query: string, k = 5): Promise<Ranked[]> {
    const terms = await this.terms(query);
    const n = this.docs.length;
    const idf = new Map(
      terms.map((t) => {
        const df = this.df.get(t) ?? 0;
        return [t, Math.log((n - df + 0.5) / (df + 0.5) + 1)];
      }),
    );
    const scored = this.docs.map((d, i) => {
      let s = 0;
      const norm = BM25_K1 * (1 - BM25_B + BM25_B * d.length / this.avgLength);
      for (const t of terms) {
        const f = d.tf.get(t);
        if (f) s += idf.get(t)! * f * (BM25_K1 + 1) / (f + norm);
      }
      return { d, s, i };
    }).filter((x) => x.s > 0);
    scored.sort((a, b) => b.s - a.s || a.i - b.i);
    return scored.slice(0, k).map((x) => x.d);
  }
}

export interface Score {
  hit1: number;
  hit5: number;
  mrr: number;
  n: number;
}

export function score(ranks: number[]): Score {
  const n = ranks.length;
  return {
    hit1: ranks.filter((r) => r === 1).length / n,
    hit5: ranks.filter((r) => r >= 1 && r <= 5).length / n,
    mrr: ranks.reduce((s, r) => s + (r > 0 ? 1 / r : 0), 0) / n,
    n,
  };
}

export interface RankingResult {
  name: string;
  all: Score;
  /** Kind `table` alone (an entity's value in a period). */
  table: Score;
  byKind: Map<string, Score>;
  /** Questions not answered at rank 1, with the top 5 (file#chunk). */
  misses: string[];
}

export interface EvalOptions {
  /** More product settings to rank with, by name (after the four rankings). */
  variants?: { name: string; settings: Partial<RetrievalSettings> }[];
}

/** Ranks every question of the corpus with the baseline and the product (see the module doc). */
export async function runEval(
  sql: Sql,
  embedder: Embedder,
  wb: EvalWorkbench,
  opts: EvalOptions = {},
): Promise<RankingResult[]> {
  const questions = evalQuestions();
  const bm25 = await BM25.load(sql, wb.workbench);
  const rankers: { name: string; rank: (q: EvalQuestion) => Promise<Ranked[]> }[] = [
    {
      name: RANKINGS[0],
      rank: (q) => bm25.rank(formSearchQuery(q.question, q.previous ?? [])),
    },
  ];
  const product = [
    ...Object.entries(PRODUCT_SETTINGS).map(([name, settings]) => ({ name, settings })),
    ...(opts.variants ?? []),
  ];
  for (const { name, settings } of product) {
    rankers.push({
      name,
      rank: async (q) => {
        const result = await asUser(
          sql,
          { sub: wb.owner, role: "authenticated" },
          (tx) =>
            retrieve(tx, embedder, {
              workbenchId: wb.workbench,
              question: q.question,
              previousUserTurns: q.previous,
              settings: { ...settings, topK: 5, contextTokens: 100_000 },
            }),
        );
        return result.passages;
      },
    });
  }
  const results: RankingResult[] = [];
  for (const ranker of rankers) {
    const ranks: number[] = [];
    const byKind = new Map<string, number[]>();
    const misses: string[] = [];
    for (const q of questions) {
      const top = await ranker.rank(q);
      const r = answerRank(q, top);
      ranks.push(r);
      byKind.set(q.kind, [...(byKind.get(q.kind) ?? []), r]);
      if (r !== 1) {
        const list = top.map((p) => `${p.fileName}#${p.chunkIndex}`).join(" ");
        misses.push(`rank ${r || "-"}: ${q.question} -> ${list}`);
      }
    }
    results.push({
      name: ranker.name,
      all: score(ranks),
      table: score(byKind.get("table") ?? []),
      byKind: new Map([...byKind].map(([k, rs]) => [k, score(rs)])),
      misses,
    });
  }
  return results;
}
