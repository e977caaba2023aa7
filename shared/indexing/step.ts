/**
 * One bounded step of indexing a file, as the index-worker runs it (DESIGN section 9: an Edge
 * Function gets ~2 s of CPU and 256 MB per request, so big files complete over several steps).
 *
 * A step reads the next part of the file with its streaming reader (shared/parsers/read.ts), from
 * the cursor saved in `workbench_files.progress`, chunks it (shared/chunking.ts, whose state is in
 * the cursor too) and embeds the chunks, with no transaction open (a remote embedder is an HTTP
 * round trip per batch); then ONE transaction advances the cursor and inserts the chunks WITH
 * their embeddings. It stops at the first of: `extractChunksPerStep` chunks, `stepWorkMs`
 * of its own work (reading, chunking, embedding; not waiting for the database or the embedding
 * service), `pdfPagesPerStep` pages, or the end of the file (then the file is `indexed`).
 *
 * The built-in embedder (Supabase.ai gte-small, used without HF_TOKEN) runs in the request: its
 * time is the request's CPU on the Edge Runtime (about 2 s), not waiting. So with it the step
 * counts the model's time as CPU, on a budget of its own (`builtinEmbedMsPerStep`), and stops
 * before the chunks it has taken would overrun it: their cost is predicted from
 * `builtinEmbedMsPerChunk` (or the cost measured so far in the step, if higher). It also takes at
 * most `builtinEmbedMsPerStep / builtinEmbedMsPerChunk` chunks, embeds `builtinEmbedBatchSize` at
 * a time, and chunks no larger than the model reads (512 tokens): `stepPlan()`.
 *
 * Chunk indexes continue from the cursor's `next_chunk` and the chunks only depend on the cursor,
 * never on where a step stopped, so a step redone after a crash (its transaction rolled back)
 * writes exactly what it would have. Every write to the file row is guarded by the state the step
 * started from, so a step that outlived its message's visibility timeout (while another worker went
 * on) changes nothing: it fails with StaleStepError instead.
 *
 * Files left in the previous format (phase `embed`: chunks written without embeddings) finish with
 * the embed step below; a previous-format `extract` cursor starts the file over.
 */
import { z } from "zod";
import { CHARS_PER_TOKEN, type Chunk, Chunker, ChunkerState } from "../chunking.ts";
import type { Sql } from "../db.ts";
import { type Embedder, EmbeddingError, toVectorLiteral } from "../embeddings.ts";
import {
  type FileType,
  ParseError,
  type ReadBudget,
  ReaderCursor,
  readFile,
} from "../parsers/mod.ts";
import { type ObjectStore, WORKBENCH_BUCKET } from "../storage.ts";
import { typedRowsOfChunk } from "../kpi/mod.ts";

export interface StepConfig {
  /** PDF pages read per step (at most). */
  pdfPagesPerStep: number;
  /** Chunks a step writes, each with its embedding (at most). */
  extractChunksPerStep: number;
  /** Milliseconds of its own work after which a step stops at the next resumable point. */
  stepWorkMs: number;
  /** Chunks per step of the previous format's `embed` phase. */
  embedChunksPerStep: number;
  /** Chunks per embedding request, and per insert. */
  embedBatchSize: number;
  chunkTokens: number;
  overlapTokens: number;
  /** PDFs with more pages end in `error` (uploads check this too, when the count is cheap). */
  maxPdfPages: number;
  /** Built-in embedder: CPU milliseconds one chunk is assumed to cost before any is measured. */
  builtinEmbedMsPerChunk: number;
  /** Built-in embedder: CPU milliseconds of the model a step may spend (besides `stepWorkMs`). */
  builtinEmbedMsPerStep: number;
  /** Built-in embedder: chunks per `embed()` call. */
  builtinEmbedBatchSize: number;
}

export const DEFAULT_STEP_CONFIG: StepConfig = {
  pdfPagesPerStep: 25,
  extractChunksPerStep: 512,
  stepWorkMs: 300,
  embedChunksPerStep: 128,
  embedBatchSize: 32,
  chunkTokens: 800,
  overlapTokens: 200,
  maxPdfPages: 200,
  // Assumed, not measured here: a full chunk (~380 tokens) through gte-small's 12 layers is
  // ~16 GFLOP, 100-300 ms on one core. 300 ms of reading + 1000 ms of model stays under 2 s.
  builtinEmbedMsPerChunk: 150,
  builtinEmbedMsPerStep: 1000,
  builtinEmbedBatchSize: 2,
};

/** The step config from INDEX_* environment variables, defaults for the rest. */
export function stepConfigFromEnv(env: Record<string, string | undefined>): StepConfig {
  const number = (name: string, fallback: number) => {
    const value = Number(env[name] ?? fallback);
    return Number.isFinite(value) && value > 0 ? value : fallback;
  };
  const d = DEFAULT_STEP_CONFIG;
  return {
    ...d,
    pdfPagesPerStep: number("INDEX_PDF_PAGES_PER_STEP", d.pdfPagesPerStep),
    extractChunksPerStep: number("INDEX_EXTRACT_CHUNKS_PER_STEP", d.extractChunksPerStep),
    stepWorkMs: number("INDEX_STEP_WORK_MS", d.stepWorkMs),
    embedChunksPerStep: number("INDEX_EMBED_CHUNKS_PER_STEP", d.embedChunksPerStep),
    embedBatchSize: number("INDEX_EMBED_BATCH_SIZE", d.embedBatchSize),
    maxPdfPages: number("INDEX_MAX_PDF_PAGES", d.maxPdfPages),
    builtinEmbedMsPerChunk: number("INDEX_BUILTIN_EMBED_MS_PER_CHUNK", d.builtinEmbedMsPerChunk),
    builtinEmbedMsPerStep: number("INDEX_BUILTIN_EMBED_MS_PER_STEP", d.builtinEmbedMsPerStep),
    builtinEmbedBatchSize: number("INDEX_BUILTIN_EMBED_BATCH_SIZE", d.builtinEmbedBatchSize),
  };
}

/** How a step reads, chunks and embeds with a given embedder. */
export interface StepPlan {
  /** Chunks per `embed()` call (and per pump). */
  batchSize: number;
  /** Chunks a step takes at most. */
  chunksPerStep: number;
  /** Milliseconds of CPU after which the step stops (the model's included when it is in-process). */
  cpuBudgetMs: number;
  /** Predicted CPU of a chunk not embedded yet (0: embedding is waiting, not CPU). */
  msPerChunk: number;
  chunkTokens: number;
  overlapTokens: number;
  /**
   * Bytes a CSV or text reader parses between two budget checks (undefined: the reader's 256 KB).
   * For an in-process model one chunk's worth, so a step stops within about a chunk of its budget.
   */
  sliceBytes?: number;
}

/** The step's plan for `embedder`: the config as is, or sized for an in-process model. */
export function stepPlan(
  config: StepConfig,
  embedder: Pick<Embedder, "inProcess" | "maxInputChars">,
): StepPlan {
  // Chunks the model reads whole (the chunker counts CHARS_PER_TOKEN characters per token).
  const chunkTokens = embedder.maxInputChars
    ? Math.max(
      1,
      Math.min(config.chunkTokens, Math.floor(embedder.maxInputChars / CHARS_PER_TOKEN)),
    )
    : config.chunkTokens;
  const overlapTokens = Math.min(
    config.overlapTokens,
    Math.floor(chunkTokens * config.overlapTokens / config.chunkTokens),
  );
  if (!embedder.inProcess) {
    return {
      batchSize: config.embedBatchSize,
      chunksPerStep: config.extractChunksPerStep,
      cpuBudgetMs: config.stepWorkMs,
      msPerChunk: 0,
      chunkTokens,
      overlapTokens,
    };
  }
  const modelChunks = Math.floor(config.builtinEmbedMsPerStep / config.builtinEmbedMsPerChunk);
  const chunksPerStep = Math.max(1, Math.min(config.extractChunksPerStep, modelChunks));
  const batchSize = Math.max(1, Math.min(config.embedBatchSize, config.builtinEmbedBatchSize));
  return {
    batchSize,
    chunksPerStep,
    cpuBudgetMs: config.stepWorkMs + config.builtinEmbedMsPerStep,
    msPerChunk: config.builtinEmbedMsPerChunk,
    chunkTokens,
    overlapTokens,
    sliceBytes: chunkTokens * CHARS_PER_TOKEN,
  };
}

export interface FileRow {
  id: string;
  workbench_id: string;
  file_type: FileType;
  storage_path: string;
  status: string;
  attempts: number;
  page_count: number | null;
  progress: Record<string, unknown> & { phase?: string; next_chunk?: number };
}

export interface StepDeps {
  sql: Sql;
  store: ObjectStore;
  embedder: Embedder;
  config: StepConfig;
  /** Milliseconds, monotonic: times each `embed()` call (tests pass a fake clock). */
  now?: () => number;
}

/** The file moved on (another worker, a delete) while this step ran; nothing was written. */
export class StaleStepError extends Error {
  override name = "StaleStepError";
}

export type StepOutcome =
  | { done: false; phase: "extract" | "embed"; chunks_total?: number; chunks_done?: number }
  | { done: true; chunks_total: number };

/** The cursor of a file being read (`workbench_files.progress`). */
export const ExtractProgress = z.object({
  phase: z.literal("extract"),
  v: z.literal(2),
  /** Index of the next chunk (= chunks written so far). */
  next_chunk: z.number().int().nonnegative(),
  /** PDFs: the next page (also read by the file list's progress). */
  next_page: z.number().int().positive().optional(),
  reader: ReaderCursor.optional(),
  chunker: ChunkerState.optional(),
  /** How much of the file has been read, 0–1. */
  fraction: z.number().min(0).max(1).optional(),
});
export type ExtractProgress = z.infer<typeof ExtractProgress>;

/** A chunk ready to insert: its index in the file and its embedding. */
interface ChunkRow {
  workbench_id: string;
  file_id: string;
  chunk_index: number;
  content: string;
  metadata: Chunk["metadata"];
  token_count: number;
  embedding: string;
  embedding_model: string;
}

/** The columns an indexing step writes for each chunk. */
export const CHUNK_COLUMNS = [
  "workbench_id",
  "file_id",
  "chunk_index",
  "content",
  "metadata",
  "token_count",
  "embedding",
  "embedding_model",
] as const satisfies readonly (keyof ChunkRow)[];

/** The row of a chunk of `file`, at `chunkIndex` in it, with its embedding (a vector literal). */
export function chunkRow(
  file: Pick<FileRow, "workbench_id" | "id">,
  chunkIndex: number,
  chunk: Chunk,
  embedding: string,
  model: string,
): ChunkRow {
  return {
    workbench_id: file.workbench_id,
    file_id: file.id,
    chunk_index: chunkIndex,
    content: chunk.content,
    metadata: chunk.metadata,
    token_count: chunk.tokenCount,
    embedding,
    embedding_model: model,
  };
}

/** The columns of a typed table row (`public.workbench_table_rows`). */
const TABLE_ROW_COLUMNS = [
  "workbench_id",
  "file_id",
  "sheet",
  "row_number",
  "header",
  "cells",
] as const;

/** Rows per insert statement (a step writes at most `extractChunksPerStep`, 512 by default). */
const INSERT_ROWS = 256;

/**
 * Embeds chunks in batches as they come, OUTSIDE any transaction (a remote embedder is an HTTP
 * round trip per batch; a transaction held across them would hold a database connection, and on
 * the local platform its only session, for as long), and keeps the rows for the step's insert.
 */
class ChunkEmbedder {
  private pending: Chunk[] = [];
  private error: unknown;
  private readonly rows: ChunkRow[] = [];
  /** Chunks handed over so far (embedded or waiting). */
  count = 0;
  /** Time spent waiting on the embedding service (not the step's own work). */
  waitedMs = 0;
  /** Time an in-process model ran (CPU on the Edge Runtime), and the chunks it embedded. */
  modelMs = 0;
  private modelChunks = 0;
  private readonly now: () => number;

  constructor(
    private readonly deps: StepDeps,
    private readonly file: FileRow,
    private nextIndex: number,
    private readonly plan: StepPlan,
  ) {
    this.now = deps.now ?? (() => performance.now());
  }

  /**
   * CPU milliseconds of the in-process model if the step reads on: spent so far, plus predicted
   * for the chunks taken and not embedded yet and for two more (what the next read, one chunk's
   * worth of bytes, may complete besides the chunk it was filling),
   * at the assumed cost per chunk or the cost measured in this step if higher. 0 for a remote or
   * local embedder, and before the step has taken a chunk (so every step makes progress).
   */
  modelCpuMs(): number {
    if (!this.deps.embedder.inProcess || this.count === 0) return 0;
    const measured = this.modelChunks > 0 ? this.modelMs / this.modelChunks : 0;
    return this.modelMs + (this.pending.length + 2) * Math.max(this.plan.msPerChunk, measured);
  }

  get failed(): boolean {
    return this.error !== undefined;
  }

  add(chunk: Chunk): void {
    this.pending.push(chunk);
    this.count++;
  }

  /** Embeds every full batch; never throws (a failure is reported by `finish`). */
  async pump(): Promise<void> {
    while (!this.failed && this.pending.length >= this.plan.batchSize) {
      await this.embed(this.pending.splice(0, this.plan.batchSize));
    }
  }

  private async embed(batch: Chunk[]): Promise<void> {
    const first = this.nextIndex;
    this.nextIndex += batch.length;
    let vectors: number[][];
    try {
      const t0 = this.now();
      const embedding = this.deps.embedder.embed(batch.map((c) => c.content));
      const t1 = this.now();
      vectors = await embedding;
      const t2 = this.now();
      if (this.deps.embedder.inProcess) {
        // The model's time, call included, is CPU: counted by modelCpuMs(), so kept out of the
        // wall-clock stand-in below (where /proc's thread clock is read instead, it may count
        // twice: on the safe side).
        this.modelMs += t2 - t0;
        this.modelChunks += batch.length;
        this.waitedMs += t2 - t0;
      } else {
        this.waitedMs += t2 - t1; // a remote embedder's latency; ~0 for a local one
      }
      if (vectors.length !== batch.length) {
        throw new EmbeddingError(
          `the embedding service returned ${vectors.length} vectors for ${batch.length} texts`,
        );
      }
    } catch (err) {
      this.error ??= err;
      return;
    }
    const model = this.deps.embedder.model;
    batch.forEach((c, i) =>
      this.rows.push(chunkRow(this.file, first + i, c, toVectorLiteral(vectors[i]!), model))
    );
  }

  /** Embeds what is left; throws the first failure. */
  async finish(): Promise<ChunkRow[]> {
    if (!this.failed && this.pending.length > 0) await this.embed(this.pending.splice(0));
    if (this.error !== undefined) throw this.error;
    return this.rows;
  }
}

/**
 * Milliseconds of the step's own work since the clock was made: the CPU time of this thread where
 * the system tells it (Linux /proc, when readable), else wall time minus `waited()` (time spent
 * waiting for the embedding service). CPU time is what the Edge limit meters; wall time is a
 * stand-in that over-counts on a busy machine. Read at most every 5 ms.
 */
export function workClock(waited: () => number = () => 0): () => number {
  const wallStart = performance.now();
  let threadStart: number | undefined;
  const thread = () =>
    Number(Deno.readTextFileSync("/proc/thread-self/schedstat").split(" ")[0]) / 1e6;
  try {
    threadStart = thread();
  } catch {
    threadStart = undefined;
  }
  let checkedAt = -Infinity;
  let value = 0;
  return () => {
    const now = performance.now();
    if (now - checkedAt < 5) return value;
    checkedAt = now;
    value = threadStart === undefined ? now - wallStart - waited() : thread() - threadStart;
    return value;
  };
}

function readProgress(file: FileRow): { progress: ExtractProgress; restart: boolean } {
  const fresh: ExtractProgress = { phase: "extract", v: 2, next_chunk: 0 };
  if (file.progress.v === undefined) {
    // Nothing yet, or a cursor of the previous format: start over (its chunks are deleted).
    return { progress: fresh, restart: (file.progress.next_chunk ?? 0) > 0 };
  }
  const parsed = ExtractProgress.safeParse(file.progress);
  if (!parsed.success) throw new Error(`unreadable cursor: ${parsed.error.message}`);
  return { progress: parsed.data, restart: false };
}

async function extractStep(deps: StepDeps, file: FileRow): Promise<StepOutcome> {
  const { progress, restart } = readProgress(file);
  const bytes = await deps.store.download(WORKBENCH_BUCKET, file.storage_path);
  const config = deps.config;
  const plan = stepPlan(config, deps.embedder);
  // Read, chunk and embed first, with no transaction open; then write it all in one.
  const chunks = new ChunkEmbedder(deps, file, progress.next_chunk, plan);
  const chunker = new Chunker(
    { maxTokens: plan.chunkTokens, overlapTokens: plan.overlapTokens },
    progress.chunker,
  );
  chunker.onChunk = (chunk) => chunks.add(chunk);
  const work = workClock(() => chunks.waitedMs);
  const budget: ReadBudget = {
    exhausted: () =>
      chunks.failed || chunks.count >= plan.chunksPerStep ||
      work() + chunks.modelCpuMs() >= plan.cpuBudgetMs,
    pause: () => chunks.pump(),
  };
  const read = await readFile(file.file_type, bytes, progress.reader, chunker, budget, {
    pdfPages: config.pdfPagesPerStep,
    sliceBytes: plan.sliceBytes,
  });
  if (read.pageCount !== undefined && read.pageCount > config.maxPdfPages) {
    throw new ParseError(
      `the PDF has ${read.pageCount} pages; the limit is ${config.maxPdfPages}`,
    );
  }
  if (read.done) chunker.end();
  const rows = await chunks.finish();
  const total = progress.next_chunk + chunks.count;
  if (read.done && total === 0) {
    throw new ParseError("no text could be extracted from the file");
  }
  const next: ExtractProgress = {
    phase: "extract",
    v: 2,
    next_chunk: total,
    reader: read.cursor,
    chunker: chunker.state(),
    fraction: Math.round(read.fraction * 1000) / 1000,
  };
  if (read.cursor.type === "pdf") next.next_page = read.cursor.at.next_page;
  const pageCount = read.pageCount ?? file.page_count;
  return await deps.sql.begin(async (tx) => {
    // The cursor first: a step that outlived its message fails here, before writing any chunk.
    const updated = await tx`
      update public.workbench_files
         set status = case when ${read.done} then 'indexed' else 'processing' end,
             page_count = ${pageCount ?? null},
             chunks_done = ${total},
             chunks_total = ${read.done ? total : null},
             progress = ${tx.json(read.done ? { phase: "done", next_chunk: total } : next)},
             attempts = 0,
             indexed_at = case when ${read.done} then now() else indexed_at end,
             error_message = case when ${read.done} then null else error_message end
       where id = ${file.id} and status in ('pending', 'processing')
         and progress = ${tx.json(file.progress as Record<string, never>)}::jsonb
      returning 1`;
    if (updated.length === 0) throw new StaleStepError("the file changed while this step ran");
    if (restart) {
      await tx`delete from public.workbench_chunks where file_id = ${file.id}`;
      await tx`delete from public.workbench_table_rows where file_id = ${file.id}`;
    }
    for (let i = 0; i < rows.length; i += INSERT_ROWS) {
      await tx`insert into public.workbench_chunks ${
        tx(rows.slice(i, i + INSERT_ROWS), ...CHUNK_COLUMNS)
      } on conflict (file_id, chunk_index) do nothing`;
    }
    // The typed rows of the table chunks (shared/kpi rows.ts), for the cell lookup.
    const typed = rows.flatMap((r) =>
      typedRowsOfChunk(r.content, r.metadata).map((t) => ({
        workbench_id: file.workbench_id,
        file_id: file.id,
        sheet: t.sheet,
        row_number: t.row_number,
        header: tx.json(t.header),
        cells: tx.json(t.cells as never),
      }))
    );
    for (let i = 0; i < typed.length; i += INSERT_ROWS) {
      await tx`insert into public.workbench_table_rows ${
        tx(typed.slice(i, i + INSERT_ROWS), ...TABLE_ROW_COLUMNS)
      } on conflict (file_id, sheet, row_number) do nothing`;
    }
    return read.done
      ? { done: true, chunks_total: total }
      : { done: false, phase: "extract", chunks_done: total };
  });
}

async function embedStep(deps: StepDeps, file: FileRow): Promise<StepOutcome> {
  // With the built-in model, no more than its CPU budget's worth of chunks (stepPlan()).
  const plan = stepPlan(deps.config, deps.embedder);
  const limit = Math.min(deps.config.embedChunksPerStep, plan.chunksPerStep);
  const pending = await deps.sql<{ id: string; content: string }[]>`
    select id, content from public.workbench_chunks
     where file_id = ${file.id} and embedding is null
     order by chunk_index limit ${limit}`;
  for (let i = 0; i < pending.length; i += plan.batchSize) {
    const batch = pending.slice(i, i + plan.batchSize);
    const vectors = await deps.embedder.embed(batch.map((c) => c.content));
    const ids = batch.map((c) => c.id);
    const literals = vectors.map(toVectorLiteral);
    await deps.sql`
      update public.workbench_chunks c
         set embedding = v.embedding::extensions.vector, embedding_model = ${deps.embedder.model}
        from unnest(${ids}::uuid[], ${literals}::text[]) as v(id, embedding)
       where c.id = v.id`;
  }
  const [counts] = await deps.sql<{ done: number; total: number }[]>`
    select count(*) filter (where embedding is not null)::int as done, count(*)::int as total
      from public.workbench_chunks where file_id = ${file.id}`;
  const done = counts.total > 0 && counts.done >= counts.total;
  const updated = await deps.sql`
    update public.workbench_files
       set chunks_done = ${counts.done}, attempts = 0,
           status = case when ${done} then 'indexed' else 'processing' end,
           indexed_at = case when ${done} then now() else indexed_at end,
           error_message = case when ${done} then null else error_message end
     where id = ${file.id} and status in ('pending', 'processing')
       and progress ->> 'phase' = 'embed'
    returning 1`;
  if (updated.length === 0) throw new StaleStepError("the file changed while this step ran");
  return done
    ? { done: true, chunks_total: counts.total }
    : { done: false, phase: "embed", chunks_done: counts.done, chunks_total: counts.total };
}

export function runStep(deps: StepDeps, file: FileRow): Promise<StepOutcome> {
  return file.progress.phase === "embed" ? embedStep(deps, file) : extractStep(deps, file);
}
