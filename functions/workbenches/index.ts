import { getDb } from "../../shared/db.ts";
import { loadEnv } from "../../shared/env.ts";
import { serve } from "../../shared/http.ts";
import { workbenchesDepsFromEnv } from "./deps.ts";
import { createWorkbenchesHandler } from "./handler.ts";

Deno.serve(
  serve("workbenches", createWorkbenchesHandler(workbenchesDepsFromEnv(loadEnv(), getDb))),
);
