/**
 * Companies: create, list (with the caller's role), rename, and manage members. Every query runs
 * as the caller (RLS decides); other tenants' companies are 404.
 */
import { z } from "zod";
import { type AuthenticatedUser, type JwtVerifier, requireUser } from "../../shared/auth.ts";
import { asCaller, type Sql, type Tx } from "../../shared/db.ts";
import { HttpError, json, readJson, readQuery, router, validate } from "../../shared/http.ts";
import { paged, PageQuery } from "../../shared/pagination.ts";

export interface CompaniesDeps {
  sql: () => Sql;
  verifier: JwtVerifier;
}

const Id = z.uuid();
const CompanyInput = z.object({ name: z.string().trim().min(1).max(200) });
const MemberInput = z.object({
  email: z.email().optional(),
  user_id: z.uuid().optional(),
  role: z.enum(["admin", "member", "owner"]).default("member"),
}).refine((v) => v.email || v.user_id, { message: "Give the new member's email or user_id." });

const NOT_FOUND = "Company not found.";

async function roleIn(tx: Tx, companyId: string): Promise<string | null> {
  const [{ role }] = await tx`select public.company_role(${companyId}) as role`;
  return role;
}

/** 404 unless the caller is a member; 403 unless they have at least `min`. */
async function requireCompanyRole(tx: Tx, companyId: string, min: "member" | "admin" | "owner") {
  const role = await roleIn(tx, companyId);
  if (!role) throw new HttpError(404, "not_found", NOT_FOUND);
  const rank = { member: 0, admin: 1, owner: 2 };
  if (rank[role as keyof typeof rank] < rank[min]) {
    throw new HttpError(403, "forbidden", `Only company ${min}s can do this.`);
  }
  return role;
}

export function createCompaniesHandler(deps: CompaniesDeps) {
  // Handlers authenticate first (a bad token is 401 even with a bad body), then run as the caller.
  const run = <T>(user: AuthenticatedUser, fn: (tx: Tx) => Promise<T>): Promise<T> =>
    asCaller(deps.sql(), user.claims, fn, NOT_FOUND);

  async function removeMember(user: AuthenticatedUser, companyId: string, memberId: string) {
    const id = validate(Id, companyId, "company id");
    const userId = validate(Id, memberId, "user id");
    await run(user, async (tx) => {
      const role = userId === user.id
        ? await requireCompanyRole(tx, id, "member")
        : await requireCompanyRole(tx, id, "admin");
      const [target] = await tx`select role from public.company_members
                                 where company_id = ${id} and user_id = ${userId}`;
      if (!target) throw new HttpError(404, "not_found", "No such member.");
      if (target.role === "owner" && role !== "owner") {
        throw new HttpError(403, "forbidden", "Only owners can remove an owner.");
      }
      await tx`delete from public.company_members where company_id = ${id} and user_id = ${userId}`;
    });
    return new Response(null, { status: 204 });
  }

  return router([
    {
      method: "POST",
      pattern: "/",
      handler: async (req) => {
        const user = await requireUser(req, deps.verifier);
        const input = await readJson(req, CompanyInput);
        const company = await run(user, async (tx) => {
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
        const { items, next_offset } = paged([...rows], page);
        return json({ companies: items, next_offset });
      },
    },
    {
      method: "PATCH",
      pattern: "/:id",
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
    {
      method: "GET",
      pattern: "/:id/members",
      handler: async (req, ctx) => {
        const user = await requireUser(req, deps.verifier);
        const id = validate(Id, ctx.params.id, "company id");
        const members = await run(user, async (tx) => {
          await requireCompanyRole(tx, id, "member");
          return [
            ...await tx`select m.user_id, m.role, m.created_at
                          from public.company_members m where m.company_id = ${id}
                         order by m.created_at`,
          ];
        });
        return json({ members });
      },
    },
    {
      method: "POST",
      pattern: "/:id/members",
      handler: async (req, ctx) => {
        const id = validate(Id, ctx.params.id, "company id");
        const user = await requireUser(req, deps.verifier);
        const input = await readJson(req, MemberInput);
        await run(
          user,
          (tx) => requireCompanyRole(tx, id, input.role === "owner" ? "owner" : "admin"),
        );
        // Only now (the caller manages this company) look the user up; profiles are private, so
        // this read uses the service connection.
        const [target] = await deps.sql()<{ id: string }[]>`
          select id from auth.users
           where (${input.user_id ?? null}::uuid is not null and id = ${
          input.user_id ?? null
        }::uuid)
              or (${input.email ?? null}::text is not null and lower(email) = lower(${
          input.email ?? null
        }))
           limit 1`;
        if (!target) throw new HttpError(404, "user_not_found", "No user with that email or id.");
        const member = await run(user, async (tx) => {
          const [row] = await tx`insert into public.company_members (company_id, user_id, role)
                                 values (${id}, ${target.id}, ${input.role})
                                 on conflict (company_id, user_id) do nothing
                                 returning company_id, user_id, role, created_at`;
          if (!row) throw new HttpError(409, "already_member", "That user is already a member.");
          return row;
        });
        return json(member, 201);
      },
    },
    {
      method: "DELETE",
      pattern: "/:id/members/:userId",
      handler: async (req, ctx) =>
        removeMember(await requireUser(req, deps.verifier), ctx.params.id, ctx.params.userId),
    },
    {
      // The contract's form: DELETE /companies/{id}/members with {"user_id": ...}.
      method: "DELETE",
      pattern: "/:id/members",
      handler: async (req, ctx) => {
        const user = await requireUser(req, deps.verifier);
        const { user_id } = await readJson(req, z.object({ user_id: z.uuid() }));
        return removeMember(user, ctx.params.id, user_id);
      },
    },
  ]);
}
