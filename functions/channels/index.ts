import { getDb } from "../../shared/db.ts";
import { loadEnv } from "../../shared/env.ts";
import { serve } from "../../shared/http.ts";
import { channelsDepsFromEnv } from "./deps.ts";
import { createChannelsHandler } from "./handler.ts";

Deno.serve(serve("channels", createChannelsHandler(channelsDepsFromEnv(loadEnv(), getDb))));
