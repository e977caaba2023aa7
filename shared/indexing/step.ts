/**
 * One bounded step of indexing a file, as the index-worker runs it (DESIGN section 9: an Edge
 * Function gets ~2 s of CPU per request, so big files complete over several steps).
 *
 * A file goes through two phases recorded in `workbench_files.progress`:
 *   extract: PDFs `pdfPagesPerStep` pages at a time; other types are extracted and chunked whole
 *            (deterministically) and `extractChunksPerStep` chunks are written per step. The
 *            step's chunks and the advanced cursor are written in ONE transaction, with chunk
 *            indexes taken from the cursor, so a step redone after a crash rewrites nothing twice;
 *   embed:   up to `embedChunksPerStep` chunks without an embedding get one, in batches.
 * When nothing is left the file is `indexed`. Every write to the file row is guarded by the state
 * the step started from, so a step that outlived its message's visibility timeout (while another
 * worker went on) changes nothing: it fails with StaleStepError instead.
 */
import type { Sql } from "../db.ts";
import type { Embedder } from "../embeddings.ts";
import { toVectorLiteral } from "../embeddings.ts";
import { chunkBlocks } from "../chunking.ts";
import { extract } from "../parsers/mod.ts";
import { type FileType, ParseError } from "../parsers/types.ts";
import type { ObjectStore } from "../storage.ts";
import { WORKBENCH_BUCKET } from "../storage.ts";

export interface StepConfig {
  pdfPagesPerStep: number;
  extractChunksPerStep: number;
  embedChunksPerStep: number;
  embedBatchSize: number;
  chunkTokens: number;
  overlapTokens: number;
}

export const DEFAULT_STEP_CONFIG: StepConfig = {
  pdfPagesPerStep: 25,
  extractChunksPerStep: 500,
  embedChunksPerStep: 128,
  embedBatchSize: 32,
  chunkTokens: 800,
  overlapTokens: 200,
};

export interface FileRow {
  id: string;
  workbench_id: string;
  file_type: FileType;
  storage_path: string;
  status: string;
  attempts: number;
  page_count: number | null;
  progress: { phase?: "extract" | "embed"; next_page?: number; next_chunk?: number };
}

export interface StepDeps {
  sql: Sql;
  store: ObjectStore;
  embedder: Embedder;
  config: StepConfig;
}

/** The file moved on (another worker, a delete) while this step ran; nothing was written. */
export class StaleStepError extends Error {
  override name = "StaleStepError";
}

export type StepOutcome =
  | { done: false; phase: "extract" | "embed"; chunks_total?: number; chunks_done?: number }
  | { done: true; chunks_total: number };

async function extractStep(deps: StepDeps, file: FileRow): Promise<StepOutcome> {
  const bytes = await deps.store.download(WORKBENCH_BUCKET, file.storage_path);
  const nextChunk = file.progress.next_chunk ?? 0;
  const chunkOptions = {
    maxTokens: deps.config.chunkTokens,
    overlapTokens: deps.config.overlapTokens,
  };
  let chunks;
  let finished: boolean;
  let pageCount = file.page_count;
  let nextPage: number | undefined;
  if (file.file_type === "pdf") {
    const fromPage = file.progress.next_page ?? 1;
    const toPage = fromPage + deps.config.pdfPagesPerStep - 1;
    const result = await extract("pdf", bytes, { fromPage, toPage });
    pageCount = result.pageCount ?? pageCount;
    chunks = chunkBlocks(result.blocks, chunkOptions);
    finished = toPage >= (pageCount ?? 0);
    nextPage = toPage + 1;
  } else {
    const all = chunkBlocks((await extract(file.file_type, bytes)).blocks, chunkOptions);
    chunks = all.slice(nextChunk, nextChunk + deps.config.extractChunksPerStep);
    finished = nextChunk + chunks.length >= all.length;
  }
  const total = nextChunk + chunks.length;
  if (finished && total === 0) throw new ParseError("no text could be extracted from the file");
  const progress = finished
    ? { phase: "embed", next_chunk: total }
    : nextPage !== undefined
    ? { phase: "extract", next_page: nextPage, next_chunk: total }
    : { phase: "extract", next_chunk: total };

  await deps.sql.begin(async (tx) => {
    if (chunks.length) {
      const rows = chunks.map((c, i) => ({
        workbench_id: file.workbench_id,
        file_id: file.id,
        chunk_index: nextChunk + i,
        content: c.content,
        metadata: c.metadata,
        token_count: c.tokenCount,
      }));
      await tx`insert into public.workbench_chunks
                 ${
        tx(rows, "workbench_id", "file_id", "chunk_index", "content", "metadata", "token_count")
      }
               on conflict (file_id, chunk_index) do nothing`;
    }
    const updated = await tx`
      update public.workbench_files
         set status = 'processing', page_count = ${pageCount ?? null},
             chunks_total = ${finished ? total : null},
             progress = ${tx.json(progress)}, attempts = 0
       where id = ${file.id} and status in ('pending', 'processing')
         and progress = ${tx.json(file.progress)}::jsonb
      returning 1`;
    if (updated.length === 0) throw new StaleStepError("the file changed while this step ran");
  });
  return finished
    ? { done: false, phase: "embed", chunks_total: total }
    : { done: false, phase: "extract" };
}

async function embedStep(deps: StepDeps, file: FileRow): Promise<StepOutcome> {
  const pending = await deps.sql<{ id: string; content: string }[]>`
    select id, content from public.workbench_chunks
     where file_id = ${file.id} and embedding is null
     order by chunk_index limit ${deps.config.embedChunksPerStep}`;
  for (let i = 0; i < pending.length; i += deps.config.embedBatchSize) {
    const batch = pending.slice(i, i + deps.config.embedBatchSize);
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
  return (file.progress.phase ?? "extract") === "extract"
    ? extractStep(deps, file)
    : embedStep(deps, file);
}
