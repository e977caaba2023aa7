/**
 * `GET /companies/{id}/audit?from=&to=&actor=&action=&limit=&offset=`: the company's audit rows,
 * newest first, for its owners and admins (public.company_audit decides; anyone else gets 404 as
 * for another tenant's company). `from` is inclusive and `to` exclusive (ISO timestamps); `actor`
 * is a user id (or a system actor such as `erasure-job`). See docs/privacy.md.
 */
import { z } from "zod";
import { requireUser } from "../../shared/auth.ts";
import { json, readQuery, type Route, validate } from "../../shared/http.ts";
import { paged, PageQuery } from "../../shared/pagination.ts";
import { Id, runAs } from "./access.ts";
import type { CompaniesDeps } from "./deps.ts";
import { listOf } from "../../shared/route_doc.ts";
import { AuditEntry } from "./schemas.ts";

const AuditQuery = PageQuery.extend({
  from: z.iso.datetime({ offset: true }).optional(),
  to: z.iso.datetime({ offset: true }).optional(),
  actor: z.string().trim().min(1).max(100).optional(),
  action: z.string().trim().min(1).max(100).regex(/^[a-z_.]+$/).optional(),
});

export function auditRoute(deps: CompaniesDeps): Route {
  const run = runAs(deps);
  return {
    method: "GET",
    pattern: "/:id/audit",
    doc: {
      summary: "The company's audit trail, newest first (owners and admins)",
      description: "`from` inclusive, `to` exclusive (ISO timestamps); `actor` a user id or a " +
        "system actor such as `erasure-job`; `action` such as `member.removed`.",
      auth: "user",
      query: AuditQuery,
      responses: { 200: { description: "A page of audit rows", schema: listOf(AuditEntry) } },
      errors: { 404: ["not_found"] },
    },
    handler: async (req, ctx) => {
      const id = validate(Id, ctx.params.id, "company id");
      const user = await requireUser(req, deps.verifier);
      const q = readQuery(ctx.url, AuditQuery);
      const rows = await run(user, async (tx) => [
        ...await tx`select id::text, actor, action, entity, entity_id, details, ip, request_id,
                           created_at
                      from public.company_audit(${id}, ${q.from ?? null}, ${q.to ?? null},
                                                ${q.actor ?? null}, ${q.action ?? null},
                                                ${q.limit + 1}, ${q.offset})`,
      ]);
      return json(paged(rows, q));
    },
  };
}
