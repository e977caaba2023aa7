/**
 * `GET /invitations`, `POST /invitations/{id}/accept`, `POST /invitations/{id}/decline`: the
 * invitee's side of company invitations. List one's open company invitations (matched by one's
 * verified email), accept or decline one with `{token}`, the secret of the invitation link mailed
 * to the invited address: a matching confirmed email alone is not enough, since a project that
 * confirms no email lets anyone sign up with the invitee's address. The database decides (SECURITY
 * DEFINER RPCs called as the caller): someone else's invitation is 404 like one that does not
 * exist; a wrong token is 403 `invitation_token_invalid` (and tells nothing more); a used one is
 * 409; an expired one is 410.
 */
import { z } from "zod";
import { type AuthenticatedUser, requireUser } from "../../shared/auth.ts";
import { asCaller, type Tx } from "../../shared/db.ts";
import { HttpError, json, readJson, readQuery, type Route, validate } from "../../shared/http.ts";
import { listBody, paged, PageQuery } from "../../shared/pagination.ts";
import type { InvitationsDeps } from "./deps.ts";
import { listOf, Timestamp } from "../../shared/route_doc.ts";

const MyInvitation = z.object({
  id: z.uuid(),
  company_id: z.uuid(),
  company_name: z.string(),
  role: z.enum(["admin", "member"]),
  created_at: Timestamp,
  expires_at: Timestamp,
});
const Membership = z.object({
  company_id: z.uuid(),
  role: z.enum(["admin", "member"]),
  company_name: z.string().nullable(),
});
const ANSWER_ERRORS = {
  403: ["invitation_token_invalid"],
  404: ["not_found"],
  409: ["invitation_used"],
  410: ["invitation_expired"],
};

const Id = z.uuid();
/** The token of the invitation link (`#invitation=…&token=…`); 43 characters as we make them. */
const Answer = z.object({
  token: z.string({ message: "The invitation link's token is required." }).min(1).max(256),
});
const NOT_FOUND = "Invitation not found.";

/** The RPCs' PostgREST-style SQLSTATEs as HTTP errors. */
function invitationError(err: unknown): unknown {
  switch ((err as { code?: string })?.code) {
    case "PT404":
      return new HttpError(404, "not_found", NOT_FOUND);
    case "PT403":
      return new HttpError(
        403,
        "invitation_token_invalid",
        "This invitation link is not valid: open the link from the invitation email.",
      );
    case "PT409":
      return new HttpError(409, "invitation_used", "This invitation was already answered.");
    case "PT410":
      return new HttpError(
        410,
        "invitation_expired",
        "This invitation has expired; ask for a new one.",
      );
    default:
      return err;
  }
}

export function invitationRoutes(deps: InvitationsDeps): Route[] {
  const run = async <T>(user: AuthenticatedUser, fn: (tx: Tx) => Promise<T>): Promise<T> => {
    try {
      return await asCaller(deps.sql(), user.claims, fn, NOT_FOUND);
    } catch (err) {
      throw invitationError(err);
    }
  };

  return [
    {
      method: "GET",
      pattern: "/",
      doc: {
        summary: "The caller's open invitations (matched by confirmed email)",
        auth: "user",
        query: PageQuery,
        responses: { 200: { description: "A page of invitations", schema: listOf(MyInvitation) } },
      },
      handler: async (req, ctx) => {
        const user = await requireUser(req, deps.verifier);
        const page = readQuery(ctx.url, PageQuery);
        const invitations = await run(user, async (tx) => [
          ...await tx`select id, company_id, company_name, role, created_at, expires_at
                        from public.my_company_invitations()
                       order by created_at desc, id
                       limit ${page.limit + 1} offset ${page.offset}`,
        ]);
        return json(listBody(paged(invitations, page), "invitations"));
      },
    },
    {
      method: "POST",
      pattern: "/:id/accept",
      doc: {
        summary: "Accept an invitation with the mailed link's token",
        auth: "user",
        body: Answer,
        bodyExample: { token: "q3V8cV9e2sZbW1xYk4m0Qw" },
        responses: { 200: { description: "The new membership", schema: Membership } },
        errors: ANSWER_ERRORS,
      },
      handler: async (req, ctx) => {
        const user = await requireUser(req, deps.verifier);
        const id = validate(Id, ctx.params.id, "invitation id");
        const { token } = await readJson(req, Answer);
        const membership = await run(user, async (tx) => {
          const [{ joined }] = await tx`
            select public.accept_company_invitation(${id}, ${token}) as joined`;
          const [company] =
            await tx`select name from public.company where id = ${joined.company_id}`;
          return { ...joined, company_name: company?.name ?? null };
        });
        return json(membership);
      },
    },
    {
      method: "POST",
      pattern: "/:id/decline",
      doc: {
        summary: "Decline an invitation with the mailed link's token",
        auth: "user",
        body: Answer,
        responses: { 204: { description: "Declined" } },
        errors: ANSWER_ERRORS,
      },
      handler: async (req, ctx) => {
        const user = await requireUser(req, deps.verifier);
        const id = validate(Id, ctx.params.id, "invitation id");
        const { token } = await readJson(req, Answer);
        await run(user, (tx) => tx`select public.decline_company_invitation(${id}, ${token})`);
        return new Response(null, { status: 204 });
      },
    },
  ];
}
