/**
 * Writes the rows of received files in one transaction: new content becomes a `pending` row (its
 * insert trigger queues indexing); content the workbench already has returns the existing row
 * (`duplicate: true`), and a failed one is queued again (`requeued: true`).
 */
import type { Sql, Tx } from "../../shared/db.ts";
import { HttpError } from "../../shared/http.ts";
import { FILE_COLUMNS, fileJson, type FileRow } from "./file_rows.ts";
import type { Received } from "./receive_uploads.ts";

export interface UploadedFile extends FileRow {
  size_bytes: number;
  duplicate: boolean;
  requeued?: boolean;
}

export interface Committed {
  files: UploadedFile[];
  /** Stored objects no row refers to (their content was already there): to remove. */
  unused: string[];
}

/** True when the workbench already has a file with this content. */
export async function hasContent(sql: Sql, workbenchId: string, sha256: string) {
  const rows = await sql`select 1 from public.workbench_files
    where workbench_id = ${workbenchId} and content_hash = ${sha256}`;
  return rows.length > 0;
}

export async function commitUploads(
  sql: Sql,
  workbenchId: string,
  userId: string,
  received: Received[],
): Promise<Committed> {
  const unused: string[] = [];
  const files = await sql.begin(async (tx) => {
    const out: UploadedFile[] = [];
    for (const r of received) out.push(await commitOne(tx, workbenchId, userId, r, unused));
    return out;
  });
  return { files, unused };
}

async function byHash(tx: Tx, workbenchId: string, sha256: string): Promise<FileRow | undefined> {
  const [row] = await tx<FileRow[]>`select ${tx.unsafe(FILE_COLUMNS)} from public.workbench_files
    where workbench_id = ${workbenchId} and content_hash = ${sha256}`;
  return row;
}

async function commitOne(
  tx: Tx,
  workbenchId: string,
  userId: string,
  { file, fileId, path }: Received,
  unused: string[],
): Promise<UploadedFile> {
  const existing = await byHash(tx, workbenchId, file.sha256);
  if (existing) {
    if (path) unused.push(path);
    if (existing.status !== "error") {
      return { ...fileJson(existing), duplicate: true };
    }
    // Uploading a failed file again retries it (once, however many uploads race).
    const [{ requeued }] = await tx`select private.requeue_file(${existing.id}) as requeued`;
    const [again] = await tx<FileRow[]>`select ${
      tx.unsafe(FILE_COLUMNS)
    } from public.workbench_files
      where id = ${existing.id}`;
    return { ...fileJson(again), duplicate: true, requeued };
  }
  if (!path) {
    // It was there when the upload began and was deleted since.
    throw new HttpError(
      409,
      "upload_conflict",
      `${file.name} was deleted meanwhile; upload it again.`,
    );
  }
  const [row] = await tx<FileRow[]>`
    insert into public.workbench_files (id, workbench_id, uploaded_by, file_name, file_type,
      mime_type, size_bytes, content_hash, storage_path, page_count)
    values (${fileId}, ${workbenchId}, ${userId}, ${file.name}, ${file.type}, ${file.mimeType},
      ${file.size}, ${file.sha256}, ${path}, ${file.pages})
    on conflict (workbench_id, content_hash) do nothing
    returning ${tx.unsafe(FILE_COLUMNS)}`;
  if (row) return { ...fileJson(row), duplicate: false };
  // Someone uploaded the same content concurrently: keep theirs.
  unused.push(path);
  return {
    ...fileJson((await byHash(tx, workbenchId, file.sha256))!),
    duplicate: true,
  };
}
