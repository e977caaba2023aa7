import { serve } from "../../shared/http.ts";
import { healthzHandler } from "./handler.ts";

Deno.serve(serve("healthz", healthzHandler));
