import { getDb } from "../../shared/db.ts";
import { serve } from "../../shared/http.ts";
import { plansDepsFromEnv } from "./deps.ts";
import { createPlansHandler } from "./handler.ts";

Deno.serve(serve("plans", createPlansHandler(plansDepsFromEnv(getDb))));
