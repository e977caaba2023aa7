/**
 * Supabase Storage access with the service role: where workbench files live and how to move their
 * bytes. Paths are `<workbench_id>/<file_id>/<safe name>` in the private `workbench` bucket.
 */
import { createClient } from "@supabase/supabase-js";

export const WORKBENCH_BUCKET = "workbench";

/** A storage-safe version of a user's file name (the original is kept in the database). */
export function safeObjectName(fileName: string): string {
  const base = fileName.split(/[\\/]/).pop() ?? "file";
  const cleaned = base.normalize("NFKD").replace(/[^\w.\-]+/g, "_").replace(/^[._]+/, "");
  return (cleaned || "file").slice(-120);
}

export function workbenchObjectPath(workbenchId: string, fileId: string, fileName: string): string {
  return `${workbenchId}/${fileId}/${safeObjectName(fileName)}`;
}

export interface ObjectStore {
  upload(bucket: string, path: string, bytes: Uint8Array, contentType: string): Promise<void>;
  download(bucket: string, path: string): Promise<Uint8Array>;
  remove(bucket: string, paths: string[]): Promise<void>;
  signedUrl(bucket: string, path: string, expiresInSeconds: number): Promise<string>;
}

export function createObjectStore(supabaseUrl: string, serviceRoleKey: string): ObjectStore {
  const storage = createClient(supabaseUrl, serviceRoleKey, {
    auth: { persistSession: false, autoRefreshToken: false },
  }).storage;
  return {
    async upload(bucket, path, bytes, contentType) {
      const { error } = await storage.from(bucket).upload(path, new Blob([bytes as BlobPart]), {
        contentType,
        upsert: true,
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
    async signedUrl(bucket, path, expiresInSeconds) {
      const { data, error } = await storage.from(bucket).createSignedUrl(path, expiresInSeconds);
      if (error || !data) throw new Error(`signing ${path} failed: ${error?.message}`);
      return data.signedUrl;
    },
  };
}
