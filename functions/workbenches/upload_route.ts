/**
 * `POST /workbenches/{id}/files` (editor): multipart, field `file`, repeatable. Files are checked
 * and streamed to Storage as they arrive (receive_uploads.ts), then their rows are written in one
 * transaction (commit_uploads.ts). `201` with the files, `200` when all were already there.
 */
import { httpErrorFromPostgres } from "../../shared/db.ts";
import { enforceRateLimit } from "../../shared/rate_limit.ts";
import { json, type Route } from "../../shared/http.ts";
import { log } from "../../shared/log.ts";
import { DEFAULT_LIMITS } from "./uploads/checks.ts";
import { workbenchAccess } from "./access.ts";
import { commitUploads, hasContent } from "./commit_uploads.ts";
import type { WorkbenchesDeps } from "./deps.ts";
import { receiveUploads, removeObjects } from "./receive_uploads.ts";
import { z } from "zod";
import { UploadedFile, Uploads } from "./schemas.ts";

const UploadedResult = z.object({ files: z.array(UploadedFile) });

export function uploadRoutes(deps: WorkbenchesDeps): Route[] {
  const { access } = workbenchAccess(deps);
  return [{
    method: "POST",
    pattern: "/:id/files",
    doc: {
      summary: "Upload files (multipart, field `file`, up to 20) to be indexed (editor, owner)",
      auth: "user",
      bodyContent: { "multipart/form-data": Uploads },
      responses: {
        201: { description: "The files, queued (`pending`)", schema: UploadedResult },
        200: { description: "Every file was already in the workbench", schema: UploadedResult },
      },
      errors: {
        400: ["no_files", "invalid_multipart"],
        403: ["forbidden"],
        404: ["not_found"],
        409: ["upload_conflict"],
        413: [
          "too_many_files",
          "request_too_large",
          "file_too_large",
          "document_too_large",
          "pdf_too_many_pages",
        ],
        415: ["unsupported_media_type", "unsupported_file_type", "file_type_mismatch"],
        429: ["rate_limited"],
      },
    },
    handler: async (req, ctx) => {
      const { user, id } = await access(req, ctx.params.id, "editor");
      await enforceRateLimit(deps.sql(), "uploads", req, user.id);
      const received = await receiveUploads(req, {
        workbenchId: id,
        limits: deps.limits ?? DEFAULT_LIMITS,
        store: deps.store,
        isKnown: (sha256) => hasContent(deps.sql(), id, sha256),
      });
      const stored = received.flatMap((r) => r.path ? [r.path] : []);
      const committed = await commitUploads(deps.sql(), id, user.id, received).catch(
        async (err) => {
          await removeObjects(deps.store, stored); // no row refers to them
          // A plan limit (files per workbench, stored bytes): 403 plan_limit_reached.
          throw (err as { code?: string })?.code === "PT403" ? httpErrorFromPostgres(err) : err;
        },
      );
      await removeObjects(deps.store, committed.unused);
      const files = committed.files;
      log.info("files uploaded", {
        workbench_id: id,
        files: files.map((f) => ({ id: f.id, type: f.file_type, duplicate: f.duplicate })),
      });
      const created = files.some((f) => !f.duplicate || f.requeued);
      return json({ files }, created ? 201 : 200);
    },
  }];
}
