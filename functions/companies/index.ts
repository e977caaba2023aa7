import { getDb } from "../../shared/db.ts";
import { loadEnv } from "../../shared/env.ts";
import { serve } from "../../shared/http.ts";
import { companiesDepsFromEnv } from "./deps.ts";
import { createCompaniesHandler } from "./handler.ts";

Deno.serve(serve("companies", createCompaniesHandler(companiesDepsFromEnv(loadEnv(), getDb))));
