/**
 * `POST /companies` (the creator is its owner), `GET /companies` (with the caller's role) and
 * `PATCH /companies/{id}` (admins rename).
 */
import { z } from "zod";
import { requireUser } from "../../shared/auth.ts";
import { json, readJson, readQuery, type Route, validate } from "../../shared/http.ts";
import { listBody, paged, PageQuery } from "../../shared/pagination.ts";
import { forwardClientIp } from "../../shared/rate_limit.ts";
import { nameSchema } from "../../shared/validation.ts";
import { Id, requireCompanyRole, runAs } from "./access.ts";
import type { CompaniesDeps } from "./deps.ts";
import { listOf } from "../../shared/route_doc.ts";
import { Company } from "./schemas.ts";

const CompanyInput = z.object({ name: nameSchema(200) });

export function companyRoutes(deps: CompaniesDeps): Route[] {
  const run = runAs(deps);

  return [
    {
      method: "POST",
      pattern: "/",
      doc: {
        summary: "Create a company; the caller becomes its owner",
        auth: "user",
        body: CompanyInput,
        bodyExample: { name: "Acme Analytics" },
        responses: { 201: { description: "The company", schema: Company } },
        errors: { 429: ["rate_limited"] },
      },
      handler: async (req) => {
        const user = await requireUser(req, deps.verifier);
        const input = await readJson(req, CompanyInput);
        const company = await run(user, async (tx) => {
          await forwardClientIp(tx, req); // the insert takes the `create` token (a trigger)
          const [row] = await tx`insert into public.company (name) values (${input.name})
                                 returning id, name, created_by, created_at, updated_at`;
          return { ...row, role: "owner" };
        });
        return json(company, 201);
      },
    },
    {
      method: "GET",
      pattern: "/",
      doc: {
        summary: "The caller's companies with their role",
        auth: "user",
        query: PageQuery,
        responses: { 200: { description: "A page of companies", schema: listOf(Company) } },
      },
      handler: async (req, ctx) => {
        const user = await requireUser(req, deps.verifier);
        const page = readQuery(ctx.url, PageQuery);
        const rows = await run(
          user,
          (tx) =>
            tx`select c.id, c.name, c.created_by, c.created_at, c.updated_at,
                    public.company_role(c.id) as role
               from public.company c
              order by c.created_at, c.id
              limit ${page.limit + 1} offset ${page.offset}`,
        );
        return json(listBody(paged([...rows], page), "companies"));
      },
    },
    {
      method: "PATCH",
      pattern: "/:id",
      doc: {
        summary: "Rename a company (admin)",
        auth: "user",
        body: CompanyInput,
        responses: { 200: { description: "The company", schema: Company } },
        errors: { 403: ["forbidden"], 404: ["not_found"] },
      },
      handler: async (req, ctx) => {
        const id = validate(Id, ctx.params.id, "company id");
        const user = await requireUser(req, deps.verifier);
        const input = await readJson(req, CompanyInput);
        const company = await run(user, async (tx) => {
          const role = await requireCompanyRole(tx, id, "admin");
          const [row] = await tx`update public.company set name = ${input.name} where id = ${id}
                                 returning id, name, created_by, created_at, updated_at`;
          return { ...row, role };
        });
        return json(company);
      },
    },
  ];
}
