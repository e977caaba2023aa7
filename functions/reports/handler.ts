/**
 * The `reports` function:
 *   POST /reports {workbench_id, report_type, title, notes?} with an Idempotency-Key header
 *        (create_route.ts)
 *   GET  /reports?workbenchId=&limit=&offset=
 *   GET  /reports/{id}
 *
 * Reads run as the caller (RLS: any role on the workbench); other tenants' reports are 404.
 */
import { z } from "zod";
import { type JwtVerifier, requireUser } from "../../shared/auth.ts";
import type { Sql } from "../../shared/db.ts";
import { HttpError, json, readQuery, router, validate } from "../../shared/http.ts";
import { paged, PageQuery } from "../../shared/pagination.ts";
import type { ObjectStore } from "../../shared/storage.ts";
import {
  REPORT_NOT_FOUND,
  requireWorkbenchRole,
  runAsCaller,
  WORKBENCH_NOT_FOUND,
} from "./access.ts";
import { createRoute } from "./create_route.ts";
import { presentReport, readReport, type ReportRow } from "./report_rows.ts";

export interface ReportsDeps {
  sql: () => Sql;
  verifier: JwtVerifier;
  store: ObjectStore;
  /** Lifetime of download URLs (REPORT_DOWNLOAD_TTL_SEC, default 3600). */
  downloadTtlSeconds: number;
}

const ListQuery = PageQuery.extend({ workbenchId: z.uuid() });

export function createReportsHandler(deps: ReportsDeps) {
  const present = (row: ReportRow, withDetails: boolean) =>
    presentReport(row, { store: deps.store, ttlSeconds: deps.downloadTtlSeconds, withDetails });

  return router([
    createRoute(deps),
    {
      method: "GET",
      pattern: "/",
      handler: async (req, ctx) => {
        const user = await requireUser(req, deps.verifier);
        const q = readQuery(ctx.url, ListQuery);
        const sql = deps.sql();
        await requireWorkbenchRole(sql, user.claims, q.workbenchId, "viewer");
        const rows = await runAsCaller(
          sql,
          user.claims,
          (tx) =>
            tx<ReportRow[]>`
              select id, workbench_id, user_id, report_type, title, notes, status, error_message,
                     storage_path, cost_credits, attempts, null::jsonb as kpis, null as narrative,
                     narrative_source, created_at, updated_at, completed_at
                from public.reports where workbench_id = ${q.workbenchId}
               order by created_at desc, id
               limit ${q.limit + 1} offset ${q.offset}`,
          WORKBENCH_NOT_FOUND,
        );
        const page = paged(rows, q);
        return json({
          items: await Promise.all(page.items.map((r) => present(r, false))),
          next_offset: page.next_offset,
        });
      },
    },
    {
      method: "GET",
      pattern: "/:id",
      handler: async (req, ctx) => {
        const user = await requireUser(req, deps.verifier);
        const id = validate(z.uuid(), ctx.params.id, "report id");
        const row = await runAsCaller(
          deps.sql(),
          user.claims,
          (tx) => readReport(tx, id),
          REPORT_NOT_FOUND,
        );
        if (!row) throw new HttpError(404, "not_found", REPORT_NOT_FOUND);
        return json(await present(row, true));
      },
    },
  ]);
}
