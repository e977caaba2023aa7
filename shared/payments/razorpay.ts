/**
 * The one Razorpay API client: orders and the payments of an order, over `fetch` with Basic auth
 * (`RAZORPAY_KEY_ID:RAZORPAY_KEY_SECRET`), a base URL from `RAZORPAY_API_BASE` (default
 * https://api.razorpay.com; tests aim it at a fake on loopback) and a timeout on every call.
 * Responses are validated; a failure of any kind is a `RazorpayError` (the caller answers 502).
 */
import { z } from "zod";
import { providerCall } from "./provider_call.ts";

export interface RazorpayConfig {
  keyId: string;
  keySecret: string;
  apiBase: string;
  timeoutMs: number;
}

/** The Razorpay settings of an environment, or undefined when the keys are not configured. */
export function razorpayConfigFromEnv(env: {
  RAZORPAY_KEY_ID?: string;
  RAZORPAY_KEY_SECRET?: string;
  RAZORPAY_API_BASE: string;
  RAZORPAY_TIMEOUT_MS: number;
}): RazorpayConfig | undefined {
  if (!env.RAZORPAY_KEY_ID || !env.RAZORPAY_KEY_SECRET) return undefined;
  return {
    keyId: env.RAZORPAY_KEY_ID,
    keySecret: env.RAZORPAY_KEY_SECRET,
    apiBase: env.RAZORPAY_API_BASE,
    timeoutMs: env.RAZORPAY_TIMEOUT_MS,
  };
}

export const OrderSchema = z.object({
  id: z.string().min(1),
  entity: z.literal("order"),
  amount: z.number().int(),
  currency: z.string(),
  receipt: z.string().nullable().optional(),
  status: z.string(),
}).loose();
export type RazorpayOrder = z.infer<typeof OrderSchema>;

export const PaymentSchema = z.object({
  id: z.string().min(1),
  entity: z.literal("payment"),
  amount: z.number().int(),
  currency: z.string(),
  status: z.string(),
  order_id: z.string().nullable().optional(),
}).loose();
export type RazorpayPayment = z.infer<typeof PaymentSchema>;

const PaymentCollection = z.object({ items: z.array(PaymentSchema) }).loose();

const ErrorBody = z.object({
  error: z.object({ code: z.string().optional(), description: z.string().optional() }).loose(),
});

export class RazorpayError extends Error {
  constructor(
    message: string,
    /** HTTP status from Razorpay; undefined for a time-out or a network failure. */
    readonly status?: number,
    readonly code?: string,
  ) {
    super(message);
    this.name = "RazorpayError";
  }
}

export interface CreateOrderInput {
  amount: number;
  currency: string;
  receipt: string;
  notes: Record<string, string>;
}

export interface RazorpayClient {
  createOrder(input: CreateOrderInput): Promise<RazorpayOrder>;
  orderPayments(orderId: string): Promise<RazorpayPayment[]>;
}

export function createRazorpayClient(config: RazorpayConfig): RazorpayClient {
  const base = config.apiBase.replace(/\/+$/, "");
  const authorization = "Basic " + btoa(`${config.keyId}:${config.keySecret}`);

  function call<S extends z.ZodType>(
    method: string,
    path: string,
    schema: S,
    body?: unknown,
  ): Promise<z.output<S>> {
    return providerCall({
      provider: "Razorpay",
      url: `${base}${path}`,
      init: {
        method,
        headers: {
          authorization,
          accept: "application/json",
          ...(body === undefined ? {} : { "content-type": "application/json" }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      },
      timeoutMs: config.timeoutMs,
      path,
      schema,
      readError(parsed) {
        const error = ErrorBody.safeParse(parsed);
        return error.success
          ? {
            message: error.data.error.description ?? "no description",
            code: error.data.error.code,
          }
          : undefined;
      },
      fail: (message, status, code) => new RazorpayError(message, status, code),
    });
  }

  return {
    createOrder: (input) => call("POST", "/v1/orders", OrderSchema, input),
    async orderPayments(orderId) {
      const page = await call(
        "GET",
        `/v1/orders/${encodeURIComponent(orderId)}/payments`,
        PaymentCollection,
      );
      return page.items;
    },
  };
}
