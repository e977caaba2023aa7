/**
 * `POST /reports` with an Idempotency-Key header: editors and owners only. A key already used by
 * the caller answers at once — the same body replays its report (202, `idempotent-replayed`),
 * another body is 409 — without checking or charging anything again. Otherwise the prerequisites
 * are checked against the workbench's indexed tables (422 `missing_inputs`, nothing charged), and
 * private.create_report charges 1 credit, inserts the report and queues it in one transaction
 * (which also settles two requests racing with one key).
 */
import { z } from "zod";
import { requireUser } from "../../shared/auth.ts";
import { HttpError, json, readJson, type Route, validate } from "../../shared/http.ts";
import { REPORT_TYPES, type ReportType } from "../../shared/kpi/types.ts";
import { enforceRateLimit } from "../../shared/rate_limit.ts";
import { checkInputs, missingInputDetails } from "../../shared/reports/inputs.ts";
import { nameSchema, textSchema } from "../../shared/validation.ts";
import {
  REPORT_NOT_FOUND,
  requireWorkbenchRole,
  runAsCaller,
  WORKBENCH_NOT_FOUND,
} from "./access.ts";
import type { ReportsDeps } from "./handler.ts";
import { presentReport, readReport } from "./report_rows.ts";

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

export function createRoute(deps: ReportsDeps): Route {
  return {
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
      const body = {
        workbench_id: input.workbench_id,
        report_type: input.report_type,
        title: input.title,
        notes: input.notes ?? null,
      };
      const hash = await sha256(JSON.stringify(body));
      const sql = deps.sql();
      await requireWorkbenchRole(sql, user.claims, body.workbench_id, "editor");

      const answer = async (reportId: string, replayed: boolean) => {
        const row = await runAsCaller(
          sql,
          user.claims,
          (tx) => readReport(tx, reportId),
          REPORT_NOT_FOUND,
        );
        if (!row) throw new HttpError(404, "not_found", REPORT_NOT_FOUND);
        const view = await presentReport(row, {
          store: deps.store,
          ttlSeconds: deps.downloadTtlSeconds,
          withDetails: false,
        });
        return json(view, 202, replayed ? { "idempotent-replayed": "true" } : {});
      };

      const [prior] = await sql<{ request_hash: string; report_id: string | null }[]>`
        select request_hash, response ->> 'report_id' as report_id from private.idempotency_keys
         where user_id = ${user.id} and scope = 'reports' and key = ${key}`;
      if (prior?.report_id) {
        if (prior.request_hash !== hash) throw KEY_REUSED;
        return await answer(prior.report_id, true);
      }

      await enforceRateLimit(sql, "create", req, user.id);
      const check = await runAsCaller(
        sql,
        user.claims,
        (tx) => checkInputs(tx, body.workbench_id, body.report_type),
        WORKBENCH_NOT_FOUND,
      );
      if (check.candidates.length === 0) {
        const details = missingInputDetails(body.report_type, check);
        throw new HttpError(
          422,
          "missing_inputs",
          `A ${body.report_type} report needs ${details.missing[0]}.` +
            (check.pending.length
              ? " Some tables are still being indexed; try again when they are done."
              : ""),
          details,
        );
      }
      try {
        const [r] = await sql<{ result: { report_id: string; replayed: boolean } }[]>`
          select private.create_report(${user.id}, ${body.workbench_id}, ${body.report_type},
                                       ${body.title}, ${body.notes}, ${key}, ${hash}) as result`;
        return await answer(r!.result.report_id, r!.result.replayed);
      } catch (err) {
        const code = (err as { code?: string }).code;
        if (code === "PT402") {
          throw new HttpError(
            402,
            "insufficient_credits",
            "A report costs 1 credit and your balance is 0. Top up your wallet.",
          );
        }
        if (code === "PT409") throw KEY_REUSED;
        throw err;
      }
    },
  };
}
