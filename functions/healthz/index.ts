import { serve } from "../../shared/http.ts";
import { healthzDepsFromEnv } from "./deps.ts";
import { createHealthzHandler } from "./handler.ts";

Deno.serve(serve("healthz", createHealthzHandler(healthzDepsFromEnv())));
