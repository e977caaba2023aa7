/** What the checkout routes need, and the 503 when Razorpay is not configured. */
import type { JwtVerifier } from "../../shared/auth.ts";
import type { Sql } from "../../shared/db.ts";
import { HttpError } from "../../shared/http.ts";
import type { RazorpayClient } from "../../shared/payments/razorpay.ts";

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
