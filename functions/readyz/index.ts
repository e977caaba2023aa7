import { verifierFromEnv } from "../../shared/auth.ts";
import { getDb } from "../../shared/db.ts";
import { loadEnv } from "../../shared/env.ts";
import { serve } from "../../shared/http.ts";
import { describeRuntimeConfig } from "../../shared/runtime_config.ts";
import { createReadyzHandler } from "./handler.ts";

const env = loadEnv();
Deno.serve(serve(
  "readyz",
  createReadyzHandler({
    sql: getDb,
    verifier: verifierFromEnv(env),
    config: describeRuntimeConfig(Deno.env.toObject()),
  }),
));
