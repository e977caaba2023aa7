/**
 * Companies: create, list (with the caller's role), rename, manage members and invite new ones.
 * Every query runs as the caller (RLS and the SECURITY DEFINER RPCs decide); other tenants'
 * companies are 404. Membership comes only by invitation (the invitee accepts through the
 * `invitations` function); owners only from an owner promoting a member. No answer depends on
 * whether an email has an account: inviting never looks the email up.
 *
 * - company_routes.ts: `POST /`, `GET /`, `PATCH /:id`
 * - member_routes.ts: `GET /:id/members`, `PATCH /:id/members/:userId`,
 *   `DELETE /:id/members/:userId`, `DELETE /:id/members`
 * - invitation_routes.ts: `POST /:id/invitations` (mails the invitation link with its secret
 *   token), `GET /:id/invitations`, `DELETE /:id/invitations/:invitationId`
 * - audit_route.ts: `GET /:id/audit` (the company's audit trail, owners and admins)
 *
 * access.ts checks the caller's company role; deps.ts is what the routes need
 * (`companiesDepsFromEnv()` for index.ts).
 */
import { router } from "../../shared/http.ts";
import { auditRoute } from "./audit_route.ts";
import { companyRoutes } from "./company_routes.ts";
import type { CompaniesDeps } from "./deps.ts";
import { invitationRoutes } from "./invitation_routes.ts";
import { memberRoutes } from "./member_routes.ts";

export function createCompaniesHandler(deps: CompaniesDeps) {
  return router([
    ...companyRoutes(deps),
    ...memberRoutes(deps),
    ...invitationRoutes(deps),
    auditRoute(deps),
  ]);
}
