import { getDb } from "../../shared/db.ts";
import { serve } from "../../shared/http.ts";
import { createReadyzHandler } from "./handler.ts";

Deno.serve(serve("readyz", createReadyzHandler({ sql: getDb })));
