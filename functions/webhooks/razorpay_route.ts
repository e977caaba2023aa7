/**
 * `POST /webhooks/razorpay`: `X-Razorpay-Signature` must be the HMAC-SHA256 of the raw body bytes
 * with RAZORPAY_WEBHOOK_SECRET (constant time), else 400 and nothing is written. A verified event
 * is recorded once under `x-razorpay-event-id` and applied in the same statement
 * (`private.handle_razorpay_event`): no Razorpay call, one round trip to the database. Every
 * verified event is answered 200, also for unknown orders and event types (kept, change nothing),
 * except one whose amounts are not whole paise: recorded as `malformed_amount`, answered 400.
 */
import {
  HttpError,
  json,
  MAX_JSON_BYTES,
  readBodyBytes,
  type Route,
  validate,
} from "../../shared/http.ts";
import { log } from "../../shared/log.ts";
import { isValidWebhookSignature } from "../../shared/payments/mod.ts";
import { WebhookEnvelope, webhookEventId, webhookJson } from "./webhook_event.ts";
import type { WebhooksDeps } from "./deps.ts";
import { z } from "zod";

const Received = z.object({
  received: z.literal(true),
  event_id: z.string().nullable(),
  outcome: z.string(),
});

export function razorpayRoute(deps: WebhooksDeps): Route {
  return {
    method: "POST",
    pattern: "/razorpay",
    doc: {
      summary: "Razorpay's webhook (payment.captured, order.paid, …)",
      description: "The raw body is signed with the webhook secret in `x-razorpay-signature`.",
      auth: "webhook",
      bodyContent: { "application/json": z.looseObject({ event: z.string() }) },
      headers: { "x-razorpay-event-id": "Razorpay's event id (deduplicates deliveries)" },
      responses: { 200: { description: "Received (also for a replay)", schema: Received } },
      errors: {
        400: ["missing_signature", "invalid_signature", "invalid_json", "malformed_event"],
        413: ["payload_too_large"],
        503: ["webhooks_not_configured"],
      },
    },
    handler: async (req, ctx) => {
      if (!deps.webhookSecret) {
        await req.body?.cancel();
        throw new HttpError(
          503,
          "webhooks_not_configured",
          "RAZORPAY_WEBHOOK_SECRET is not set on this deployment.",
        );
      }
      const body = await readBodyBytes(req, MAX_JSON_BYTES);
      const signature = req.headers.get("x-razorpay-signature");
      if (!signature) {
        throw new HttpError(
          400,
          "missing_signature",
          "The X-Razorpay-Signature header is missing.",
        );
      }
      if (!(await isValidWebhookSignature(body, signature, deps.webhookSecret))) {
        throw new HttpError(400, "invalid_signature", "The webhook signature does not match.");
      }
      const { text, parsed } = webhookJson(body);
      const event = validate(WebhookEnvelope, parsed, "webhook event");
      const eventId = await webhookEventId(req.headers.get("x-razorpay-event-id"), body);

      const [{ result }] = await deps.sql()<{ result: { outcome: string } }[]>`
        select private.handle_razorpay_event(${eventId}, ${event.event}, ${text}::text::jsonb) as result`;
      log.info("razorpay webhook", {
        request_id: ctx.requestId,
        event_id: eventId,
        event: event.event,
        outcome: result.outcome,
      });
      if (result.outcome === "malformed_amount") {
        // Recorded (a retry is a `duplicate`), but not an event we can apply: not a 500, which
        // Razorpay would retry for days.
        throw new HttpError(
          400,
          "malformed_event",
          "The event's amounts must be whole numbers of paise.",
          { event_id: eventId, outcome: result.outcome },
        );
      }
      return json({ received: true, event_id: eventId, outcome: result.outcome });
    },
  };
}
