import { getDb } from "../../shared/db.ts";
import { loadEnv } from "../../shared/env.ts";
import { serve } from "../../shared/http.ts";
import { webhooksDepsFromEnv } from "./deps.ts";
import { createWebhooksHandler } from "./handler.ts";

Deno.serve(serve("webhooks", createWebhooksHandler(webhooksDepsFromEnv(loadEnv(), getDb))));
