/** `POST /workbenches`, `GET /workbenches?companyId=`, `GET /workbenches/{id}`. */
import { forwardClientIp } from "../../shared/rate_limit.ts";
import { z } from "zod";
import { nameSchema, textSchema } from "../../shared/validation.ts";
import { requireUser } from "../../shared/auth.ts";
import { HttpError, json, readJson, readQuery, type Route } from "../../shared/http.ts";
import { listBody, paged, PageQuery } from "../../shared/pagination.ts";
import { NOT_FOUND, workbenchAccess } from "./access.ts";
import type { WorkbenchesDeps } from "./deps.ts";
import { listOf } from "../../shared/route_doc.ts";
import { Workbench } from "./schemas.ts";

const WorkbenchInput = z.object({
  name: nameSchema(200),
  description: textSchema(2000).optional(),
  company_id: z.uuid().optional(),
});
const ListQuery = PageQuery.extend({ company_id: z.uuid().optional() });

export function workbenchRoutes(deps: WorkbenchesDeps): Route[] {
  const { asCaller, access } = workbenchAccess(deps);
  return [
    {
      method: "POST",
      pattern: "/",
      doc: {
        summary: "Create a workbench (personal, or in a company you belong to)",
        auth: "user",
        body: WorkbenchInput,
        bodyExample: { name: "Q3 close", description: "Ledgers and board packs" },
        responses: { 201: { description: "The workbench", schema: Workbench } },
        errors: { 404: ["not_found"], 429: ["rate_limited"] },
      },
      handler: async (req) => {
        const user = await requireUser(req, deps.verifier);
        const input = await readJson(req, WorkbenchInput);
        const row = await asCaller(user.claims, async (tx) => {
          await forwardClientIp(tx, req); // the insert takes the `create` token (a trigger)
          const [w] = await tx`
            insert into public.workbench (name, description, company_id)
            values (${input.name}, ${input.description ?? null}, ${input.company_id ?? null})
            returning id, name, description, owner_user_id, company_id, created_at, updated_at`;
          return w;
        }).catch((err) => {
          if (err instanceof HttpError && err.status === 404 && input.company_id) {
            throw new HttpError(404, "not_found", "Company not found.");
          }
          throw err;
        });
        return json({ ...row, role: "owner" }, 201);
      },
    },
    {
      method: "GET",
      pattern: "/",
      doc: {
        summary: "Visible workbenches with the caller's role and file count",
        auth: "user",
        query: ListQuery,
        responses: { 200: { description: "A page of workbenches", schema: listOf(Workbench) } },
      },
      handler: async (req, ctx) => {
        const user = await requireUser(req, deps.verifier);
        const q = readQuery(ctx.url, ListQuery);
        const companyId = q.company_id ?? null;
        const rows = await asCaller(
          user.claims,
          (tx) =>
            tx`select w.id, w.name, w.description, w.owner_user_id, w.company_id, w.created_at,
                    w.updated_at, public.workbench_role(w.id) as role,
                    (select count(*)::int from public.workbench_files f where f.workbench_id = w.id)
                      as file_count
               from public.workbench w
              where (${companyId}::uuid is null or w.company_id = ${companyId}::uuid)
              order by w.created_at desc, w.id
              limit ${q.limit + 1} offset ${q.offset}`,
        );
        return json(listBody(paged([...rows], q), "workbenches"));
      },
    },
    {
      method: "GET",
      pattern: "/:id",
      doc: {
        summary: "One workbench (any role)",
        auth: "user",
        responses: { 200: { description: "The workbench", schema: Workbench } },
        errors: { 404: ["not_found"] },
      },
      handler: async (req, ctx) => {
        const { user, id } = await access(req, ctx.params.id);
        const [row] = await asCaller(
          user.claims,
          (tx) =>
            tx`select w.id, w.name, w.description, w.owner_user_id, w.company_id, w.created_at,
                    w.updated_at, public.workbench_role(w.id) as role
               from public.workbench w where w.id = ${id}`,
        );
        if (!row) throw new HttpError(404, "not_found", NOT_FOUND);
        return json(row);
      },
    },
  ];
}
