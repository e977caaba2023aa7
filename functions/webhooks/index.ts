import { verifierFromEnv } from "../../shared/auth.ts";
import { getDb } from "../../shared/db.ts";
import { loadEnv } from "../../shared/env.ts";
import { serve } from "../../shared/http.ts";
import { createRazorpayClient, razorpayConfigFromEnv } from "../../shared/payments/razorpay.ts";
import { createWebhooksHandler } from "./handler.ts";

const env = loadEnv();
const razorpay = razorpayConfigFromEnv(env);
Deno.serve(serve(
  "webhooks",
  createWebhooksHandler({
    sql: getDb,
    verifier: verifierFromEnv(env),
    webhookSecret: env.RAZORPAY_WEBHOOK_SECRET,
    razorpay: razorpay && createRazorpayClient(razorpay),
  }),
));
