import { verifierFromEnv } from "../../shared/auth.ts";
import { getDb } from "../../shared/db.ts";
import { embedderFromEnv } from "../../shared/embeddings.ts";
import { loadEnv } from "../../shared/env.ts";
import { serve } from "../../shared/http.ts";
import { llmFromConfig } from "../../shared/llm/groq.ts";
import { retrievalSettingsFromEnv } from "../../shared/retrieval/search.ts";
import { createChatHandler } from "./handler.ts";

const env = loadEnv();
const raw = Deno.env.toObject();
Deno.serve(serve(
  "chat",
  createChatHandler({
    sql: getDb,
    verifier: verifierFromEnv(env),
    embedder: embedderFromEnv(raw),
    llm: llmFromConfig(env),
    retrieval: retrievalSettingsFromEnv(raw),
  }),
));
