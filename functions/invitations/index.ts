import { getDb } from "../../shared/db.ts";
import { loadEnv } from "../../shared/env.ts";
import { serve } from "../../shared/http.ts";
import { invitationsDepsFromEnv } from "./deps.ts";
import { createInvitationsHandler } from "./handler.ts";

Deno.serve(
  serve("invitations", createInvitationsHandler(invitationsDepsFromEnv(loadEnv(), getDb))),
);
