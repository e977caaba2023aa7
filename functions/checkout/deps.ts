/** What the checkout routes need, and the 503 when Razorpay is not configured. */
import { type JwtVerifier, verifierFromEnv } from "../../shared/auth.ts";
import type { Sql } from "../../shared/db.ts";
import type { Env } from "../../shared/env.ts";
import { HttpError } from "../../shared/http.ts";
import {
  createRazorpayClient,
  type RazorpayClient,
  razorpayConfigFromEnv,
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
  return {
    sql,
    verifier: verifierFromEnv(env),
    payments: razorpay && {
      client: createRazorpayClient(razorpay),
      keyId: razorpay.keyId,
      keySecret: razorpay.keySecret,
    },
  };
}
