import { verifierFromEnv } from "../../shared/auth.ts";
import { getDb } from "../../shared/db.ts";
import { loadEnv } from "../../shared/env.ts";
import { serve } from "../../shared/http.ts";
import { createObjectStore } from "../../shared/storage.ts";
import { createReportsHandler } from "./handler.ts";

const env = loadEnv();
Deno.serve(serve(
  "reports",
  createReportsHandler({
    sql: getDb,
    verifier: verifierFromEnv(env),
    store: createObjectStore(env.SUPABASE_URL, env.serviceKey),
    downloadTtlSeconds: env.REPORT_DOWNLOAD_TTL_SEC ?? 3600,
  }),
));
