/**
 * A Razorpay webhook delivery, once its signature is verified: the envelope
 * (`{"entity":"event","event":"payment.captured","payload":{...},...}`) and the id it is recorded
 * under — Razorpay's `x-razorpay-event-id` header, the same on every retry of one event (or, if a
 * proxy dropped it, a hash of the body, which is also the same on every retry).
 */
import { z } from "zod";
import { HttpError } from "../../shared/http.ts";

export const WebhookEnvelope = z.object({
  event: z.string().min(1).max(100),
  payload: z.record(z.string(), z.unknown()),
}).loose();
export type WebhookEnvelope = z.infer<typeof WebhookEnvelope>;

const EVENT_ID = /^[A-Za-z0-9_.:-]{1,128}$/;

export async function webhookEventId(header: string | null, body: Uint8Array): Promise<string> {
  const id = header?.trim();
  if (id && EVENT_ID.test(id)) return id;
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", body as BufferSource));
  return "sha256:" + Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * A verified webhook body as text (kept as sent: the database stores it as the event's payload)
 * and parsed; 400 `invalid_json` when it is not UTF-8 JSON. Both providers' routes use it.
 */
export function webhookJson(body: Uint8Array): { text: string; parsed: unknown } {
  try {
    const text = new TextDecoder("utf-8", { fatal: true }).decode(body);
    return { text, parsed: JSON.parse(text) };
  } catch {
    throw new HttpError(400, "invalid_json", "The webhook body is not valid JSON.");
  }
}
