/**
 * A fake Razorpay API on 127.0.0.1 speaking its wire format, for tests and the bench:
 * `POST /v1/orders` and `GET /v1/orders/{id}/payments` with Basic auth (key id : key secret), and
 * Razorpay's error bodies `{"error":{"code","description","source","step","reason",...}}`. Modes:
 * `down` (every call 503) and `slow` (answers after `slowMs`). Helpers stand in for what Razorpay
 * does outside the API: a customer paying an order (`pay`), Checkout's signature, and signed
 * webhook deliveries (`webhook`).
 */
import { hmacSha256Hex } from "../../shared/payments/mod.ts";

export interface FakeOrder {
  id: string;
  entity: "order";
  amount: number;
  amount_paid: number;
  amount_due: number;
  currency: string;
  receipt: string | null;
  offer_id: null;
  status: "created" | "attempted" | "paid";
  attempts: number;
  notes: Record<string, string>;
  created_at: number;
}

export interface FakePayment {
  id: string;
  entity: "payment";
  amount: number;
  currency: string;
  status: "captured" | "failed" | "authorized" | "refunded";
  order_id: string;
  method: string;
  amount_refunded: number;
  captured: boolean;
  email: string;
  contact: string;
  notes: Record<string, string>;
  created_at: number;
}

export interface SignedWebhook {
  body: string;
  headers: Record<string, string>;
  eventId: string;
}

export interface FakeRazorpay {
  url: string;
  keyId: string;
  keySecret: string;
  webhookSecret: string;
  orders: Map<string, FakeOrder>;
  payments: Map<string, FakePayment[]>;
  requests: { method: string; path: string; authorization: string | null; body: unknown }[];
  mode: "ok" | "down" | "slow";
  slowMs: number;
  /** A customer pays `orderId` (captured unless told otherwise); Razorpay's record of it. */
  pay(orderId: string, opts?: { status?: FakePayment["status"]; amount?: number }): FakePayment;
  /** What Checkout hands the page after a successful payment. */
  checkoutSignature(orderId: string, paymentId: string): Promise<string>;
  /** A webhook delivery as Razorpay sends it, signed with the webhook secret. */
  webhook(
    event: string,
    entities: { payment?: FakePayment; order?: FakeOrder; refund?: Record<string, unknown> },
    eventId?: string,
  ): Promise<SignedWebhook>;
  /** A refund of `payment` (all of it unless `amount` says less). */
  refund(payment: FakePayment, amount?: number): Record<string, unknown>;
  stop(): Promise<void>;
}

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
export function razorpayId(prefix: string): string {
  const bytes = crypto.getRandomValues(new Uint8Array(14));
  return `${prefix}_${Array.from(bytes, (b) => ALPHABET[b % ALPHABET.length]).join("")}`;
}

function errorBody(status: number, code: string, description: string, field?: string) {
  return Response.json({
    error: {
      code,
      description,
      source: code === "SERVER_ERROR" ? "internal" : "business",
      step: "payment_initiation",
      reason: code === "SERVER_ERROR" ? "server_error" : "input_validation_failed",
      metadata: {},
      ...(field ? { field } : {}),
    },
  }, { status });
}

const now = () => Math.floor(Date.now() / 1000);

export function startFakeRazorpay(opts: {
  keyId?: string;
  keySecret?: string;
  webhookSecret?: string;
} = {}): FakeRazorpay {
  const keyId = opts.keyId ?? "rzp_test_FakeKey0000001";
  const keySecret = opts.keySecret ?? "fake_key_secret_" + crypto.randomUUID();
  const webhookSecret = opts.webhookSecret ?? "fake_webhook_secret_" + crypto.randomUUID();
  const expectedAuth = "Basic " + btoa(`${keyId}:${keySecret}`);
  const orders = new Map<string, FakeOrder>();
  const payments = new Map<string, FakePayment[]>();
  const requests: FakeRazorpay["requests"] = [];

  const fake = {} as FakeRazorpay;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    const path = new URL(req.url).pathname;
    const authorization = req.headers.get("authorization");
    const text = req.method === "POST" ? await req.text() : "";
    let body: unknown = undefined;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      body = text;
    }
    requests.push({ method: req.method, path, authorization, body });
    if (fake.mode === "down") {
      return errorBody(
        503,
        "SERVER_ERROR",
        "The server encountered an error. The incident has been reported to admins.",
      );
    }
    if (fake.mode === "slow") await new Promise((r) => setTimeout(r, fake.slowMs));
    if (authorization !== expectedAuth) {
      return errorBody(401, "BAD_REQUEST_ERROR", "Authentication failed");
    }
    if (req.method === "POST" && path === "/v1/orders") {
      const input = (body ?? {}) as Record<string, unknown>;
      if (!Number.isInteger(input.amount) || (input.amount as number) < 100) {
        return errorBody(400, "BAD_REQUEST_ERROR", "The amount must be atleast INR 1.00", "amount");
      }
      if (typeof input.currency !== "string") {
        return errorBody(400, "BAD_REQUEST_ERROR", "The currency field is required.", "currency");
      }
      const receipt = typeof input.receipt === "string" ? input.receipt : null;
      if (receipt && receipt.length > 40) {
        return errorBody(
          400,
          "BAD_REQUEST_ERROR",
          "receipt: the length must be no more than 40.",
          "receipt",
        );
      }
      const order: FakeOrder = {
        id: razorpayId("order"),
        entity: "order",
        amount: input.amount as number,
        amount_paid: 0,
        amount_due: input.amount as number,
        currency: input.currency,
        receipt,
        offer_id: null,
        status: "created",
        attempts: 0,
        notes: (input.notes ?? {}) as Record<string, string>,
        created_at: now(),
      };
      orders.set(order.id, order);
      return Response.json(order);
    }
    const match = /^\/v1\/orders\/([^/]+)\/payments$/.exec(path);
    if (req.method === "GET" && match) {
      const id = decodeURIComponent(match[1]!);
      if (!orders.has(id)) {
        return errorBody(400, "BAD_REQUEST_ERROR", "The id provided does not exist");
      }
      const items = payments.get(id) ?? [];
      return Response.json({ entity: "collection", count: items.length, items });
    }
    return errorBody(404, "BAD_REQUEST_ERROR", "The requested URL was not found on the server.");
  });

  Object.assign(fake, {
    url: `http://127.0.0.1:${server.addr.port}`,
    keyId,
    keySecret,
    webhookSecret,
    orders,
    payments,
    requests,
    mode: "ok",
    slowMs: 2_000,
    pay(orderId: string, o: { status?: FakePayment["status"]; amount?: number } = {}) {
      const order = orders.get(orderId);
      if (!order) throw new Error(`the fake has no order ${orderId}`);
      const status = o.status ?? "captured";
      const payment: FakePayment = {
        id: razorpayId("pay"),
        entity: "payment",
        amount: o.amount ?? order.amount,
        currency: order.currency,
        status,
        order_id: orderId,
        method: "upi",
        amount_refunded: 0,
        captured: status === "captured",
        email: "customer@example.com",
        contact: "+919000090000",
        notes: order.notes,
        created_at: now(),
      };
      payments.set(orderId, [...(payments.get(orderId) ?? []), payment]);
      order.attempts++;
      if (status === "captured") {
        order.status = "paid";
        order.amount_paid = payment.amount;
        order.amount_due = 0;
      } else order.status = "attempted";
      return payment;
    },
    checkoutSignature: (orderId: string, paymentId: string) =>
      hmacSha256Hex(keySecret, `${orderId}|${paymentId}`),
    refund(payment: FakePayment, amount = payment.amount) {
      payment.amount_refunded += amount;
      return {
        id: razorpayId("rfnd"),
        entity: "refund",
        amount,
        currency: payment.currency,
        payment_id: payment.id,
        notes: {},
        receipt: null,
        status: "processed",
        speed_processed: "normal",
        created_at: now(),
      };
    },
    async webhook(
      event: string,
      entities: { payment?: FakePayment; order?: FakeOrder; refund?: Record<string, unknown> },
      eventId = razorpayId("evt"),
    ) {
      const payload: Record<string, unknown> = {};
      for (const [name, entity] of Object.entries(entities)) {
        if (entity) payload[name] = { entity };
      }
      const body = JSON.stringify({
        entity: "event",
        account_id: "acc_FakeAccount0001",
        event,
        contains: Object.keys(payload),
        payload,
        created_at: now(),
      });
      return {
        body,
        eventId,
        headers: {
          "content-type": "application/json",
          "x-razorpay-signature": await hmacSha256Hex(webhookSecret, body),
          "x-razorpay-event-id": eventId,
        },
      };
    },
    stop: () => server.shutdown(),
  });
  return fake;
}
