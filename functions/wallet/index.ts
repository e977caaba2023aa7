import { verifierFromEnv } from "../../shared/auth.ts";
import { getDb } from "../../shared/db.ts";
import { loadEnv } from "../../shared/env.ts";
import { serve } from "../../shared/http.ts";
import { createWalletHandler } from "./handler.ts";

const env = loadEnv();
Deno.serve(serve("wallet", createWalletHandler({ sql: getDb, verifier: verifierFromEnv(env) })));
