/** What the webhook routes need, and how index.ts builds it from the environment. */
import { type JwtVerifier, verifierFromEnv } from "../../shared/auth.ts";
import type { Sql } from "../../shared/db.ts";
import type { Env } from "../../shared/env.ts";
import {
  createRazorpayClient,
  createStripeClient,
  type RazorpayClient,
  razorpayConfigFromEnv,
  type StripeClient,
  stripeConfigFromEnv,
} from "../../shared/payments/mod.ts";

export interface WebhooksDeps {
  sql: () => Sql;
  verifier: JwtVerifier;
  /** RAZORPAY_WEBHOOK_SECRET; webhooks answer 503 without it (Razorpay retries). */
  webhookSecret?: string;
  /** The Razorpay API, for reconciliation; undefined without keys. */
  razorpay?: RazorpayClient;
  /** STRIPE_WEBHOOK_SECRET; `/webhooks/stripe` answers 503 without it. */
  stripeWebhookSecret?: string;
  /** The Stripe API, for reconciliation; undefined without STRIPE_SECRET_KEY. */
  stripe?: StripeClient;
}

/** The function's dependencies from its environment (index.ts; tests without Razorpay keys). */
export function webhooksDepsFromEnv(env: Env, sql: () => Sql): WebhooksDeps {
  const razorpay = razorpayConfigFromEnv(env);
  const stripe = stripeConfigFromEnv(env);
  return {
    sql,
    verifier: verifierFromEnv(env),
    webhookSecret: env.RAZORPAY_WEBHOOK_SECRET,
    razorpay: razorpay && createRazorpayClient(razorpay),
    stripeWebhookSecret: env.STRIPE_WEBHOOK_SECRET,
    stripe: stripe && createStripeClient(stripe),
  };
}
