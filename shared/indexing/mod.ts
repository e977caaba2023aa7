/**
 * Indexing a workbench file, step by step: worker.ts takes one queued file and settles its message
 * (retries, readable failures), step.ts reads, chunks and embeds the next part of it. The
 * `index-worker` function and bench/ (ingest, eval) run it.
 */
export * from "./step.ts";
export * from "./worker.ts";
