/** What the billing routes need, and how index.ts builds it from the environment. */
import { type JwtVerifier, verifierFromEnv } from "../../shared/auth.ts";
import type { Sql } from "../../shared/db.ts";
import type { Env } from "../../shared/env.ts";
import {
  createStripeClient,
  type StripeClient,
  stripeConfigFromEnv,
} from "../../shared/payments/mod.ts";
import { createObjectStore, type ObjectStore } from "../../shared/storage.ts";

/** Lifetime of a receipt's signed URL: short, as report downloads are; list again for a new one. */
export const RECEIPT_URL_TTL_SECONDS = 300;

export interface BillingDeps {
  sql: () => Sql;
  verifier: JwtVerifier;
  /** Undefined without STRIPE_SECRET_KEY: the portal answers 503, usage and invoices work. */
  stripe?: StripeClient;
  /** Receipts live here (the reports bucket, under `receipts/`). */
  store: ObjectStore;
  returnUrl: string;
  /** Seller details printed on receipts. */
  seller: { name: string; address: string; gstin?: string };
}

/** The function's dependencies from its environment (index.ts). */
export function billingDepsFromEnv(env: Env, sql: () => Sql): BillingDeps {
  const stripe = stripeConfigFromEnv(env);
  return {
    sql,
    verifier: verifierFromEnv(env),
    stripe: stripe && createStripeClient(stripe),
    store: createObjectStore(env.SUPABASE_URL, env.serviceKey),
    returnUrl: env.BILLING_RETURN_URL,
    seller: { name: "AI Analyst Workbench", address: "India" },
  };
}
