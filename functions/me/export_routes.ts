/**
 * `GET /me/export` starts an export of everything the product holds about the caller (202
 * `{id, status}`), or answers the one under way or made in the last hour; `GET /me/exports/:id`
 * answers its status and, once `ready`, `download_url`, a signed URL that expires after
 * `expires_in` seconds (each read gives a fresh one and is audited). Another user's export is 404.
 */
import { z } from "zod";
import { requireUser } from "../../shared/auth.ts";
import { httpErrorFromPostgres } from "../../shared/db.ts";
import { HttpError, json, type Route, validate } from "../../shared/http.ts";
import { EXPORTS_BUCKET, type MeDeps } from "./deps.ts";
import { ExportStarted, ExportState } from "./schemas.ts";

interface ExportRow {
  id: string;
  status: string;
  storage_path: string | null;
  error_message: string | null;
  created_at: string;
  ready_at: string | null;
}

export function exportRoutes(deps: MeDeps): Route[] {
  return [
    {
      method: "GET",
      pattern: "/export",
      doc: {
        summary: "Start an export of your data, or get the one under way or of the last hour",
        auth: "user",
        responses: {
          202: { description: "The export (poll GET /me/exports/{id})", schema: ExportStarted },
        },
        errors: { 401: ["account_deactivated"], 429: ["rate_limited"] },
      },
      handler: async (req) => {
        const user = await requireUser(req, deps.verifier);
        const [row] = await deps.sql()<ExportRow[]>`
          select * from private.start_export(${user.id})`.catch((err) => {
          throw httpErrorFromPostgres(err);
        });
        return json({ id: row.id, status: row.status, created_at: row.created_at }, 202);
      },
    },
    {
      method: "GET",
      pattern: "/exports/:id",
      doc: {
        summary: "An export's status; once ready, a signed download URL that expires",
        description: "Each read that gives a URL is audited (`account.export_downloaded`).",
        auth: "user",
        responses: { 200: { description: "The export", schema: ExportState } },
        errors: { 404: ["not_found"] },
      },
      handler: async (req, ctx) => {
        const id = validate(z.uuid(), ctx.params.id, "export id");
        const user = await requireUser(req, deps.verifier);
        const sql = deps.sql();
        const [row] = await sql<ExportRow[]>`
          select id, status, storage_path, error_message, created_at, ready_at
            from private.account_exports
           where id = ${id} and user_id = ${user.id}
             and not private.is_deactivated(${user.id})`;
        if (!row) throw new HttpError(404, "not_found", "Export not found.");
        const body: Record<string, unknown> = {
          id: row.id,
          status: row.status,
          created_at: row.created_at,
          ready_at: row.ready_at,
        };
        if (row.status === "failed") body.error = row.error_message;
        if (row.status === "ready" && row.storage_path) {
          body.download_url = await deps.store.signedUrl(
            EXPORTS_BUCKET,
            row.storage_path,
            deps.exportUrlTtlSeconds,
          );
          body.expires_in = deps.exportUrlTtlSeconds;
          await sql`insert into private.audit_log (actor, action, entity, entity_id)
                    values (${user.id}, 'account.export_downloaded', 'export', ${row.id})`;
        }
        return json(body);
      },
    },
  ];
}
