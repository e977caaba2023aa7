/**
 * Retrieval for chat and reports: forms the search query from the question and the user's earlier
 * turns, embeds it with the model the workbench's chunks were embedded with, and runs the hybrid
 * search (`public.search_workbench_chunks`: pgvector cosine + full text ranked by BM25, fused by
 * their scores) in the caller's transaction, so row level security applies (run it inside
 * shared/db.ts `asUser`). The passages are trimmed to the context budget in tokens (≈ 4 characters
 * a token, as shared/chunking.ts counts).
 *
 * The vector model: vectors are only compared with vectors of the same model. When the workbench
 * holds chunks of the configured embedder's model, that model is used (chunks of another model
 * still match by text). Otherwise, when its chunks were made by a model that `embedderFor` can
 * provide (the local embedder always can), that one embeds the query; failing both, the search is
 * full text only, and `RetrievalResult.note` says so.
 */
import { createLocalEmbedder, type Embedder, LOCAL_MODEL, toVectorLiteral } from "../embeddings.ts";
import type { Tx } from "../db.ts";
import { formSearchQuery } from "./query.ts";
import { type Passage, passageFromRow, type SearchRow, trimToBudget } from "./passages.ts";
import { DEFAULT_RETRIEVAL_SETTINGS, type RetrievalSettings, withSettings } from "./settings.ts";

export interface SearchOptions {
  workbenchId: string;
  question: string;
  /** The user's earlier turns in the session, oldest first. */
  previousUserTurns?: string[];
  /** Settings (from `retrievalSettingsFromEnv`); overrides are checked. */
  settings?: Partial<RetrievalSettings>;
  /** An embedder for another model id, when the workbench's chunks were made by one. */
  embedderFor?: (model: string) => Embedder | undefined;
}

export type RetrievalMode = "hybrid" | "text";

export interface RetrievalResult {
  passages: Passage[];
  /** The text searched for (the question, or the question completed by earlier turns). */
  query: string;
  mode: RetrievalMode;
  /** The model the query was embedded with, null for a full-text search. */
  model: string | null;
  /** Why the search is not hybrid, or which model stood in. */
  note?: string;
}

/** The local embedder for its own model id; otherwise nothing (an HF model needs its token). */
export function defaultEmbedderFor(model: string): Embedder | undefined {
  return model === LOCAL_MODEL ? createLocalEmbedder() : undefined;
}

interface ModelChoice {
  embedder: Embedder | null;
  note?: string;
}

/** Which embedder may compare vectors in this workbench (see the module comment). */
export async function chooseQueryEmbedder(
  tx: Tx,
  workbenchId: string,
  embedder: Embedder,
  embedderFor: (model: string) => Embedder | undefined = defaultEmbedderFor,
): Promise<ModelChoice> {
  const [same] = await tx<{ found: boolean }[]>`
    select exists (select 1 from public.workbench_chunks c
                    where c.workbench_id = ${workbenchId}
                      and c.embedding_model = ${embedder.model}) as found`;
  if (same?.found) return { embedder };
  const [row] = await tx<{ other: string | null }[]>`
    select (select c.embedding_model from public.workbench_chunks c
             where c.workbench_id = ${workbenchId} and c.embedding_model is not null
             limit 1) as other`;
  if (!row?.other) return { embedder }; // nothing indexed yet: nothing to compare, nothing lost
  const stand = embedderFor(row.other);
  if (stand && stand.model === row.other) {
    return {
      embedder: stand,
      note: `the workbench was indexed with ${row.other}; the query was embedded with it too`,
    };
  }
  return {
    embedder: null,
    note: `the workbench was indexed with ${row.other}, which is not available here ` +
      `(configured: ${embedder.model}); searched by text only`,
  };
}

/** The hybrid search as one statement; `searchParams` gives its parameters, in order. */
export const SEARCH_SQL = `select * from public.search_workbench_chunks(
  $1::uuid, $2::extensions.vector, $3::text, $4::text, $5::integer, $6::integer, $7::integer,
  $8::double precision, $9::double precision, $10::integer, $11::integer)`;

/** The parameters of `SEARCH_SQL`: no vector (and no model) searches by text only. */
export function searchParams(
  workbenchId: string,
  query: string,
  vector: { values: number[]; model: string } | null,
  s: RetrievalSettings,
): (string | number | null)[] {
  return [
    workbenchId,
    vector ? toVectorLiteral(vector.values) : null,
    vector?.model ?? null,
    query,
    s.topK,
    s.candidates,
    s.rrfK,
    s.vectorWeight,
    s.textWeight,
    s.efSearch,
    s.textScanLimit,
  ];
}

/** Runs the hybrid search in `tx` and returns the passages with how they were found. */
export async function retrieve(
  tx: Tx,
  embedder: Embedder,
  opts: SearchOptions,
): Promise<RetrievalResult> {
  const s = withSettings(opts.settings, DEFAULT_RETRIEVAL_SETTINGS);
  const query = formSearchQuery(opts.question, opts.previousUserTurns ?? []);
  const run = async (e: Embedder | null): Promise<{ rows: SearchRow[]; model: string | null }> => {
    const [v] = e ? await e.embed([query]) : [];
    const vector = e && v ? { values: v, model: e.model } : null;
    const rows = await tx.unsafe<SearchRow[]>(
      SEARCH_SQL,
      searchParams(opts.workbenchId, query, vector, s),
    );
    return { rows, model: vector?.model ?? null };
  };
  let note: string | undefined;
  let found: { rows: SearchRow[]; model: string | null };
  if (s.vectorWeight === 0) {
    found = await run(null);
    note = "vector search is disabled (RETRIEVAL_VECTOR_WEIGHT=0)";
  } else {
    // One statement in the usual case; only when no chunk came by vector is the model checked.
    found = await run(embedder);
    if (found.rows.length === 0 || found.rows.every((r) => r.vector_rank === null)) {
      const choice = await chooseQueryEmbedder(tx, opts.workbenchId, embedder, opts.embedderFor);
      note = choice.note;
      if (choice.embedder !== embedder) found = await run(choice.embedder);
    }
  }
  const passages = trimToBudget(found.rows.map(passageFromRow), s.contextTokens);
  const result: RetrievalResult = {
    passages,
    query,
    mode: found.model ? "hybrid" : "text",
    model: found.model,
  };
  if (note) result.note = note;
  return result;
}

/** The passages for a question (see `retrieve` for how the search went). */
export async function searchWorkbench(
  tx: Tx,
  embedder: Embedder,
  opts: SearchOptions,
): Promise<Passage[]> {
  return (await retrieve(tx, embedder, opts)).passages;
}
