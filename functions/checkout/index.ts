import { verifierFromEnv } from "../../shared/auth.ts";
import { getDb } from "../../shared/db.ts";
import { loadEnv } from "../../shared/env.ts";
import { serve } from "../../shared/http.ts";
import { createRazorpayClient, razorpayConfigFromEnv } from "../../shared/payments/razorpay.ts";
import { createCheckoutHandler } from "./handler.ts";

const env = loadEnv();
const razorpay = razorpayConfigFromEnv(env);
Deno.serve(serve(
  "checkout",
  createCheckoutHandler({
    sql: getDb,
    verifier: verifierFromEnv(env),
    payments: razorpay && {
      client: createRazorpayClient(razorpay),
      keyId: razorpay.keyId,
      keySecret: razorpay.keySecret,
    },
  }),
));
