import { getDb } from "../../shared/db.ts";
import { loadEnv } from "../../shared/env.ts";
import { serve } from "../../shared/http.ts";
import { chatDepsFromEnv } from "./deps.ts";
import { createChatHandler } from "./handler.ts";

Deno.serve(serve("chat", createChatHandler(chatDepsFromEnv(loadEnv(), getDb))));
