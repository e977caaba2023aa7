/**
 * `POST /webhooks/stripe` (no JWT; Stripe signs the body): the `Stripe-Signature` header must carry
 * a `v1` HMAC-SHA256 of `<t>.<raw body>` with STRIPE_WEBHOOK_SECRET and a `t` within 5 minutes
 * (shared/payments/stripe_signature.ts), else 400 and nothing is written. A verified event is
 * recorded once under its `evt_` id and applied in the same statement
 * (`private.handle_stripe_event`, through the same ledger as Razorpay): one round trip, no call
 * to Stripe. Every verified event is answered 200, unknown types too (`ignored`).
 */
import { z } from "zod";
import {
  HttpError,
  json,
  MAX_JSON_BYTES,
  readBodyBytes,
  type Route,
  validate,
} from "../../shared/http.ts";
import { log } from "../../shared/log.ts";
import { stripeSignatureProblem } from "../../shared/payments/mod.ts";
import type { WebhooksDeps } from "./deps.ts";
import { webhookJson } from "./webhook_event.ts";

/** Stripe's event envelope: `{id: "evt_…", object: "event", type, created, data: {object}}`. */
export const StripeEvent = z.object({
  id: z.string().regex(/^[A-Za-z0-9_]{1,128}$/),
  object: z.literal("event"),
  type: z.string().min(1).max(100),
  created: z.number().int().nonnegative(),
  data: z.object({ object: z.record(z.string(), z.unknown()) }).loose(),
}).loose();

const Received = z.object({
  received: z.literal(true),
  event_id: z.string(),
  outcome: z.string().describe("credited, linked, ignored, duplicate, …"),
});

const PROBLEMS = {
  missing_signature: "The Stripe-Signature header is missing.",
  invalid_signature: "The webhook signature does not match.",
  stale_signature: "The webhook signature's timestamp is outside the 5-minute tolerance.",
} as const;

export function stripeRoute(deps: WebhooksDeps): Route {
  return {
    method: "POST",
    pattern: "/stripe",
    doc: {
      summary: "Stripe's webhook (checkout, invoices, subscriptions, refunds)",
      description: "The raw body is signed in `Stripe-Signature` (`t=…,v1=…`, 5-minute tolerance).",
      auth: "webhook",
      bodyContent: { "application/json": StripeEvent },
      headers: { "stripe-signature": "`t=<unix time>,v1=<HMAC-SHA256 of t.body>` (several v1)" },
      responses: { 200: { description: "Received (also for a replay)", schema: Received } },
      errors: {
        400: ["missing_signature", "invalid_signature", "invalid_json", "validation_failed"],
        413: ["payload_too_large"],
        503: ["payments_not_configured"],
      },
    },
    handler: async (req, ctx) => {
      if (!deps.stripeWebhookSecret) {
        await req.body?.cancel();
        throw new HttpError(
          503,
          "payments_not_configured",
          "STRIPE_WEBHOOK_SECRET is not set on this deployment.",
        );
      }
      const body = await readBodyBytes(req, MAX_JSON_BYTES);
      const problem = await stripeSignatureProblem(
        body,
        req.headers.get("stripe-signature"),
        deps.stripeWebhookSecret,
      );
      if (problem) {
        throw new HttpError(
          400,
          problem === "missing_signature" ? problem : "invalid_signature",
          PROBLEMS[problem],
        );
      }
      const { text, parsed } = webhookJson(body);
      const event = validate(StripeEvent, parsed, "webhook event");
      const [{ result }] = await deps.sql()<{ result: { outcome: string } }[]>`
        select private.handle_stripe_event(${event.id}, ${event.type}, ${text}::text::jsonb)
          as result`;
      log.info("stripe webhook", {
        request_id: ctx.requestId,
        event_id: event.id,
        event: event.type,
        outcome: result.outcome,
      });
      return json({ received: true, event_id: event.id, outcome: result.outcome });
    },
  };
}
