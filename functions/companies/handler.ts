/**
 * Companies: create, list (with the caller's role), rename, manage members and invite new ones.
 * Every query runs as the caller (RLS and the SECURITY DEFINER RPCs decide); other tenants'
 * companies are 404. Membership comes only by invitation (the invitee accepts through the
 * `invitations` function); owners only from an owner promoting a member. No answer depends on
 * whether an email has an account: inviting never looks the email up.
 */
import { enforceRateLimit } from "../../shared/rate_limit.ts";
import { z } from "zod";
import { nameSchema } from "../../shared/validation.ts";
import { type AuthenticatedUser, type JwtVerifier, requireUser } from "../../shared/auth.ts";
import { asCaller, type Sql, type Tx } from "../../shared/db.ts";
import { HttpError, json, readJson, readQuery, router, validate } from "../../shared/http.ts";
import { paged, PageQuery } from "../../shared/pagination.ts";

export interface CompaniesDeps {
  sql: () => Sql;
  verifier: JwtVerifier;
}

const Id = z.uuid();
const CompanyInput = z.object({ name: nameSchema(200) });
const InvitationInput = z.object({
  email: z.email().max(320),
  role: z.enum(["admin", "member"], {
    message: "Invite as admin or member; owners come from an owner promoting a member.",
  }).default("member"),
});
const RoleInput = z.object({ role: z.enum(["owner", "admin", "member"]) });

const INVITATION_COLUMNS = "id, company_id, email, role, status, created_at, expires_at";

const NOT_FOUND = "Company not found.";

/** The last-owner rule (SQLSTATE 23514 from the keep_company_owner trigger) as a clear 409. */
function lastOwner(err: unknown): unknown {
  return (err as { code?: string })?.code === "23514"
    ? new HttpError(
      409,
      "last_owner",
      "A company needs at least one owner: promote another member to owner first.",
    )
    : err;
}

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
      await tx`delete from public.company_members where company_id = ${id} and user_id = ${userId}`
        .catch((err) => {
          throw lastOwner(err);
        });
    });
    return new Response(null, { status: 204 });
  }

  return router([
    {
      method: "POST",
      pattern: "/",
      handler: async (req) => {
        const user = await requireUser(req, deps.verifier);
        await enforceRateLimit(deps.sql(), "create", req, user.id);
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
            ...await tx`select user_id, email, full_name, role, joined_at
                          from public.company_member_list(${id})`,
          ];
        });
        return json({ members });
      },
    },
    {
      // Owners are made only here, by an owner promoting an existing member.
      method: "PATCH",
      pattern: "/:id/members/:userId",
      handler: async (req, ctx) => {
        const id = validate(Id, ctx.params.id, "company id");
        const userId = validate(Id, ctx.params.userId, "user id");
        const user = await requireUser(req, deps.verifier);
        const input = await readJson(req, RoleInput);
        const member = await run(user, async (tx) => {
          const role = await requireCompanyRole(tx, id, "admin");
          const [target] = await tx`select role from public.company_members
                                     where company_id = ${id} and user_id = ${userId}`;
          if (!target) throw new HttpError(404, "not_found", "No such member.");
          if ((target.role === "owner" || input.role === "owner") && role !== "owner") {
            throw new HttpError(403, "forbidden", "Only owners make or change owners.");
          }
          const [row] = await tx`update public.company_members set role = ${input.role}
                                  where company_id = ${id} and user_id = ${userId}
                                  returning company_id, user_id, role`.catch((err) => {
            throw lastOwner(err);
          });
          return row;
        });
        return json(member);
      },
    },
    {
      method: "POST",
      pattern: "/:id/invitations",
      handler: async (req, ctx) => {
        const id = validate(Id, ctx.params.id, "company id");
        const user = await requireUser(req, deps.verifier);
        await enforceRateLimit(deps.sql(), "invitations", req, user.id);
        const input = await readJson(req, InvitationInput);
        const invitation = await run(user, async (tx) => {
          await requireCompanyRole(tx, id, "admin");
          const [row] = await tx`
            select ${tx.unsafe(INVITATION_COLUMNS)}
              from public.invite_to_company(${id}, ${input.email}, ${input.role})`.catch(
            (err) => {
              if ((err as { code?: string })?.code !== "23505") throw err;
              throw new HttpError(409, "already_member", "That email is already a member's.");
            },
          );
          return row;
        });
        return json(invitation, 201);
      },
    },
    {
      method: "GET",
      pattern: "/:id/invitations",
      handler: async (req, ctx) => {
        const id = validate(Id, ctx.params.id, "company id");
        const user = await requireUser(req, deps.verifier);
        const page = readQuery(ctx.url, PageQuery);
        const rows = await run(user, async (tx) => {
          await requireCompanyRole(tx, id, "admin");
          return [
            ...await tx`select ${tx.unsafe(INVITATION_COLUMNS)}, expires_at <= now() as expired
                          from public.company_invitations
                         where company_id = ${id} and status = 'pending'
                         order by created_at desc, id
                         limit ${page.limit + 1} offset ${page.offset}`,
          ];
        });
        const { items, next_offset } = paged(rows, page);
        return json({ invitations: items, next_offset });
      },
    },
    {
      method: "DELETE",
      pattern: "/:id/invitations/:invitationId",
      handler: async (req, ctx) => {
        const id = validate(Id, ctx.params.id, "company id");
        const invitationId = validate(Id, ctx.params.invitationId, "invitation id");
        const user = await requireUser(req, deps.verifier);
        await run(user, async (tx) => {
          await requireCompanyRole(tx, id, "admin");
          const [row] = await tx`delete from public.company_invitations
                                  where company_id = ${id} and id = ${invitationId}
                                    and status = 'pending'
                                  returning id`;
          if (!row) throw new HttpError(404, "not_found", "No such open invitation.");
        });
        return new Response(null, { status: 204 });
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
