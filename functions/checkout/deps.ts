/** What the checkout routes need, and the 503 when Razorpay is not configured. */
import { type JwtVerifier, verifierFromEnv } from "../../shared/auth.ts";
import type { Sql } from "../../shared/db.ts";
import type { Env } from "../../shared/env.ts";
import { HttpError } from "../../shared/http.ts";
import {
  createRazorpayClient,
  createStripeClient,
  type RazorpayClient,
  razorpayConfigFromEnv,
  type StripeClient,
  stripeConfigFromEnv,
} from "../../shared/payments/mod.ts";

export interface CheckoutPayments {
  client: RazorpayClient;
  keyId: string;
  keySecret: string;
}

export interface CheckoutDeps {
  sql: () => Sql;
  verifier: JwtVerifier;
  /** Undefined when the Razorpay keys are not configured. */
  payments?: CheckoutPayments;
  /** Undefined when STRIPE_SECRET_KEY is not configured. */
  stripe?: StripeClient;
  /** Where Stripe Checkout sends the buyer back to (BILLING_RETURN_URL; tests may leave it). */
  returnUrl?: string;
}

export function requirePayments(deps: CheckoutDeps): CheckoutPayments {
  if (!deps.payments) {
    throw new HttpError(
      503,
      "payments_not_configured",
      "Payments are not configured on this deployment (RAZORPAY_KEY_ID / RAZORPAY_KEY_SECRET).",
    );
  }
  return deps.payments;
}

/** The function's dependencies from its environment (index.ts; tests without Razorpay keys). */
export function checkoutDepsFromEnv(env: Env, sql: () => Sql): CheckoutDeps {
  const razorpay = razorpayConfigFromEnv(env);
  const stripe = stripeConfigFromEnv(env);
  return {
    sql,
    verifier: verifierFromEnv(env),
    payments: razorpay && {
      client: createRazorpayClient(razorpay),
      keyId: razorpay.keyId,
      keySecret: razorpay.keySecret,
    },
    stripe: stripe && createStripeClient(stripe),
    returnUrl: env.BILLING_RETURN_URL,
  };
}
