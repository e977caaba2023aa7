/**
 * The `reports` function:
 *   POST /reports {workbench_id, report_type, title, notes?} with an Idempotency-Key header
 *   GET  /reports?workbenchId=&limit=&offset=
 *   GET  /reports/{id}
 *
 * Creating needs the editor role. The prerequisites are checked against the workbench's indexed
 * tables first (422 `missing_inputs`, nothing charged); then private.create_report charges 1
 * credit once per key, inserts the report and queues it for `report-worker`, in one transaction.
 */
import { z } from "zod";
import { type JwtVerifier, requireUser } from "../../shared/auth.ts";
import type { Sql } from "../../shared/db.ts";
import { HttpError, json, readJson, readQuery, router, validate } from "../../shared/http.ts";
import { REPORT_TYPES, type ReportType } from "../../shared/kpi/types.ts";
import { paged, PageQuery } from "../../shared/pagination.ts";
import { enforceRateLimit } from "../../shared/rate_limit.ts";
import type { ObjectStore } from "../../shared/storage.ts";
import { nameSchema, textSchema } from "../../shared/validation.ts";
import {
  REPORT_NOT_FOUND,
  requireWorkbenchRole,
  runAsCaller,
  WORKBENCH_NOT_FOUND,
} from "./access.ts";
import { checkInputs, missingInputDetails } from "../../shared/reports/inputs.ts";
import { presentReport, readReport, type ReportRow } from "./report_rows.ts";

export interface ReportsDeps {
  sql: () => Sql;
  verifier: JwtVerifier;
  store: ObjectStore;
  /** Lifetime of download URLs (REPORT_DOWNLOAD_TTL_SEC, default 3600). */
  downloadTtlSeconds: number;
}

const CreateReport = z.object({
  workbench_id: z.uuid(),
  report_type: z.enum(REPORT_TYPES as [ReportType, ...ReportType[]]),
  title: nameSchema(200),
  notes: textSchema(5000).nullish(),
});

const IdempotencyKey = z.string().trim().min(1).max(255).regex(
  /^[\x21-\x7e]+$/,
  "printable ASCII without spaces",
);
const ListQuery = PageQuery.extend({ workbenchId: z.uuid() });

async function sha256(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

export function createReportsHandler(deps: ReportsDeps) {
  const present = (row: ReportRow, withDetails: boolean) =>
    presentReport(row, { store: deps.store, ttlSeconds: deps.downloadTtlSeconds, withDetails });

  return router([
    {
      method: "POST",
      pattern: "/",
      handler: async (req) => {
        const user = await requireUser(req, deps.verifier);
        const header = req.headers.get("idempotency-key");
        if (header === null) {
          await req.body?.cancel();
          throw new HttpError(
            400,
            "idempotency_key_required",
            "Send an Idempotency-Key header: a report is charged once per key.",
          );
        }
        const key = validate(IdempotencyKey, header, "Idempotency-Key header");
        const input = await readJson(req, CreateReport);
        const sql = deps.sql();
        await requireWorkbenchRole(sql, user.claims, input.workbench_id, "editor");
        await enforceRateLimit(sql, "create", req, user.id);
        const check = await runAsCaller(
          sql,
          user.claims,
          (tx) => checkInputs(tx, input.workbench_id, input.report_type),
          WORKBENCH_NOT_FOUND,
        );
        if (check.candidates.length === 0) {
          throw new HttpError(
            422,
            "missing_inputs",
            `A ${input.report_type} report needs ${
              missingInputDetails(input.report_type, check).missing[0]
            }.` +
              (check.pending.length
                ? " Some tables are still being indexed; try again when they are done."
                : ""),
            missingInputDetails(input.report_type, check),
          );
        }
        const body = {
          workbench_id: input.workbench_id,
          report_type: input.report_type,
          title: input.title,
          notes: input.notes ?? null,
        };
        const hash = await sha256(JSON.stringify(body));
        let result: { report_id: string; replayed: boolean };
        try {
          const [r] = await sql<{ result: { report_id: string; replayed: boolean } }[]>`
            select private.create_report(${user.id}, ${body.workbench_id}, ${body.report_type}, ${body.title},
                                         ${body.notes}, ${key}, ${hash}) as result`;
          result = r!.result;
        } catch (err) {
          const code = (err as { code?: string }).code;
          if (code === "PT402") {
            throw new HttpError(
              402,
              "insufficient_credits",
              "A report costs 1 credit and your balance is 0. Top up your wallet.",
            );
          }
          if (code === "PT409") {
            throw new HttpError(
              409,
              "idempotency_key_reused",
              "This Idempotency-Key was already used for a different request; use a new key for a new report.",
            );
          }
          throw err;
        }
        const row = await runAsCaller(
          sql,
          user.claims,
          (tx) => readReport(tx, result.report_id),
          REPORT_NOT_FOUND,
        );
        if (!row) throw new HttpError(404, "not_found", REPORT_NOT_FOUND);
        return json(
          await present(row, false),
          202,
          result.replayed ? { "idempotent-replayed": "true" } : {},
        );
      },
    },
    {
      method: "GET",
      pattern: "/",
      handler: async (req, ctx) => {
        const user = await requireUser(req, deps.verifier);
        const q = readQuery(ctx.url, ListQuery);
        const sql = deps.sql();
        await requireWorkbenchRole(sql, user.claims, q.workbenchId, "viewer");
        const rows = await runAsCaller(sql, user.claims, (tx) =>
          tx<ReportRow[]>`
            select id, workbench_id, user_id, report_type, title, notes, status, error_message, storage_path,
                   cost_credits, attempts, null::jsonb as kpis, null as narrative, narrative_source,
                   created_at, updated_at, completed_at
              from public.reports where workbench_id = ${q.workbenchId}
             order by created_at desc, id
             limit ${q.limit + 1} offset ${q.offset}`, WORKBENCH_NOT_FOUND);
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
