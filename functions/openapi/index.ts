import { serve } from "../../shared/http.ts";
import { openapiDepsFromEnv } from "./deps.ts";
import { createOpenapiHandler } from "./handler.ts";

Deno.serve(serve("openapi", createOpenapiHandler(openapiDepsFromEnv())));
