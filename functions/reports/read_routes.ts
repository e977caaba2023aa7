/**
 * `GET /reports?workbenchId=&limit=&offset=` (newest first, paged) and `GET /reports/{id}` (with
 * its KPIs, narrative and a signed download URL when ready). Both run as the caller (RLS: any role
 * on the workbench); other tenants' reports are 404.
 */
import { z } from "zod";
import { requireUser } from "../../shared/auth.ts";
import { HttpError, json, readQuery, type Route, validate } from "../../shared/http.ts";
import { paged, PageQuery } from "../../shared/pagination.ts";
import {
  REPORT_NOT_FOUND,
  requireWorkbenchRole,
  runAsCaller,
  WORKBENCH_NOT_FOUND,
} from "./access.ts";
import type { ReportsDeps } from "./deps.ts";
import { presentReport, readReport, type ReportRow } from "./report_rows.ts";
import { listOf } from "../../shared/route_doc.ts";
import { Report, ReportDetail } from "./schemas.ts";

const ListQuery = PageQuery.extend({ workbench_id: z.uuid() });

export function readRoutes(deps: ReportsDeps): Route[] {
  const present = (row: ReportRow, withDetails: boolean) =>
    presentReport(row, { store: deps.store, ttlSeconds: deps.downloadTtlSeconds, withDetails });

  return [
    {
      method: "GET",
      pattern: "/",
      doc: {
        summary: "The workbench's reports, newest first (any role)",
        auth: "user",
        query: ListQuery,
        responses: { 200: { description: "A page of reports", schema: listOf(Report) } },
        errors: { 404: ["not_found"] },
      },
      handler: async (req, ctx) => {
        const user = await requireUser(req, deps.verifier);
        const q = readQuery(ctx.url, ListQuery);
        const sql = deps.sql();
        await requireWorkbenchRole(sql, user.claims, q.workbench_id, "viewer");
        const rows = await runAsCaller(
          sql,
          user.claims,
          (tx) =>
            tx<ReportRow[]>`
              select id, workbench_id, user_id, report_type, title, notes, status, error_message,
                     storage_path, cost_credits, attempts, null::jsonb as kpis, null as narrative,
                     narrative_source, created_at, updated_at, completed_at
                from public.reports where workbench_id = ${q.workbench_id}
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
      doc: {
        summary: "One report; when ready, a signed download URL (5 minutes)",
        auth: "user",
        responses: { 200: { description: "The report", schema: ReportDetail } },
        errors: { 404: ["not_found"] },
      },
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
  ];
}
