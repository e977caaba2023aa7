import { getDb } from "../../shared/db.ts";
import { loadEnv } from "../../shared/env.ts";
import { serve } from "../../shared/http.ts";
import { indexWorkerDepsFromEnv } from "./deps.ts";
import { createIndexWorkerHandler } from "./handler.ts";

Deno.serve(
  serve("index-worker", createIndexWorkerHandler(indexWorkerDepsFromEnv(loadEnv(), getDb))),
);
