/**
 * `GET /companies/{id}/members`, `PATCH /companies/{id}/members/{userId}` (owners are made only
 * here, by an owner promoting a member), `DELETE /companies/{id}/members/{userId}` and the
 * contract's `DELETE /companies/{id}/members {user_id}` (admins remove members, anyone leaves).
 */
import { z } from "zod";
import { type AuthenticatedUser, requireUser } from "../../shared/auth.ts";
import { HttpError, json, readJson, readQuery, type Route, validate } from "../../shared/http.ts";
import { listBody, paged, PageQuery } from "../../shared/pagination.ts";
import { Id, lastOwner, requireCompanyRole, runAs } from "./access.ts";
import type { CompaniesDeps } from "./deps.ts";
import { listOf } from "../../shared/route_doc.ts";
import { Member, MemberRole } from "./schemas.ts";

const RoleInput = z.object({ role: z.enum(["owner", "admin", "member"]) });
const UserIdInput = z.object({ user_id: z.uuid() });

export function memberRoutes(deps: CompaniesDeps): Route[] {
  const run = runAs(deps);

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

  return [
    {
      method: "GET",
      pattern: "/:id/members",
      doc: {
        summary: "The company's members (any member)",
        auth: "user",
        query: PageQuery,
        responses: { 200: { description: "A page of members", schema: listOf(Member) } },
        errors: { 404: ["not_found"] },
      },
      handler: async (req, ctx) => {
        const user = await requireUser(req, deps.verifier);
        const id = validate(Id, ctx.params.id, "company id");
        const page = readQuery(ctx.url, PageQuery);
        const members = await run(user, async (tx) => {
          await requireCompanyRole(tx, id, "member");
          return [
            ...await tx`select user_id, email, full_name, role, joined_at
                          from public.company_member_list(${id})
                         order by joined_at, user_id
                         limit ${page.limit + 1} offset ${page.offset}`,
          ];
        });
        return json(listBody(paged(members, page), "members"));
      },
    },
    {
      // Owners are made only here, by an owner promoting an existing member.
      method: "PATCH",
      pattern: "/:id/members/:userId",
      doc: {
        summary: "Change a member's role (admin; owner to make or change owners)",
        auth: "user",
        body: RoleInput,
        bodyExample: { role: "admin" },
        responses: { 200: { description: "The new role", schema: MemberRole } },
        errors: { 403: ["forbidden"], 404: ["not_found"], 409: ["last_owner"] },
      },
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
      method: "DELETE",
      pattern: "/:id/members/:userId",
      doc: {
        summary: "Remove a member, or leave (admin, owner for owners, or yourself)",
        auth: "user",
        responses: { 204: { description: "Removed" } },
        errors: { 403: ["forbidden"], 404: ["not_found"], 409: ["last_owner"] },
      },
      handler: async (req, ctx) =>
        removeMember(await requireUser(req, deps.verifier), ctx.params.id, ctx.params.userId),
    },
    {
      // The contract's form: DELETE /companies/{id}/members with {"user_id": ...}.
      method: "DELETE",
      pattern: "/:id/members",
      doc: {
        summary: "Remove a member named in the body (the contract's form)",
        auth: "user",
        body: UserIdInput,
        responses: { 204: { description: "Removed" } },
        errors: { 403: ["forbidden"], 404: ["not_found"], 409: ["last_owner"] },
      },
      handler: async (req, ctx) => {
        const user = await requireUser(req, deps.verifier);
        const { user_id } = await readJson(req, UserIdInput);
        return removeMember(user, ctx.params.id, user_id);
      },
    },
  ];
}
