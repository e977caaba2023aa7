/**
 * `POST`, `GET /companies/{id}/invitations` and `DELETE /companies/{id}/invitations/{invitationId}`
 * (admins). Inviting never looks the email up: no answer depends on whether it has an account.
 */
import { z } from "zod";
import { requireUser } from "../../shared/auth.ts";
import { HttpError, json, readJson, readQuery, type Route, validate } from "../../shared/http.ts";
import { paged, PageQuery } from "../../shared/pagination.ts";
import { forwardClientIp } from "../../shared/rate_limit.ts";
import { Id, requireCompanyRole, runAs } from "./access.ts";
import type { CompaniesDeps } from "./deps.ts";

const InvitationInput = z.object({
  email: z.email().max(320),
  role: z.enum(["admin", "member"], {
    message: "Invite as admin or member; owners come from an owner promoting a member.",
  }).default("member"),
});
const INVITATION_COLUMNS = "id, company_id, email, role, status, created_at, expires_at";

export function invitationRoutes(deps: CompaniesDeps): Route[] {
  const run = runAs(deps);

  return [
    {
      method: "POST",
      pattern: "/:id/invitations",
      handler: async (req, ctx) => {
        const id = validate(Id, ctx.params.id, "company id");
        const user = await requireUser(req, deps.verifier);
        const input = await readJson(req, InvitationInput);
        const invitation = await run(user, async (tx) => {
          await requireCompanyRole(tx, id, "admin");
          await forwardClientIp(tx, req); // the insert takes the `invitations` token (a trigger)
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
  ];
}
