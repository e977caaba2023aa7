/**
 * A fake Razorpay API on 127.0.0.1 speaking its wire format, for tests, the bench and
 * `task dev --fake-providers`:
 * `POST /v1/orders` and `GET /v1/orders/{id}/payments` with Basic auth (key id : key secret), and
 * Razorpay's error bodies `{"error":{"code","description","source","step","reason",...}}`. Modes:
 * `down` (every call 503) and `slow` (answers after `slowMs`). Helpers stand in for what Razorpay
 * does outside the API: a customer paying an order (`pay`), Checkout's signature, and signed
 * webhook deliveries (`webhook`).
 *
 * A test checkout page stands in for Razorpay Checkout: `GET /checkout/{order_id}?return=URL` shows
 * the order with a Pay button; paying (`POST /checkout/{order_id}/pay`) captures it, delivers the
 * signed `payment.captured` webhook to `webhookUrl` (when set) and sends the browser back to
 * `return` with `paid=<order_id>`. It needs no key, as Checkout's page needs none.
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
  /** Where the checkout page delivers its signed webhook (`…/functions/v1/webhooks/razorpay`). */
  webhookUrl?: string;
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

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function checkoutPage(order: FakeOrder, returnUrl: string, message = ""): Response {
  const amount = `${(order.amount / 100).toFixed(2)} ${order.currency}`;
  const paid = order.status === "paid";
  const html = `<!doctype html><html><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Test checkout (fake Razorpay)</title>
<style>body{font:16px system-ui,sans-serif;max-width:28rem;margin:2rem auto;padding:0 1rem}
.card{border:1px solid #ccc;border-radius:8px;padding:1rem}button{font:inherit;padding:.6rem 1.2rem}
.note{color:#666;font-size:.9rem}</style></head><body>
<div class="card"><h1>Test checkout</h1>
<p class="note">Fake Razorpay (task dev --fake-providers): no money moves.</p>
<p>Order <code id="order-id">${escapeHtml(order.id)}</code></p>
<p>Amount <strong id="amount">${escapeHtml(amount)}</strong></p>
<p id="status">${paid ? "Paid." : "Not paid yet."} ${escapeHtml(message)}</p>
${
    paid ? `<a id="return" href="${escapeHtml(returnUrl)}">Back</a>` : `<form method="post"
action="/checkout/${encodeURIComponent(order.id)}/pay">
<input type="hidden" name="return" value="${escapeHtml(returnUrl)}">
<button id="pay" type="submit">Pay ${escapeHtml(amount)}</button></form>`
  }</div></body></html>`;
  return new Response(html, { headers: { "content-type": "text/html; charset=utf-8" } });
}

/** Only http(s) return URLs, so the page never sends a browser to `javascript:`. */
function safeReturn(raw: string | null): string {
  try {
    const url = new URL(raw ?? "");
    return url.protocol === "http:" || url.protocol === "https:" ? url.href : "about:blank";
  } catch {
    return "about:blank";
  }
}

export function startFakeRazorpay(opts: {
  keyId?: string;
  keySecret?: string;
  webhookSecret?: string;
  webhookUrl?: string;
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
    const url = new URL(req.url);
    const path = url.pathname;
    const page = /^\/checkout\/([^/]+)(\/pay)?$/.exec(path);
    if (page) return await checkout(req, url, decodeURIComponent(page[1]!), !!page[2]);
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

  /** The test checkout page: shows the order, or pays it and delivers the webhook. */
  async function checkout(req: Request, url: URL, orderId: string, pay: boolean) {
    const order = orders.get(orderId);
    if (!order) return new Response("No such order.", { status: 404 });
    if (!pay || req.method !== "POST") {
      return checkoutPage(order, safeReturn(url.searchParams.get("return")));
    }
    const form = await req.formData();
    const back = new URL(safeReturn(String(form.get("return") ?? "")));
    if (order.status !== "paid") {
      const payment = fake.pay(orderId);
      if (fake.webhookUrl) {
        const wh = await fake.webhook("payment.captured", { payment });
        const res = await fetch(fake.webhookUrl, {
          method: "POST",
          headers: wh.headers,
          body: wh.body,
        });
        await res.body?.cancel();
        if (!res.ok) return checkoutPage(order, back.href, `The webhook got ${res.status}.`);
      }
    }
    if (back.protocol === "about:") return checkoutPage(order, back.href);
    back.searchParams.set("paid", orderId);
    return Response.redirect(back.href, 303);
  }

  Object.assign(fake, {
    webhookUrl: opts.webhookUrl,
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
