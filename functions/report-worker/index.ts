import { getDb } from "../../shared/db.ts";
import { loadEnv } from "../../shared/env.ts";
import { serve } from "../../shared/http.ts";
import { reportWorkerDepsFromEnv } from "./deps.ts";
import { createReportWorkerHandler } from "./handler.ts";

Deno.serve(
  serve("report-worker", createReportWorkerHandler(reportWorkerDepsFromEnv(loadEnv(), getDb))),
);
