import { getDb } from "../../shared/db.ts";
import { loadEnv } from "../../shared/env.ts";
import { serve } from "../../shared/http.ts";
import { metricsDepsFromEnv } from "./deps.ts";
import { createMetricsHandler } from "./handler.ts";

Deno.serve(serve("metrics", createMetricsHandler(metricsDepsFromEnv(loadEnv(), getDb))));
