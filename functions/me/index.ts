import { getDb } from "../../shared/db.ts";
import { loadEnv } from "../../shared/env.ts";
import { serve } from "../../shared/http.ts";
import { meDepsFromEnv } from "./deps.ts";
import { createMeHandler } from "./handler.ts";

Deno.serve(serve("me", createMeHandler(meDepsFromEnv(loadEnv(), getDb))));
