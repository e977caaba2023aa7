/**
 * `POST /reports` with an Idempotency-Key header: editors and owners only. A key already used by
 * the caller answers at once — the same body replays its report (202, `idempotent-replayed`),
 * another body is 409 — without checking or charging anything again. Otherwise the prerequisites
 * are checked by running the worker's table detection and KPI computation on the workbench's
 * stored table rows (`checkInputs`: 422 `missing_inputs` with what was found and what is lacking,
 * nothing charged), and
 * private.create_report charges 1 credit, inserts the report and queues it in one transaction
 * (which also settles two requests racing with one key). Its Postgres errors become HTTP errors
 * through `httpErrorFromPostgres` (no credit 402; the workbench deleted meanwhile 404).
 */
import { z } from "zod";
import { type Claims, requireUser } from "../../shared/auth.ts";
import { httpErrorFromPostgres, type Sql } from "../../shared/db.ts";
import { HttpError, json, readJson, type Route, validate } from "../../shared/http.ts";
import {
  checkInputs,
  missingInputDetails,
  REPORT_TYPES,
  type ReportType,
} from "../../shared/kpi/mod.ts";
import { enforceRateLimit } from "../../shared/rate_limit.ts";
import { nameSchema, textSchema } from "../../shared/validation.ts";
import {
  REPORT_NOT_FOUND,
  requireWorkbenchRole,
  runAsCaller,
  WORKBENCH_NOT_FOUND,
} from "./access.ts";
import type { ReportsDeps } from "./deps.ts";
import { presentReport, readReport } from "./report_rows.ts";
import { ReportDetail } from "./schemas.ts";

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

const KEY_REUSED = new HttpError(
  409,
  "idempotency_key_reused",
  "This Idempotency-Key was already used for a different request; use a new key for a new report.",
);

async function sha256(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

export interface CreateRequest {
  userId: string;
  claims: Claims;
  key: string;
  body: {
    workbench_id: string;
    report_type: ReportType;
    title: string;
    notes: string | null;
  };
  hash: string;
}

/** The caller, the Idempotency-Key and the body, validated, with the body's hash. */
async function readCreateRequest(req: Request, deps: ReportsDeps): Promise<CreateRequest> {
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
  const body = {
    workbench_id: input.workbench_id,
    report_type: input.report_type,
    title: input.title,
    notes: input.notes ?? null,
  };
  return {
    userId: user.id,
    claims: user.claims,
    key,
    body,
    hash: await sha256(JSON.stringify(body)),
  };
}

/** The report as the caller sees it, 202 (marked `idempotent-replayed` for a replay). */
async function answer(
  deps: ReportsDeps,
  sql: Sql,
  claims: Claims,
  reportId: string,
  replayed: boolean,
): Promise<Response> {
  const row = await runAsCaller(sql, claims, (tx) => readReport(tx, reportId), REPORT_NOT_FOUND);
  if (!row) throw new HttpError(404, "not_found", REPORT_NOT_FOUND);
  const view = await presentReport(row, {
    store: deps.store,
    ttlSeconds: deps.downloadTtlSeconds,
    withDetails: false,
  });
  return json(view, 202, replayed ? { "idempotent-replayed": "true" } : {});
}

/** The report a key already made, or null; the same key with another body is 409. */
async function priorReport(sql: Sql, r: CreateRequest): Promise<string | null> {
  const [prior] = await sql<{ request_hash: string; report_id: string | null }[]>`
    select request_hash, response ->> 'report_id' as report_id from private.idempotency_keys
     where user_id = ${r.userId} and scope = 'reports' and key = ${r.key}`;
  if (!prior?.report_id) return null;
  if (prior.request_hash !== r.hash) throw KEY_REUSED;
  return prior.report_id;
}

/** 422 `missing_inputs` naming what to upload when no indexed table fits the report type. */
async function requireInputs(sql: Sql, r: CreateRequest): Promise<void> {
  const { workbench_id, report_type } = r.body;
  const check = await runAsCaller(
    sql,
    r.claims,
    (tx) => checkInputs(tx, workbench_id, report_type),
    WORKBENCH_NOT_FOUND,
  );
  if (check.candidates.length > 0) return;
  const details = missingInputDetails(report_type, check);
  throw new HttpError(
    422,
    "missing_inputs",
    `A ${report_type} report needs ${details.missing[0]}.` +
      (check.found.length
        ? ` Found ${check.found.join("; ")}; lacking ${details.lacks.join("; ")}.`
        : "") +
      (check.pending.length
        ? " Some tables are still being indexed; try again when they are done."
        : ""),
    details,
  );
}

/** Charges, inserts and queues the report in one transaction (private.create_report). */
export async function chargeAndQueue(
  sql: Sql,
  r: CreateRequest,
): Promise<{ report_id: string; replayed: boolean }> {
  const { workbench_id, report_type, title, notes } = r.body;
  try {
    const [row] = await sql<{ result: { report_id: string; replayed: boolean } }[]>`
      select private.create_report(${r.userId}, ${workbench_id}, ${report_type},
                                   ${title}, ${notes}, ${r.key}, ${r.hash}) as result`;
    return row!.result;
  } catch (err) {
    if ((err as { code?: string }).code === "PT409") throw KEY_REUSED;
    throw httpErrorFromPostgres(err, WORKBENCH_NOT_FOUND);
  }
}

export function createRoute(deps: ReportsDeps): Route {
  return {
    method: "POST",
    pattern: "/",
    doc: {
      summary: "Queue a report (charged once per Idempotency-Key)",
      auth: "user",
      body: CreateReport,
      bodyExample: {
        workbench_id: "0f8fad5b-d9cb-469f-a165-70867728950e",
        report_type: "cash_flow",
        title: "Cash flow Q3",
      },
      headers: { "idempotency-key": "Required: the same key answers the same report again" },
      responses: {
        202: { description: "The queued report (or the one this key made)", schema: ReportDetail },
      },
      errors: {
        400: ["idempotency_key_required"],
        402: ["insufficient_credits"],
        403: ["forbidden"],
        404: ["not_found"],
        409: ["idempotency_key_reused", "conflict"],
        422: ["missing_inputs"],
        429: ["rate_limited"],
      },
    },
    handler: async (req) => {
      const r = await readCreateRequest(req, deps);
      const sql = deps.sql();
      await requireWorkbenchRole(sql, r.claims, r.body.workbench_id, "editor");
      const prior = await priorReport(sql, r);
      if (prior) return await answer(deps, sql, r.claims, prior, true);
      await enforceRateLimit(sql, "create", req, r.userId);
      await requireInputs(sql, r);
      const created = await chargeAndQueue(sql, r);
      return await answer(deps, sql, r.claims, created.report_id, created.replayed);
    },
  };
}
