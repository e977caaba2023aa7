/**
 * The `invitations` function: the invitee's side of company invitations (invitation_routes.ts):
 * list, accept, decline. The inviter's side is in the `companies` function.
 */
import { router } from "../../shared/http.ts";
import type { InvitationsDeps } from "./deps.ts";
import { invitationRoutes } from "./invitation_routes.ts";

export function createInvitationsHandler(deps: InvitationsDeps) {
  return router(invitationRoutes(deps));
}
