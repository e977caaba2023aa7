/**
 * The one Stripe API client: Customers, Checkout Sessions, Billing Portal sessions and the
 * invoices of a subscription (reconciliation), over `fetch` with the secret key as a Bearer token,
 * Stripe's form encoding (`a[b][0][c]=v`), an `Idempotency-Key` on every POST, a base URL from
 * `STRIPE_API_URL` (default https://api.stripe.com; tests aim it at a fake on loopback) and a
 * timeout. A failure of any kind is a `StripeError` (the caller answers 502).
 *
 * Why not the `stripe` package: it runs on fetch and Web Crypto (`createFetchHttpClient`,
 * `createSubtleCryptoProvider`) and `deno bundle` makes it ~770 KB, but a function is deployed
 * with the npm packages it reaches as whole folders, and stripe@23's folder (ESM and CJS builds of
 * every API resource) is 17.4 MB: with zod and the rest it takes a function past Supabase's 20 MB
 * (tests/platform/size_test.ts failed with it: billing 36.3 MB). These four calls are a page of
 * code with the same time-out and error shape as the Razorpay client. The package is used by the
 * tests, as the reference our signature check must agree with.
 */
import { z } from "zod";
import { HttpError } from "../http.ts";
import { providerCall } from "./provider_call.ts";

export interface StripeConfig {
  secretKey: string;
  apiBase: string;
  timeoutMs: number;
}

/** The Stripe settings of an environment, or undefined when the secret key is not configured. */
export function stripeConfigFromEnv(env: {
  STRIPE_SECRET_KEY?: string;
  STRIPE_API_URL: string;
  STRIPE_TIMEOUT_MS: number;
}): StripeConfig | undefined {
  if (!env.STRIPE_SECRET_KEY) return undefined;
  return {
    secretKey: env.STRIPE_SECRET_KEY,
    apiBase: env.STRIPE_API_URL,
    timeoutMs: env.STRIPE_TIMEOUT_MS,
  };
}

export class StripeError extends Error {
  constructor(
    message: string,
    /** HTTP status from Stripe; undefined for a time-out or a network failure. */
    readonly status?: number,
    readonly code?: string,
  ) {
    super(message);
    this.name = "StripeError";
  }
}

const Customer = z.object({ id: z.string().min(1), object: z.literal("customer") }).loose();
const CheckoutSession = z.object({
  id: z.string().min(1),
  object: z.literal("checkout.session"),
  url: z.string().nullable(),
  mode: z.string(),
}).loose();
const PortalSession = z.object({
  id: z.string().min(1),
  object: z.literal("billing_portal.session"),
  url: z.string(),
}).loose();
const Invoice = z.object({
  id: z.string().min(1),
  object: z.literal("invoice"),
  status: z.string().nullable(),
}).loose();
const InvoiceList = z.object({ object: z.literal("list"), data: z.array(Invoice) }).loose();
const ErrorBody = z.object({
  error: z.object({ message: z.string().optional(), code: z.string().optional() }).loose(),
});

export type StripeInvoice = z.infer<typeof Invoice>;

/** A form field tree as Stripe's API takes it. */
export type FormValue = string | number | boolean | undefined | FormValue[] | {
  [key: string]: FormValue;
};

/** Stripe's form encoding: nested objects and arrays as `a[b][0][c]=v`; undefined left out. */
export function formEncode(value: Record<string, FormValue>): string {
  const out = new URLSearchParams();
  const walk = (prefix: string, v: FormValue) => {
    if (v === undefined) return;
    if (Array.isArray(v)) v.forEach((item, i) => walk(`${prefix}[${i}]`, item));
    else if (typeof v === "object") {
      for (const [k, item] of Object.entries(v)) walk(prefix ? `${prefix}[${k}]` : k, item);
    } else out.append(prefix, String(v));
  };
  walk("", value);
  return out.toString();
}

export interface CheckoutSessionInput {
  customer: string;
  mode: "subscription" | "payment";
  /** Our price: amount, currency and (for a subscription) its interval; or a Stripe Price id. */
  price: {
    stripePriceId?: string | null;
    amount: number;
    currency: string;
    interval?: "month" | "year";
    name: string;
  };
  successUrl: string;
  cancelUrl: string;
  /** Set on the session and, in subscription mode, on the subscription (its invoices carry it). */
  metadata: Record<string, string>;
  idempotencyKey: string;
}

export interface StripeClient {
  createCustomer(
    input: { email?: string; metadata: Record<string, string>; idempotencyKey: string },
  ): Promise<{ id: string }>;
  createCheckoutSession(
    input: CheckoutSessionInput,
  ): Promise<{ id: string; url: string | null; mode: string }>;
  createPortalSession(input: { customer: string; returnUrl: string }): Promise<{ url: string }>;
  subscriptionInvoices(subscriptionId: string): Promise<StripeInvoice[]>;
}

/** The Stripe client, or 503 `payments_not_configured` when this deployment has no Stripe keys. */
export function requireStripe(client: StripeClient | undefined): StripeClient {
  if (!client) {
    throw new HttpError(
      503,
      "payments_not_configured",
      "Stripe is not configured on this deployment (STRIPE_SECRET_KEY).",
    );
  }
  return client;
}

export function createStripeClient(config: StripeConfig): StripeClient {
  const base = config.apiBase.replace(/\/+$/, "");

  function call<S extends z.ZodType>(
    method: "GET" | "POST",
    path: string,
    schema: S,
    form?: Record<string, FormValue>,
    idempotencyKey?: string,
  ): Promise<z.output<S>> {
    return providerCall({
      provider: "Stripe",
      url: `${base}${path}`,
      init: {
        method,
        headers: {
          authorization: `Bearer ${config.secretKey}`,
          accept: "application/json",
          ...(form ? { "content-type": "application/x-www-form-urlencoded" } : {}),
          ...(idempotencyKey ? { "idempotency-key": idempotencyKey } : {}),
        },
        body: form ? formEncode(form) : undefined,
      },
      timeoutMs: config.timeoutMs,
      path,
      schema,
      readError(body) {
        const error = ErrorBody.safeParse(body);
        return error.success
          ? { message: error.data.error.message ?? "no message", code: error.data.error.code }
          : undefined;
      },
      fail: (message, status, code) => new StripeError(message, status, code),
    });
  }

  return {
    createCustomer: (input) =>
      call(
        "POST",
        "/v1/customers",
        Customer,
        { email: input.email, metadata: input.metadata },
        input.idempotencyKey,
      ),
    createCheckoutSession(input) {
      const p = input.price;
      const lineItem: Record<string, FormValue> = p.stripePriceId
        ? { price: p.stripePriceId, quantity: 1 }
        : {
          quantity: 1,
          price_data: {
            currency: p.currency.toLowerCase(),
            unit_amount: p.amount,
            product_data: { name: p.name },
            recurring: p.interval ? { interval: p.interval } : undefined,
          },
        };
      return call("POST", "/v1/checkout/sessions", CheckoutSession, {
        customer: input.customer,
        mode: input.mode,
        line_items: [lineItem],
        success_url: input.successUrl,
        cancel_url: input.cancelUrl,
        metadata: input.metadata,
        client_reference_id: input.metadata.user_id,
        subscription_data: input.mode === "subscription" ? { metadata: input.metadata } : undefined,
        payment_intent_data: input.mode === "payment" ? { metadata: input.metadata } : undefined,
      }, input.idempotencyKey);
    },
    createPortalSession: (input) =>
      call("POST", "/v1/billing_portal/sessions", PortalSession, {
        customer: input.customer,
        return_url: input.returnUrl,
      }),
    async subscriptionInvoices(subscriptionId) {
      const page = await call(
        "GET",
        `/v1/invoices?subscription=${encodeURIComponent(subscriptionId)}&limit=10`,
        InvoiceList,
      );
      return page.data;
    },
  };
}
