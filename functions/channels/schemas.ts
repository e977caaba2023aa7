/** The channels function's answers, as the API reference documents them (shared/route_doc.ts). */
import { z } from "zod";
import { Timestamp } from "../../shared/route_doc.ts";

export const Channel = z.object({
  id: z.uuid(),
  company_id: z.uuid(),
  workbench_id: z.uuid(),
  created_by: z.uuid(),
  name: z.string(),
  provider: z.literal("manychat"),
  token_last4: z.string().nullable().describe("The ManyChat token is never returned"),
  ack_text: z.string(),
  unavailable_text: z.string(),
  language: z.string(),
  enabled: z.boolean(),
  opt_out_words: z.array(z.string()),
  created_at: Timestamp,
  updated_at: Timestamp,
  inbound_path: z.string().describe("Where ManyChat's External Request posts, under the host"),
});

export const CreatedChannel = Channel.extend({
  inbound_secret: z.string().describe("Shown this once: the X-Channel-Secret to configure"),
});

export const RotatedSecret = z.object({
  id: z.uuid(),
  inbound_secret: z.string().describe("Shown this once; the old secret stops working"),
});

export const ChannelMessage = z.object({
  id: z.uuid(),
  direction: z.enum(["inbound", "outbound"]),
  text: z.string(),
  status: z.enum([
    "queued",
    "answered",
    "unavailable",
    "ignored",
    "failed",
    "sending",
    "sent",
    "unconfirmed",
  ]),
  error: z.string().nullable(),
  attempts: z.number().int(),
  part: z.number().int().nullable().describe("Outbound: the part of the answer"),
  inbound_id: z.uuid().nullable().describe("Outbound: the message it answers"),
  model: z.string().nullable(),
  manychat_response: z.unknown().nullable(),
  created_at: Timestamp,
  updated_at: Timestamp,
  subscriber_ref: z.uuid(),
  subscriber_id: z.string(),
  phone_masked: z.string().nullable(),
  name: z.string().nullable(),
  opted_out: z.boolean(),
});

export const ChannelStatus = z.object({
  id: z.uuid(),
  enabled: z.boolean(),
  queue_depth: z.number().int(),
  oldest_waiting_at: Timestamp.nullable(),
  failures_last_day: z.number().int(),
  unavailable_last_day: z.number().int(),
  wallet_can_pay: z.boolean().nullable(),
});

/** ManyChat's Dynamic Block (shared/manychat.ts `dynamicBlock()`). */
export const DynamicBlock = z.object({
  version: z.literal("v2"),
  content: z.object({
    type: z.literal("whatsapp"),
    messages: z.array(z.object({ type: z.literal("text"), text: z.string() })),
  }),
});
