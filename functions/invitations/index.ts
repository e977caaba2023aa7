import { createJwtVerifier } from "../../shared/auth.ts";
import { getDb } from "../../shared/db.ts";
import { loadEnv } from "../../shared/env.ts";
import { serve } from "../../shared/http.ts";
import { createInvitationsHandler } from "./handler.ts";

const env = loadEnv();
const verifier = createJwtVerifier({
  supabaseUrl: env.SUPABASE_URL,
  jwtSecret: env.SUPABASE_JWT_SECRET,
});
Deno.serve(serve("invitations", createInvitationsHandler({ sql: getDb, verifier })));
