import { getDb } from "../../shared/db.ts";
import { loadEnv } from "../../shared/env.ts";
import { serve } from "../../shared/http.ts";
import { walletDepsFromEnv } from "./deps.ts";
import { createWalletHandler } from "./handler.ts";

Deno.serve(serve("wallet", createWalletHandler(walletDepsFromEnv(loadEnv(), getDb))));
