import { getDb } from "../../shared/db.ts";
import { loadEnv } from "../../shared/env.ts";
import { serve } from "../../shared/http.ts";
import { checkoutDepsFromEnv } from "./deps.ts";
import { createCheckoutHandler } from "./handler.ts";

Deno.serve(serve("checkout", createCheckoutHandler(checkoutDepsFromEnv(loadEnv(), getDb))));
