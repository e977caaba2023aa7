import { getDb } from "../../shared/db.ts";
import { loadEnv } from "../../shared/env.ts";
import { serve } from "../../shared/http.ts";
import { reportsDepsFromEnv } from "./deps.ts";
import { createReportsHandler } from "./handler.ts";

Deno.serve(serve("reports", createReportsHandler(reportsDepsFromEnv(loadEnv(), getDb))));
