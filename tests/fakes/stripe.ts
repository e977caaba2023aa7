/**
 * A fake Stripe API on 127.0.0.1 speaking its wire format, for tests and the bench: Bearer auth
 * with the secret key, form-encoded POST bodies (`a[b][0][c]=v`), `Idempotency-Key` replays,
 * Stripe's error bodies `{"error":{"type","message","code"}}` and its objects (`customer`,
 * `checkout.session`, `billing_portal.session`, `invoice`, `list`). Helpers stand in for what
 * Stripe does outside the API: a buyer completing Checkout, renewals, a failed renewal, plan
 * changes, cancellation and refunds, each answered as the signed event deliveries
 * (`Stripe-Signature: t=…,v1=…`) Stripe would send, with `evt_` ids and `created` times.
 */
import { stripeSignatureHeader } from "../../shared/payments/mod.ts";

// deno-lint-ignore no-explicit-any
type Json = any;

export interface SignedStripeEvent {
  event: Json;
  body: string;
  headers: Record<string, string>;
}

export interface FakeStripe {
  url: string;
  secretKey: string;
  webhookSecret: string;
  customers: Map<string, Json>;
  sessions: Map<string, Json>;
  subscriptions: Map<string, Json>;
  invoices: Map<string, Json>;
  requests: { method: string; path: string; form: Json; idempotencyKey: string | null }[];
  mode: "ok" | "down";
  /** The buyer pays a Checkout Session: checkout.session.completed (+ the first invoice.paid). */
  complete(sessionId: string): Promise<SignedStripeEvent[]>;
  /** The next period of a subscription is paid (or fails): invoice.paid / .payment_failed. */
  renew(subscriptionId: string, opts?: { fail?: boolean }): Promise<SignedStripeEvent>;
  /** A plan change or a cancel at period end: customer.subscription.updated. */
  update(
    subscriptionId: string,
    change: { price_id?: string; cancel_at_period_end?: boolean },
  ): Promise<SignedStripeEvent>;
  /** The period ended after a cancel: customer.subscription.deleted. */
  remove(subscriptionId: string): Promise<SignedStripeEvent>;
  /** A full refund of a payment intent: charge.refunded. */
  refund(paymentIntent: string, amount?: number): Promise<SignedStripeEvent>;
  /** Any event, signed (timestamp and secret may be changed to forge one). */
  sign(type: string, object: Json, opts?: { timestamp?: number; secret?: string }): Promise<
    SignedStripeEvent
  >;
  close(): Promise<void>;
}

/** Stripe's form encoding read back into objects and arrays. */
export function formDecode(text: string): Json {
  const out: Json = {};
  for (const [key, value] of new URLSearchParams(text)) {
    const parts = key.replace(/\]/g, "").split("[");
    let node = out;
    parts.forEach((part, i) => {
      const last = i === parts.length - 1;
      const nextIsIndex = !last && /^\d+$/.test(parts[i + 1]);
      if (last) node[part] = value;
      else node = node[part] ??= nextIsIndex ? [] : {};
    });
  }
  return out;
}

let counter = 0;
const id = (prefix: string) =>
  `${prefix}_test_${(++counter).toString(36).padStart(6, "0")}${
    crypto.randomUUID().replaceAll("-", "").slice(0, 10)
  }`;

export function startFakeStripe(): FakeStripe {
  const secretKey = "sk_test_fake" + crypto.randomUUID().replaceAll("-", "");
  const webhookSecret = "whsec_fake" + crypto.randomUUID().replaceAll("-", "");
  const customers = new Map<string, Json>();
  const sessions = new Map<string, Json>();
  const subscriptions = new Map<string, Json>();
  const invoices = new Map<string, Json>();
  const requests: FakeStripe["requests"] = [];
  const replays = new Map<string, { status: number; body: Json }>();
  let clock = Math.floor(Date.now() / 1000);
  const now = () => ++clock;

  const error = (status: number, type: string, message: string, code?: string) =>
    Response.json({ error: { type, message, ...(code ? { code } : {}) } }, { status });

  const handle = (
    method: string,
    path: string,
    form: Json,
    query: URLSearchParams,
  ): { status: number; body: Json } => {
    if (method === "POST" && path === "/v1/customers") {
      const c = {
        id: id("cus"),
        object: "customer",
        email: form.email ?? null,
        metadata: form.metadata ?? {},
        created: now(),
        livemode: false,
      };
      customers.set(c.id, c);
      return { status: 200, body: c };
    }
    if (method === "POST" && path === "/v1/checkout/sessions") {
      if (!form.customer || !customers.has(form.customer)) {
        return {
          status: 400,
          body: {
            error: {
              type: "invalid_request_error",
              message: `No such customer: '${form.customer}'`,
              code: "resource_missing",
            },
          },
        };
      }
      const item = form.line_items?.[0] ?? {};
      const pd = item.price_data ?? {};
      const s = {
        id: id("cs"),
        object: "checkout.session",
        mode: form.mode,
        url: "",
        customer: form.customer,
        client_reference_id: form.client_reference_id ?? null,
        metadata: form.metadata ?? {},
        amount_total: Number(pd.unit_amount ?? 0) * Number(item.quantity ?? 1),
        amount_subtotal: Number(pd.unit_amount ?? 0) * Number(item.quantity ?? 1),
        currency: pd.currency ?? "usd",
        status: "open",
        payment_status: "unpaid",
        payment_intent: null,
        subscription: null,
        success_url: form.success_url,
        cancel_url: form.cancel_url,
        livemode: false,
        created: now(),
        _line: item,
        _subscription_metadata: form.subscription_data?.metadata ?? {},
      };
      s.url = `https://checkout.stripe.com/c/pay/${s.id}`;
      sessions.set(s.id, s);
      const { _line: _l, _subscription_metadata: _m, ...wire } = s;
      return { status: 200, body: wire };
    }
    if (method === "POST" && path === "/v1/billing_portal/sessions") {
      if (!customers.has(form.customer)) {
        return {
          status: 400,
          body: { error: { type: "invalid_request_error", message: "No such customer" } },
        };
      }
      const p = {
        id: id("bps"),
        object: "billing_portal.session",
        customer: form.customer,
        return_url: form.return_url ?? null,
        url: `https://billing.stripe.com/p/session/${id("test")}`,
        livemode: false,
        created: now(),
      };
      return { status: 200, body: p };
    }
    if (method === "GET" && path === "/v1/invoices") {
      return {
        status: 200,
        body: {
          object: "list",
          data: [...invoices.values()]
            .filter((i) =>
              !query.get("subscription") ||
              i.parent.subscription_details.subscription === query.get("subscription")
            )
            .reverse(),
          has_more: false,
          url: "/v1/invoices",
        },
      };
    }
    return {
      status: 404,
      body: { error: { type: "invalid_request_error", message: `Unrecognized request URL` } },
    };
  };

  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    const url = new URL(req.url);
    const text = req.method === "POST" ? await req.text() : "";
    const form = formDecode(text);
    const idem = req.headers.get("idempotency-key");
    requests.push({ method: req.method, path: url.pathname, form, idempotencyKey: idem });
    if (fake.mode === "down") return error(503, "api_error", "Stripe is down (fake).");
    if (req.headers.get("authorization") !== `Bearer ${secretKey}`) {
      return error(401, "invalid_request_error", "Invalid API Key provided: sk_***");
    }
    if (idem && replays.has(`${url.pathname}:${idem}`)) {
      const r = replays.get(`${url.pathname}:${idem}`)!;
      return Response.json(r.body, {
        status: r.status,
        headers: { "idempotent-replayed": "true" },
      });
    }
    const r = handle(req.method, url.pathname, form, url.searchParams);
    if (idem) replays.set(`${url.pathname}:${idem}`, r);
    return Response.json(r.body, { status: r.status, headers: { "request-id": id("req") } });
  });
  const addr = server.addr as Deno.NetAddr;

  const sign: FakeStripe["sign"] = async (type, object, opts = {}) => {
    const event = {
      id: id("evt"),
      object: "event",
      api_version: "2025-08-27.basil",
      created: now(),
      data: { object },
      livemode: false,
      pending_webhooks: 1,
      request: { id: null, idempotency_key: null },
      type,
    };
    const body = JSON.stringify(event, null, 2);
    const header = await stripeSignatureHeader(
      body,
      opts.secret ?? webhookSecret,
      opts.timestamp ?? Math.floor(Date.now() / 1000),
    );
    return {
      event,
      body,
      headers: { "content-type": "application/json; charset=utf-8", "stripe-signature": header },
    };
  };

  const newInvoice = (sub: Json, amount: number, status: "paid" | "open") => {
    const start = sub.current_period_end ?? now();
    const end = start + (sub._interval === "year" ? 365 : 30) * 86400;
    const inv = {
      id: id("in"),
      object: "invoice",
      customer: sub.customer,
      amount_due: amount,
      amount_paid: status === "paid" ? amount : 0,
      amount_remaining: status === "paid" ? 0 : amount,
      currency: sub._currency,
      status,
      billing_reason: sub._invoices === 0 ? "subscription_create" : "subscription_cycle",
      hosted_invoice_url: `https://invoice.stripe.com/i/acct_test/${id("live")}`,
      invoice_pdf: null,
      payment_intent: id("pi"),
      charge: null as string | null,
      parent: {
        type: "subscription_details",
        quote_details: null,
        subscription_details: { subscription: sub.id, metadata: { ...sub.metadata } },
      },
      lines: {
        object: "list",
        data: [{
          id: id("il"),
          object: "line_item",
          amount,
          currency: sub._currency,
          period: { start, end },
          pricing: {
            type: "price_details",
            price_details: { price: sub._price, product: "prod_x" },
          },
        }],
        has_more: false,
      },
      created: now(),
      livemode: false,
    };
    inv.charge = id("ch");
    sub._invoices++;
    sub.current_period_start = start;
    sub.current_period_end = end;
    invoices.set(inv.id, inv);
    return inv;
  };

  const subObject = (sub: Json) => {
    const wire: Json = {};
    for (const [k, v] of Object.entries(sub)) if (!k.startsWith("_")) wire[k] = v;
    return wire;
  };

  const fake: FakeStripe = {
    url: `http://127.0.0.1:${addr.port}`,
    secretKey,
    webhookSecret,
    customers,
    sessions,
    subscriptions,
    invoices,
    requests,
    mode: "ok",
    async complete(sessionId) {
      const s = sessions.get(sessionId);
      if (!s) throw new Error(`no session ${sessionId}`);
      s.status = "complete";
      s.payment_status = "paid";
      const events: SignedStripeEvent[] = [];
      if (s.mode === "payment") {
        s.payment_intent = id("pi");
        const { _line: _l, _subscription_metadata: _m, ...wire } = s;
        events.push(await sign("checkout.session.completed", wire));
        return events;
      }
      const sub = {
        id: id("sub"),
        object: "subscription",
        customer: s.customer,
        status: "active",
        cancel_at_period_end: false,
        metadata: { ...s._subscription_metadata },
        items: { object: "list", data: [{ id: id("si"), price: { id: id("price") } }] },
        current_period_start: null as number | null,
        current_period_end: null as number | null,
        _price: "",
        _currency: s.currency,
        _interval: s._line.price_data?.recurring?.interval ?? "month",
        _amount: s.amount_total,
        _invoices: 0,
      };
      sub._price = sub.items.data[0].price.id;
      subscriptions.set(sub.id, sub);
      s.subscription = sub.id;
      const inv = newInvoice(sub, sub._amount, "paid");
      const { _line: _l, _subscription_metadata: _m, ...wire } = s;
      events.push(await sign("checkout.session.completed", wire));
      events.push(await sign("invoice.paid", inv));
      return events;
    },
    async renew(subscriptionId, opts = {}) {
      const sub = subscriptions.get(subscriptionId);
      if (!sub) throw new Error(`no subscription ${subscriptionId}`);
      const inv = newInvoice(sub, sub._amount, opts.fail ? "open" : "paid");
      if (opts.fail) sub.status = "past_due";
      else sub.status = "active";
      return await sign(opts.fail ? "invoice.payment_failed" : "invoice.paid", inv);
    },
    async update(subscriptionId, change) {
      const sub = subscriptions.get(subscriptionId)!;
      if (change.price_id) {
        // Our price id travels in the metadata (the portal would set a Stripe Price instead).
        sub.metadata = { ...sub.metadata, price_id: change.price_id };
        sub._amount = Number(change.price_id.startsWith("pro") ? 2900 : sub._amount);
      }
      if (change.cancel_at_period_end !== undefined) {
        sub.cancel_at_period_end = change.cancel_at_period_end;
      }
      return await sign("customer.subscription.updated", subObject(sub));
    },
    async remove(subscriptionId) {
      const sub = subscriptions.get(subscriptionId)!;
      sub.status = "canceled";
      return await sign("customer.subscription.deleted", subObject(sub));
    },
    async refund(paymentIntent, amount) {
      const inv = [...invoices.values()].find((i) => i.payment_intent === paymentIntent);
      const session = [...sessions.values()].find((s) => s.payment_intent === paymentIntent);
      const total = amount ?? inv?.amount_paid ?? session?.amount_total ?? 0;
      return await sign("charge.refunded", {
        id: inv?.charge ?? id("ch"),
        object: "charge",
        amount: inv?.amount_paid ?? session?.amount_total ?? total,
        amount_captured: inv?.amount_paid ?? session?.amount_total ?? total,
        amount_refunded: total,
        currency: inv?.currency ?? session?.currency ?? "usd",
        customer: inv?.customer ?? session?.customer ?? null,
        payment_intent: paymentIntent,
        refunded: true,
        status: "succeeded",
        livemode: false,
        created: now(),
      });
    },
    sign,
    close: () => server.shutdown(),
  };
  return fake;
}
