import { verifierFromEnv } from "../../shared/auth.ts";
import { getDb } from "../../shared/db.ts";
import { loadEnv } from "../../shared/env.ts";
import { serve } from "../../shared/http.ts";
import { createInvitationsHandler } from "./handler.ts";

const env = loadEnv();
const verifier = verifierFromEnv(env);
Deno.serve(serve("invitations", createInvitationsHandler({ sql: getDb, verifier })));
