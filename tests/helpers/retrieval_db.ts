/**
 * A migrated in-memory database (PGlite + pgvector, the platform baseline, every migration; a copy
 * of the migrated template, local/database_template.ts) for
 * retrieval tests, the eval and the bench, with small helpers that write tenants, files and chunks
 * directly (as the service role would) so a test controls exactly what is indexed.
 */
import type { Sql } from "../../shared/db.ts";
import { startMigratedPglite } from "../../local/database_template.ts";
import { type Embedder, toVectorLiteral } from "../../shared/embeddings.ts";

export interface MigratedDb {
  sql: Sql;
  url: string;
  stop(): Promise<void>;
}

export async function startMigratedDb(opts: { pgtap?: boolean } = {}): Promise<MigratedDb> {
  const { db, sql } = await startMigratedPglite({ port: 0, pgtap: opts.pgtap });
  return {
    sql,
    url: db.url,
    async stop() {
      await sql.end({ timeout: 5 });
      await db.stop();
    },
  };
}

export async function createUser(sql: Sql, email = `u-${crypto.randomUUID()}@example.com`) {
  const id = crypto.randomUUID();
  await sql`insert into auth.users (id, email) values (${id}, ${email})`;
  return id;
}

/** A personal workbench owned by `ownerId`. */
export async function createWorkbench(sql: Sql, ownerId: string, name = "Workbench") {
  const [row] = await sql<{ id: string }[]>`
    insert into public.workbench (name, owner_user_id) values (${name}, ${ownerId}) returning id`;
  return row!.id;
}

export type FileStatus = "pending" | "processing" | "indexed" | "error";

export async function createFile(
  sql: Sql,
  workbenchId: string,
  fileName: string,
  status: FileStatus = "indexed",
) {
  const fileType = fileName.split(".").pop() ?? "txt";
  const [row] = await sql<{ id: string }[]>`
    insert into public.workbench_files
      (workbench_id, file_name, file_type, size_bytes, content_hash, status, error_message)
    values (${workbenchId}, ${fileName}, ${fileType}, 1, ${crypto.randomUUID()}, ${status},
            ${status === "error" ? "broken" : null})
    returning id`;
  return row!.id;
}

export interface ChunkInput {
  content: string;
  metadata?: Record<string, string | number>;
  /** Overrides the embedder's vector (e.g. a vector "of another model"). */
  embedding?: number[] | null;
  model?: string | null;
}

/** Inserts chunks of a file, embedded with `embedder` unless a chunk says otherwise. */
export async function insertChunks(
  sql: Sql,
  embedder: Embedder,
  workbenchId: string,
  fileId: string,
  chunks: ChunkInput[],
  firstIndex = 0,
): Promise<string[]> {
  if (chunks.length === 0) return [];
  const vectors = await embedder.embed(chunks.map((c) => c.content));
  const rows = chunks.map((c, i) => {
    const v = c.embedding === undefined ? vectors[i]! : c.embedding;
    return {
      workbench_id: workbenchId,
      file_id: fileId,
      chunk_index: firstIndex + i,
      content: c.content,
      metadata: c.metadata ?? {},
      embedding: v ? toVectorLiteral(v) : null,
      embedding_model: v ? (c.model === undefined ? embedder.model : c.model) : null,
    };
  });
  const out = await sql<{ id: string }[]>`
    insert into public.workbench_chunks ${
    sql(
      rows,
      "workbench_id",
      "file_id",
      "chunk_index",
      "content",
      "metadata",
      "embedding",
      "embedding_model",
    )
  } returning id`;
  return out.map((r) => r.id);
}
