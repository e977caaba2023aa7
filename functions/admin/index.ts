import { getDb } from "../../shared/db.ts";
import { loadEnv } from "../../shared/env.ts";
import { serve } from "../../shared/http.ts";
import { adminDepsFromEnv } from "./deps.ts";
import { createAdminHandler } from "./handler.ts";

Deno.serve(serve("admin", createAdminHandler(adminDepsFromEnv(loadEnv(), getDb))));
