/**
 * Reading and deleting a workbench's files: `GET /workbenches/{id}/files?status=`,
 * `GET /workbenches/{id}/files/{fileId}`, `DELETE /workbenches/{id}/files/{fileId}` and
 * `GET /workbenches/{id}/status`. Uploads are in upload_route.ts.
 */
import { z } from "zod";
import { HttpError, json, readQuery, type Route, validate } from "../../shared/http.ts";
import { log } from "../../shared/log.ts";
import { listBody, paged, PageQuery } from "../../shared/pagination.ts";
import { WORKBENCH_BUCKET } from "../../shared/storage.ts";
import { Id, workbenchAccess } from "./access.ts";
import { FILE_COLUMNS, fileJson } from "./file_rows.ts";
import type { WorkbenchesDeps } from "./deps.ts";
import { listOf } from "../../shared/route_doc.ts";
import { IndexingStatus, WorkbenchFile } from "./schemas.ts";

const FilesQuery = PageQuery.extend({
  status: z.enum(["pending", "processing", "indexed", "error"]).optional(),
});

export function fileRoutes(deps: WorkbenchesDeps): Route[] {
  const { asCaller, access } = workbenchAccess(deps);
  return [
    {
      method: "GET",
      pattern: "/:id/files",
      doc: {
        summary: "The workbench's files with their indexing status (any role)",
        auth: "user",
        query: FilesQuery,
        responses: { 200: { description: "A page of files", schema: listOf(WorkbenchFile) } },
        errors: { 404: ["not_found"] },
      },
      handler: async (req, ctx) => {
        const { user, id } = await access(req, ctx.params.id, "viewer");
        const q = readQuery(ctx.url, FilesQuery);
        const status = q.status ?? null;
        const rows = await asCaller(
          user.claims,
          (tx) =>
            tx`select ${tx.unsafe(FILE_COLUMNS)} from public.workbench_files
              where workbench_id = ${id} and (${status}::text is null or status = ${status})
              order by created_at desc, id
              limit ${q.limit + 1} offset ${q.offset}`,
        );
        const page = paged([...rows], q);
        return json(listBody({ ...page, items: page.items.map(fileJson) }, "files"));
      },
    },
    {
      method: "GET",
      pattern: "/:id/files/:fileId",
      doc: {
        summary: "One file (to poll its status)",
        auth: "user",
        responses: { 200: { description: "The file", schema: WorkbenchFile } },
        errors: { 404: ["not_found"] },
      },
      handler: async (req, ctx) => {
        const { user, id } = await access(req, ctx.params.id);
        const fileId = validate(Id, ctx.params.fileId, "file id");
        const [row] = await asCaller(
          user.claims,
          (tx) =>
            tx`select ${tx.unsafe(FILE_COLUMNS)} from public.workbench_files
              where workbench_id = ${id} and id = ${fileId}`,
        );
        if (!row) throw new HttpError(404, "not_found", "File not found.");
        return json(fileJson(row));
      },
    },
    {
      method: "DELETE",
      pattern: "/:id/files/:fileId",
      doc: {
        summary: "Delete a file, its chunks and its stored object (editor, owner)",
        auth: "user",
        responses: { 204: { description: "Deleted" } },
        errors: { 403: ["forbidden"], 404: ["not_found"] },
      },
      handler: async (req, ctx) => {
        const { user, id } = await access(req, ctx.params.id, "editor");
        const fileId = validate(Id, ctx.params.fileId, "file id");
        // RLS deletes the row (its chunks cascade); then the stored object goes.
        const [row] = await asCaller(
          user.claims,
          (tx) =>
            tx`delete from public.workbench_files where workbench_id = ${id} and id = ${fileId}
             returning storage_path`,
        );
        if (!row) throw new HttpError(404, "not_found", "File not found.");
        // The delete is committed; if Storage fails now, storage_gc (queued by the row's delete
        // trigger) removes the object later.
        if (row.storage_path) {
          await deps.store.remove(WORKBENCH_BUCKET, [row.storage_path]).catch((err) =>
            log.warn("stored object left for storage_gc", {
              path: row.storage_path,
              error: String(err),
            })
          );
        }
        return new Response(null, { status: 204 });
      },
    },
    {
      method: "GET",
      pattern: "/:id/status",
      doc: {
        summary: "Indexing progress of the whole workbench (any role)",
        auth: "user",
        responses: {
          200: { description: "Counts by status and the failed files", schema: IndexingStatus },
        },
        errors: { 404: ["not_found"] },
      },
      handler: async (req, ctx) => {
        const { user, id } = await access(req, ctx.params.id, "viewer");
        const { counts, errors, totals } = await asCaller(user.claims, async (tx) => ({
          counts: await tx`select status, count(*)::int as n from public.workbench_files
                            where workbench_id = ${id} group by status`,
          errors: await tx`select id as file_id, file_name, error_message, updated_at
                             from public.workbench_files
                            where workbench_id = ${id} and status = 'error'
                            order by updated_at desc limit 100`,
          totals: (await tx`select coalesce(sum(chunks_done), 0)::int as done,
                                   coalesce(sum(chunks_total), 0)::int as total
                              from public.workbench_files
                             where workbench_id = ${id} and status <> 'error'`)[0],
        }));
        const byStatus = { pending: 0, processing: 0, indexed: 0, error: 0 };
        for (const c of counts) byStatus[c.status as keyof typeof byStatus] = c.n;
        const fileCount = Object.values(byStatus).reduce((a, b) => a + b, 0);
        return json({
          workbench_id: id,
          files: fileCount,
          counts: byStatus,
          ready: fileCount > 0 && byStatus.pending + byStatus.processing === 0,
          chunks: { done: totals.done, total: totals.total },
          errors: [...errors],
        });
      },
    },
  ];
}
