/**
 * The one Stripe API client, on the official `stripe` package with its fetch HTTP client (no Node
 * APIs, ~770 KB in a function's bundle, far under the 5 MB limit): Customers, Checkout Sessions,
 * Billing Portal sessions and the invoices of a subscription (reconciliation). The base URL comes
 * from `STRIPE_API_URL` (default https://api.stripe.com; tests aim it at a fake on loopback, which
 * the package reaches through its `host`/`port`/`protocol` options), every call has a timeout and
 * no automatic retry (the caller answers 502 and the client may try again), and every POST an
 * `Idempotency-Key`. A failure of any kind is a `StripeError`.
 *
 * Webhook signatures are checked by stripe_signature.ts, not the package's `constructEvent`: ours
 * also refuses timestamps from the future and reads the raw bytes the route already holds; the
 * tests check both agree.
 */
import Stripe from "stripe";

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

export interface StripeInvoice {
  id: string;
  object: "invoice";
  status: string | null;
  [key: string]: unknown;
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

export function createStripeClient(config: StripeConfig): StripeClient {
  const base = new URL(config.apiBase);
  const protocol = base.protocol === "http:" ? "http" : "https";
  const stripe = new Stripe(config.secretKey, {
    httpClient: Stripe.createFetchHttpClient(),
    host: base.hostname,
    port: base.port || (protocol === "http" ? 80 : 443),
    protocol,
    timeout: config.timeoutMs,
    maxNetworkRetries: 0,
    telemetry: false,
  });

  async function call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof Stripe.errors.StripeError) {
        throw new StripeError(
          `Stripe ${what} failed${err.statusCode ? ` (${err.statusCode})` : ""}: ${err.message}`,
          err.statusCode,
          err.code,
        );
      }
      throw new StripeError(
        `Stripe ${what} failed: ${err instanceof Error ? err.message : String(err)}`,
      );
    }
  }

  return {
    createCustomer: (input) =>
      call("customer", async () => {
        const c = await stripe.customers.create(
          { email: input.email, metadata: input.metadata },
          { idempotencyKey: input.idempotencyKey },
        );
        return { id: c.id };
      }),
    createCheckoutSession: (input) =>
      call("checkout session", async () => {
        const p = input.price;
        const lineItem: Stripe.Checkout.SessionCreateParams.LineItem = p.stripePriceId
          ? { price: p.stripePriceId, quantity: 1 }
          : {
            quantity: 1,
            price_data: {
              currency: p.currency.toLowerCase(),
              unit_amount: p.amount,
              product_data: { name: p.name },
              ...(p.interval ? { recurring: { interval: p.interval } } : {}),
            },
          };
        const session = await stripe.checkout.sessions.create({
          customer: input.customer,
          mode: input.mode,
          line_items: [lineItem],
          success_url: input.successUrl,
          cancel_url: input.cancelUrl,
          metadata: input.metadata,
          client_reference_id: input.metadata.user_id,
          ...(input.mode === "subscription"
            ? { subscription_data: { metadata: input.metadata } }
            : { payment_intent_data: { metadata: input.metadata } }),
        }, { idempotencyKey: input.idempotencyKey });
        return { id: session.id, url: session.url, mode: session.mode };
      }),
    createPortalSession: (input) =>
      call("portal session", async () => {
        const portal = await stripe.billingPortal.sessions.create({
          customer: input.customer,
          return_url: input.returnUrl,
        });
        return { url: portal.url };
      }),
    subscriptionInvoices: (subscriptionId) =>
      call("invoice list", async () => {
        const page = await stripe.invoices.list({ subscription: subscriptionId, limit: 10 });
        return page.data as unknown as StripeInvoice[];
      }),
  };
}
