import { getDb } from "../../shared/db.ts";
import { loadEnv } from "../../shared/env.ts";
import { serve } from "../../shared/http.ts";
import { billingDepsFromEnv } from "./deps.ts";
import { createBillingHandler } from "./handler.ts";

Deno.serve(serve("billing", createBillingHandler(billingDepsFromEnv(loadEnv(), getDb))));
