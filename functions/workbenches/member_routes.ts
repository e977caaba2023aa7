/**
 * Workbench routes for who has access and for the workbench itself:
 *
 * - `GET /workbenches/{id}/members`: everyone with a role (viewers and up), with why they have it;
 * - `POST /workbenches/{id}/members` `{user_id, role}`: an explicit role, by a manager;
 * - `PATCH /workbenches/{id}/members/{userId}` `{role}`: change it, by a manager;
 * - `DELETE /workbenches/{id}/members/{userId}` (or `DELETE .../members` with `{user_id}`): remove
 *   it, by a manager or the member themselves;
 * - `PATCH /workbenches/{id}` `{name?, description?}`: editors;
 * - `DELETE /workbenches/{id}`: managers; files and chunks cascade, stored objects are collected by
 *   storage_gc.
 *
 * Managers are the workbench's owners and, on a company workbench, the company's admins and owners.
 * Roles only raise (an explicit row never lowers the company-derived role). An explicit role goes
 * to a member of the workbench's company, or on a personal workbench to someone who shares a
 * company with the manager. Every statement runs as the caller, so RLS applies the same rules; the
 * checks here only choose the status code (404 without access, 403 below the role needed).
 */
import { z } from "zod";
import { type AuthenticatedUser, requireUser } from "../../shared/auth.ts";
import { asCaller, type Tx } from "../../shared/db.ts";
import { HttpError, json, readJson, readQuery, type Route, validate } from "../../shared/http.ts";
import { listBody, paged, PageQuery } from "../../shared/pagination.ts";
import { nameSchema, textSchema } from "../../shared/validation.ts";
import type { WorkbenchesDeps } from "./deps.ts";
import { listOf } from "../../shared/route_doc.ts";
import { ExplicitRole, Workbench, WorkbenchMember } from "./schemas.ts";

type Role = "owner" | "editor" | "viewer";
const RANK: Record<Role, number> = { viewer: 0, editor: 1, owner: 2 };
const NOT_FOUND = "Workbench not found.";

const Id = z.uuid();
const RoleInput = z.enum(["owner", "editor", "viewer"]);
const AddMember = z.object({ user_id: z.uuid(), role: RoleInput });
const ChangeRole = z.object({ role: RoleInput });
const UserIdInput = z.object({ user_id: z.uuid() });
const WorkbenchPatch = z.object({
  name: nameSchema(200).optional(),
  description: textSchema(2000).nullable().optional(),
}).refine((v) => v.name !== undefined || v.description !== undefined, {
  message: "Give a name or a description to change.",
});

interface Access {
  role: Role;
  manages: boolean;
}

/** The caller's access to a workbench; 404 when they have none. */
async function accessTo(tx: Tx, workbenchId: string): Promise<Access> {
  const [row] = await tx`select public.workbench_role(${workbenchId}) as role,
                                public.can_manage_workbench(${workbenchId}) as manages`;
  if (!row.role) throw new HttpError(404, "not_found", NOT_FOUND);
  return { role: row.role as Role, manages: row.manages as boolean };
}

function requireManager(access: Access): void {
  if (!access.manages) {
    throw new HttpError(
      403,
      "forbidden",
      "Only the workbench's owners and its company's admins manage it.",
    );
  }
}

function requireAtLeast(access: Access, min: Role): void {
  if (RANK[access.role] < RANK[min]) {
    throw new HttpError(
      403,
      "forbidden",
      `This needs the ${min} role on the workbench; you are a ${access.role}.`,
    );
  }
}

export function memberRoutes(deps: WorkbenchesDeps): Route[] {
  const run = <T>(user: AuthenticatedUser, fn: (tx: Tx) => Promise<T>): Promise<T> =>
    asCaller(deps.sql(), user.claims, fn, NOT_FOUND);

  /** The signed-in caller and the validated workbench id. */
  const caller = async (req: Request, rawId: string) => ({
    user: await requireUser(req, deps.verifier),
    id: validate(Id, rawId, "workbench id"),
  });

  async function removeMember(user: AuthenticatedUser, id: string, rawUserId: string) {
    const userId = validate(Id, rawUserId, "user id");
    await run(user, async (tx) => {
      const access = await accessTo(tx, id);
      if (userId !== user.id) requireManager(access);
      const [row] = await tx`delete from public.workbench_members
                              where workbench_id = ${id} and user_id = ${userId}
                              returning user_id`;
      if (!row) throw new HttpError(404, "not_found", "That user has no explicit role here.");
    });
    return new Response(null, { status: 204 });
  }

  return [
    {
      method: "PATCH",
      pattern: "/:id",
      doc: {
        summary: "Rename or describe a workbench (editor, owner)",
        auth: "user",
        body: WorkbenchPatch,
        responses: { 200: { description: "The workbench", schema: Workbench } },
        errors: { 403: ["forbidden"], 404: ["not_found"] },
      },
      handler: async (req, ctx) => {
        const { user, id } = await caller(req, ctx.params.id);
        const input = await readJson(req, WorkbenchPatch);
        const row = await run(user, async (tx) => {
          requireAtLeast(await accessTo(tx, id), "editor");
          const [w] = await tx`
            update public.workbench
               set name = coalesce(${input.name ?? null}, name),
                   description = case when ${input.description !== undefined}
                                      then ${input.description ?? null} else description end
             where id = ${id}
            returning id, name, description, owner_user_id, company_id, created_at, updated_at,
                      public.workbench_role(id) as role`;
          return w;
        });
        if (!row) throw new HttpError(404, "not_found", NOT_FOUND);
        return json(row);
      },
    },
    {
      method: "DELETE",
      pattern: "/:id",
      doc: {
        summary: "Delete a workbench with its files and chunks (owner, company admin)",
        auth: "user",
        responses: { 204: { description: "Deleted" } },
        errors: { 403: ["forbidden"], 404: ["not_found"] },
      },
      handler: async (req, ctx) => {
        const { user, id } = await caller(req, ctx.params.id);
        await run(user, async (tx) => {
          requireManager(await accessTo(tx, id));
          // Files and chunks cascade; the files' delete trigger queues their stored objects on
          // storage_gc, which the index worker empties.
          const [row] = await tx`delete from public.workbench where id = ${id} returning id`;
          if (!row) throw new HttpError(404, "not_found", NOT_FOUND);
        });
        return new Response(null, { status: 204 });
      },
    },
    {
      method: "GET",
      pattern: "/:id/members",
      doc: {
        summary: "Everyone with access and their effective role (any role)",
        auth: "user",
        query: PageQuery,
        responses: { 200: { description: "A page of members", schema: listOf(WorkbenchMember) } },
        errors: { 404: ["not_found"] },
      },
      handler: async (req, ctx) => {
        const { user, id } = await caller(req, ctx.params.id);
        const page = readQuery(ctx.url, PageQuery);
        const members = await run(user, async (tx) => {
          await accessTo(tx, id);
          return [
            ...await tx`select user_id, email, role, explicit_role, company_role, is_creator
                          from public.workbench_member_list(${id})
                         order by is_creator desc, email, user_id
                         limit ${page.limit + 1} offset ${page.offset}`,
          ];
        });
        return json(listBody(paged(members, page), "members"));
      },
    },
    {
      method: "POST",
      pattern: "/:id/members",
      doc: {
        summary: "Give a member of the company an explicit role (owner, company admin)",
        auth: "user",
        body: AddMember,
        bodyExample: { user_id: "7d0b3c5e-0c1a-4a57-9d39-2f5c3b8e9a10", role: "editor" },
        responses: { 201: { description: "The explicit role", schema: ExplicitRole } },
        errors: {
          403: ["forbidden"],
          404: ["not_found", "user_not_found"],
          409: ["already_member"],
        },
      },
      handler: async (req, ctx) => {
        const { user, id } = await caller(req, ctx.params.id);
        const input = await readJson(req, AddMember);
        const member = await run(user, async (tx) => {
          requireManager(await accessTo(tx, id));
          const [{ allowed }] = await tx`
            select public.can_grant_workbench_role(${id}, ${input.user_id}) as allowed`;
          if (!allowed) {
            // The same answer for an unknown id and for someone the caller does not work with.
            throw new HttpError(
              404,
              "user_not_found",
              "No member of this workbench's company (or of your companies) has that id.",
            );
          }
          const [row] = await tx`
            insert into public.workbench_members (workbench_id, user_id, role)
            values (${id}, ${input.user_id}, ${input.role})
            on conflict (workbench_id, user_id) do nothing
            returning workbench_id, user_id, role, created_at`;
          if (!row) {
            throw new HttpError(
              409,
              "already_member",
              "That user already has an explicit role here; PATCH it instead.",
            );
          }
          return row;
        });
        return json(member, 201);
      },
    },
    {
      method: "PATCH",
      pattern: "/:id/members/:userId",
      doc: {
        summary: "Change an explicit role (owner, company admin)",
        auth: "user",
        body: ChangeRole,
        responses: { 200: { description: "The explicit role", schema: ExplicitRole } },
        errors: { 403: ["forbidden"], 404: ["not_found"] },
      },
      handler: async (req, ctx) => {
        const { user, id } = await caller(req, ctx.params.id);
        const userId = validate(Id, ctx.params.userId, "user id");
        const { role } = await readJson(req, ChangeRole);
        const member = await run(user, async (tx) => {
          requireManager(await accessTo(tx, id));
          const [row] = await tx`update public.workbench_members set role = ${role}
                                  where workbench_id = ${id} and user_id = ${userId}
                                  returning workbench_id, user_id, role, created_at`;
          if (!row) throw new HttpError(404, "not_found", "That user has no explicit role here.");
          return row;
        });
        return json(member);
      },
    },
    {
      method: "DELETE",
      pattern: "/:id/members/:userId",
      doc: {
        summary: "Remove an explicit role (owner, company admin, or yourself)",
        auth: "user",
        responses: { 204: { description: "Removed" } },
        errors: { 403: ["forbidden"], 404: ["not_found"] },
      },
      handler: async (req, ctx) => {
        const { user, id } = await caller(req, ctx.params.id);
        return removeMember(user, id, ctx.params.userId);
      },
    },
    {
      // The contract's form: DELETE /workbenches/{id}/members with {"user_id": ...}.
      method: "DELETE",
      pattern: "/:id/members",
      doc: {
        summary: "Remove the explicit role of the user named in the body",
        auth: "user",
        body: UserIdInput,
        responses: { 204: { description: "Removed" } },
        errors: { 403: ["forbidden"], 404: ["not_found"] },
      },
      handler: async (req, ctx) => {
        const { user, id } = await caller(req, ctx.params.id);
        const { user_id } = await readJson(req, UserIdInput);
        return removeMember(user, id, user_id);
      },
    },
  ];
}
