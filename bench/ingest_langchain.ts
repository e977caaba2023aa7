/**
 * The LangChain.js reference for the ingestion bench (bench/ingest.ts): the same bytes through
 * LangChain's own pieces — `PDFLoader` (pdf-parse) or `CSVLoader` (d3-dsv, one document per row),
 * `RecursiveCharacterTextSplitter`, and `PGVectorStore` (node-postgres) adding the documents with
 * the same embedder as the product, into a table of its own on the same database (pgvector in
 * the `extensions` schema, as the migrations put it). Timed from the bytes to the last insert,
 * as the product's pipeline is (its download aside).
 *
 * These packages are the bench's only: declared in deno.json for `deno check`, imported by no
 * function, so no function's bundle holds them.
 */
import { PDFLoader } from "@langchain/community/document_loaders/fs/pdf";
import { CSVLoader } from "@langchain/community/document_loaders/fs/csv";
import { PGVectorStore } from "@langchain/community/vectorstores/pgvector";
import { RecursiveCharacterTextSplitter } from "@langchain/textsplitters";
import type { EmbeddingsInterface } from "@langchain/core/embeddings";
import type { Embedder } from "../shared/embeddings.ts";

export interface LangchainRun {
  ms: number;
  documents: number;
  chunks: number;
}

/** LangChain's pipeline over `bytes`; `chunkChars`/`overlapChars` as the product's token sizes ×4. */
export async function langchainIngest(opts: {
  bytes: Uint8Array;
  type: "pdf" | "csv";
  url: string;
  embedder: Embedder;
  chunkChars: number;
  overlapChars: number;
  table?: string;
}): Promise<LangchainRun> {
  const embeddings: EmbeddingsInterface = {
    embedDocuments: (texts: string[]) => opts.embedder.embed(texts),
    embedQuery: async (text: string) => (await opts.embedder.embed([text]))[0]!,
  };
  const table = opts.table ?? "langchain_bench_chunks";
  const store = await PGVectorStore.initialize(embeddings, {
    // initialize() keeps one client checked out for the store's life; queries use others.
    postgresConnectionOptions: { connectionString: opts.url, max: 2 },
    tableName: table,
    extensionSchemaName: "extensions",
    columns: {
      idColumnName: "id",
      vectorColumnName: "embedding",
      contentColumnName: "content",
      metadataColumnName: "metadata",
    },
  });
  try {
    await store.pool.query(`truncate ${table}`);
    const t0 = performance.now();
    const blob = new Blob([opts.bytes as BlobPart], {
      type: opts.type === "pdf" ? "application/pdf" : "text/csv",
    });
    const loader = opts.type === "pdf" ? new PDFLoader(blob) : new CSVLoader(blob);
    const documents = await loader.load();
    const splitter = new RecursiveCharacterTextSplitter({
      chunkSize: opts.chunkChars,
      chunkOverlap: opts.overlapChars,
    });
    const chunks = await splitter.splitDocuments(documents);
    await store.addDocuments(chunks);
    return { ms: performance.now() - t0, documents: documents.length, chunks: chunks.length };
  } finally {
    await store.pool.query(`drop table if exists ${table}`).catch(() => {});
    await store.end();
  }
}
