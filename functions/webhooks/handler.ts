/**
 * The `webhooks` function:
 *
 * - `POST /webhooks/razorpay` (no JWT; Razorpay signs the body): razorpay_route.ts;
 * - `POST /webhooks/reconcile` (service role only; the pg_cron job `payments-reconcile` calls it
 *   through pg_net): reconcile_route.ts.
 */
import { type JwtVerifier, verifierFromEnv } from "../../shared/auth.ts";
import type { Sql } from "../../shared/db.ts";
import type { Env } from "../../shared/env.ts";
import { router } from "../../shared/http.ts";
import {
  createRazorpayClient,
  type RazorpayClient,
  razorpayConfigFromEnv,
} from "../../shared/payments/razorpay.ts";
import { razorpayRoute } from "./razorpay_route.ts";
import { reconcileRoute } from "./reconcile_route.ts";

export interface WebhooksDeps {
  sql: () => Sql;
  verifier: JwtVerifier;
  /** RAZORPAY_WEBHOOK_SECRET; webhooks answer 503 without it (Razorpay retries). */
  webhookSecret?: string;
  /** The Razorpay API, for reconciliation; undefined without keys. */
  razorpay?: RazorpayClient;
}

export function createWebhooksHandler(deps: WebhooksDeps) {
  return router([razorpayRoute(deps), reconcileRoute(deps)]);
}

/** The function's dependencies from its environment (index.ts; tests without Razorpay keys). */
export function webhooksDepsFromEnv(env: Env, sql: () => Sql): WebhooksDeps {
  const razorpay = razorpayConfigFromEnv(env);
  return {
    sql,
    verifier: verifierFromEnv(env),
    webhookSecret: env.RAZORPAY_WEBHOOK_SECRET,
    razorpay: razorpay && createRazorpayClient(razorpay),
  };
}
