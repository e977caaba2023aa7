/**
 * Indexing a workbench file, step by step: worker.ts takes one queued file and settles its message
 * (retries, readable failures), step.ts reads, chunks and embeds the next part of it; vector_index.ts
 * builds a workbench's own HNSW index without blocking writes. The `index-worker` function and
 * bench/ (ingest, eval, retrieval) run it.
 */
export * from "./step.ts";
export * from "./vector_index.ts";
export * from "./worker.ts";
