import { getDb } from "../../shared/db.ts";
import { loadEnv } from "../../shared/env.ts";
import { serve } from "../../shared/http.ts";
import { readyzDepsFromEnv } from "./deps.ts";
import { createReadyzHandler } from "./handler.ts";

Deno.serve(serve("readyz", createReadyzHandler(readyzDepsFromEnv(loadEnv(), getDb))));
