/**
 * `POST`, `GET /companies/{id}/invitations` and `DELETE /companies/{id}/invitations/{invitationId}`
 * (admins). Inviting never looks the email up: no answer depends on whether it has an account.
 *
 * Every invitation carries a secret token (32 random bytes) that answering it needs: a confirmed
 * email alone proves nothing on a project that confirms no email, where anyone can sign up with
 * the invitee's address. The token goes only to the invited address, as a link in a mail sent
 * before the invitation commits (a mail that fails leaves nothing saved: 502); the database keeps
 * only its SHA-256. Without a mail provider, inviting answers 503 `mail_not_configured`, unless
 * `INVITATION_LINK_IN_RESPONSE=true` says to hand the link to the inviting admin instead
 * (`invite_link` in the 201 answer), who passes it on.
 */
import { z } from "zod";
import { requireUser } from "../../shared/auth.ts";
import { HttpError, json, readJson, readQuery, type Route, validate } from "../../shared/http.ts";
import { log } from "../../shared/log.ts";
import { escapeHtml, type Mail } from "../../shared/mail.ts";
import { listBody, paged, PageQuery } from "../../shared/pagination.ts";
import { forwardClientIp } from "../../shared/rate_limit.ts";
import { Id, requireCompanyRole, runAs } from "./access.ts";
import type { CompaniesDeps } from "./deps.ts";
import { listOf } from "../../shared/route_doc.ts";
import { CreatedInvitation, ListedInvitation } from "./schemas.ts";

const InvitationInput = z.object({
  email: z.email().max(320),
  role: z.enum(["admin", "member"], {
    message: "Invite as admin or member; owners come from an owner promoting a member.",
  }).default("member"),
});
const INVITATION_COLUMNS = "id, company_id, email, role, status, created_at, expires_at";

function base64url(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes)).replaceAll("+", "-").replaceAll("/", "_")
    .replace(/=+$/, "");
}

/** A fresh invitation token (256 random bits, base64url) and the SHA-256 of its UTF-8 text. */
async function newInvitationToken(): Promise<{ token: string; hashHex: string }> {
  const token = base64url(crypto.getRandomValues(new Uint8Array(32)));
  const hash = new Uint8Array(
    await crypto.subtle.digest("SHA-256", new TextEncoder().encode(token)),
  );
  return { token, hashHex: Array.from(hash, (b) => b.toString(16).padStart(2, "0")).join("") };
}

/**
 * The link the invitee opens: the frontend page with the invitation id and token in the fragment,
 * which browsers send to no server (no access log or Referer holds the token).
 */
function invitationLink(linkUrl: string, invitationId: string, token: string): string {
  const url = new URL(linkUrl);
  url.hash = new URLSearchParams({ invitation: invitationId, token }).toString();
  return url.toString();
}

function invitationMail(
  to: string,
  companyName: string,
  role: string,
  link: string,
  expiresAt: Date,
): Omit<Mail, "idempotencyKey"> {
  const expires = expiresAt.toISOString().slice(0, 10);
  return {
    to,
    subject: `You are invited to join ${companyName}`,
    text: `You are invited to join ${companyName} as ${role}.\n\n` +
      `Open this link to accept (it works once, until ${expires}):\n${link}\n\n` +
      "If you did not expect this invitation, ignore this mail.\n",
    html:
      `<p>You are invited to join <b>${escapeHtml(companyName)}</b> as ${escapeHtml(role)}.</p>` +
      `<p><a href="${
        escapeHtml(link)
      }">Accept the invitation</a> (it works once, until ${expires}).` +
      "</p><p>If you did not expect this invitation, ignore this mail.</p>",
  };
}

export function invitationRoutes(deps: CompaniesDeps): Route[] {
  const run = runAs(deps);

  return [
    {
      method: "POST",
      pattern: "/:id/invitations",
      doc: {
        summary: "Invite an email to the company (admin); the link is mailed",
        auth: "user",
        body: InvitationInput,
        bodyExample: { email: "new.hire@example.com", role: "member" },
        responses: { 201: { description: "The invitation", schema: CreatedInvitation } },
        errors: {
          403: ["forbidden"],
          404: ["not_found"],
          409: ["already_member"],
          429: ["rate_limited"],
          502: ["mail_failed"],
          503: ["mail_not_configured"],
        },
      },
      handler: async (req, ctx) => {
        const id = validate(Id, ctx.params.id, "company id");
        const user = await requireUser(req, deps.verifier);
        const input = await readJson(req, InvitationInput);
        const { mailer, linkUrl, linkInResponse } = deps.invitations;
        if (!mailer && !linkInResponse) {
          throw new HttpError(
            503,
            "mail_not_configured",
            "Invitations are sent by email and no mail provider is configured (MAIL_API_KEY).",
          );
        }
        const { token, hashHex } = await newInvitationToken();
        const { invitation, link } = await run(user, async (tx) => {
          await requireCompanyRole(tx, id, "admin");
          await forwardClientIp(tx, req); // the insert takes the `invitations` token (a trigger)
          const [row] = await tx`
            select ${tx.unsafe(INVITATION_COLUMNS)}
              from public.invite_to_company(${id}, ${input.email}, ${input.role},
                                            decode(${hashHex}, 'hex'))`.catch(
            (err) => {
              if ((err as { code?: string })?.code !== "23505") throw err;
              throw new HttpError(409, "already_member", "That email is already a member's.");
            },
          );
          const link = invitationLink(linkUrl, row.id, token);
          if (mailer) {
            // Sent before the invitation commits: a mail that fails leaves nothing saved.
            const [company] = await tx`select name from public.company where id = ${id}`;
            const mail = invitationMail(row.email, company.name, row.role, link, row.expires_at);
            await mailer.send({
              ...mail,
              idempotencyKey: `invitation/${row.id}/${hashHex.slice(0, 16)}`,
            }).catch((err) => {
              log.error("invitation mail failed", { invitation_id: row.id, error: String(err) });
              throw new HttpError(
                502,
                "mail_failed",
                "The invitation email could not be sent, so nothing was saved; try again.",
              );
            });
          }
          return { invitation: row, link };
        });
        if (mailer) return json(invitation, 201);
        return json({ ...invitation, invite_link: link }, 201);
      },
    },
    {
      method: "GET",
      pattern: "/:id/invitations",
      doc: {
        summary: "Open invitations (admin)",
        auth: "user",
        query: PageQuery,
        responses: {
          200: { description: "A page of invitations", schema: listOf(ListedInvitation) },
        },
        errors: { 403: ["forbidden"], 404: ["not_found"] },
      },
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
        return json(listBody(paged(rows, page), "invitations"));
      },
    },
    {
      method: "DELETE",
      pattern: "/:id/invitations/:invitationId",
      doc: {
        summary: "Revoke an open invitation (admin)",
        auth: "user",
        responses: { 204: { description: "Revoked" } },
        errors: { 403: ["forbidden"], 404: ["not_found"] },
      },
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
