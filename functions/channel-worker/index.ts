import { getDb } from "../../shared/db.ts";
import { loadEnv } from "../../shared/env.ts";
import { serve } from "../../shared/http.ts";
import { channelWorkerDepsFromEnv } from "./deps.ts";
import { createChannelWorkerHandler } from "./handler.ts";

Deno.serve(
  serve("channel-worker", createChannelWorkerHandler(channelWorkerDepsFromEnv(loadEnv(), getDb))),
);
