/**
 * Supabase Storage access with the service role: where workbench files live and how to move their
 * bytes. Paths are `<workbench_id>/<file_id>/<safe name>` in the private `workbench` bucket.
 *
 * Uses `@supabase/storage-js` alone (the Storage part of supabase-js, same version), so functions
 * do not bundle the Auth, PostgREST and Realtime clients they never use.
 */
import { StorageClient } from "@supabase/storage-js";

export const WORKBENCH_BUCKET = "workbench";
/** Generated report PDFs (private; read through signed URLs). */
export const REPORTS_BUCKET = "reports";

/** A storage-safe version of a user's file name (the original is kept in the database). */
export function safeObjectName(fileName: string): string {
  const base = fileName.split(/[\\/]/).pop() ?? "file";
  const cleaned = base.normalize("NFKD").replace(/[^\w.\-]+/g, "_").replace(/^[._]+/, "");
  return (cleaned || "file").slice(-120);
}

export function workbenchObjectPath(workbenchId: string, fileId: string, fileName: string): string {
  return `${workbenchId}/${fileId}/${safeObjectName(fileName)}`;
}

/** What an upload sends: bytes in memory, or a stream sent as it is read (never held whole). */
export type ObjectBody = Uint8Array | ReadableStream<Uint8Array>;

export interface ObjectStore {
  /**
   * Stores an object (replacing one at the same path). A stream body is sent as it is read; if
   * the stream errors, the upload is aborted and the promise rejects.
   */
  upload(bucket: string, path: string, body: ObjectBody, contentType: string): Promise<void>;
  download(bucket: string, path: string): Promise<Uint8Array>;
  remove(bucket: string, paths: string[]): Promise<void>;
  /**
   * A URL that reads the object without a key until it expires; with `downloadName`, the answer
   * carries `Content-Disposition: attachment; filename=...` so a browser saves it under that name.
   */
  signedUrl(
    bucket: string,
    path: string,
    expiresInSeconds: number,
    downloadName?: string,
  ): Promise<string>;
}

/** The Storage API of a project, with the headers supabase-js would send for this key. */
export function createStorageClient(supabaseUrl: string, key: string): StorageClient {
  const url = new URL("storage/v1", supabaseUrl.endsWith("/") ? supabaseUrl : `${supabaseUrl}/`);
  return new StorageClient(url.href, { apikey: key, Authorization: `Bearer ${key}` });
}

export function createObjectStore(supabaseUrl: string, serviceRoleKey: string): ObjectStore {
  const storage = createStorageClient(supabaseUrl, serviceRoleKey);
  return {
    async upload(bucket, path, body, contentType) {
      // Bytes go as a multipart form (as before); a stream goes as the raw request body, which
      // Storage reads as it arrives (no Content-Length needed). storage-js ignores `contentType`
      // for a Blob and Storage keeps the form part's type, so the Blob itself carries the type
      // (an untyped one is stored as application/octet-stream, locally and on Supabase).
      const payload = body instanceof Uint8Array
        ? new Blob([body as BlobPart], { type: contentType })
        : body;
      const { error } = await storage.from(bucket).upload(path, payload, {
        contentType,
        upsert: true,
        ...(payload instanceof ReadableStream ? { duplex: "half" } : {}),
      });
      if (error) throw new Error(`storage upload of ${path} failed: ${error.message}`);
    },
    async download(bucket, path) {
      const { data, error } = await storage.from(bucket).download(path);
      if (error || !data) throw new Error(`storage download of ${path} failed: ${error?.message}`);
      return new Uint8Array(await data.arrayBuffer());
    },
    async remove(bucket, paths) {
      if (paths.length === 0) return;
      const { error } = await storage.from(bucket).remove(paths);
      if (error) throw new Error(`storage remove failed: ${error.message}`);
    },
    async signedUrl(bucket, path, expiresInSeconds, downloadName) {
      const { data, error } = await storage.from(bucket).createSignedUrl(
        path,
        expiresInSeconds,
        downloadName ? { download: downloadName } : undefined,
      );
      if (error || !data) throw new Error(`signing ${path} failed: ${error?.message}`);
      return data.signedUrl;
    },
  };
}
