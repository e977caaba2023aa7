/**
 * `POST /channels/manychat/{channel_id}`: ManyChat's External Request (verify_jwt = false; the
 * channel's shared secret in `X-Channel-Secret`).
 *
 * Order: the secret first (a wrong or missing one, or an unknown channel, is 401 and nothing is
 * read or stored); then the body (over 64 KB: 413; not the payload below: 400); then one round
 * trip (private.receive_channel_message) that stores the message once, handles STOP / START and
 * queues it for `channel-worker` (a trigger kicks it through pg_net). The answer is the Dynamic
 * Block acknowledgement, at once: retrieval and the model run in the worker. A duplicate (ManyChat
 * retries a call that failed or timed out) gets the same acknowledgement and no second answer.
 */
import { z } from "zod";
import { httpErrorFromPostgres } from "../../shared/db.ts";
import { HttpError, json, readJson, type Route } from "../../shared/http.ts";
import { dynamicBlock } from "../../shared/manychat.ts";
import type { ChannelsDeps } from "./deps.ts";
import { secretMatches } from "./secret.ts";
import { DynamicBlock } from "./schemas.ts";

export const MAX_INBOUND_BYTES = 64 * 1024;
export const SECRET_HEADER = "x-channel-secret";

const Scalar = z.union([z.string(), z.number().int()]).transform(String);
/** What the tenant's External Request sends (they compose it from ManyChat's variables). */
export const InboundPayload = z.object({
  subscriber_id: Scalar.pipe(z.string().trim().min(1).max(64)),
  text: z.string().trim().min(1).max(4000),
  message_id: Scalar.pipe(z.string().trim().min(1).max(128)).optional(),
  phone: z.string().trim().max(32).optional().nullable().transform((p) => p || null),
  name: z.string().trim().max(200).optional().nullable().transform((n) => n || null),
});

const OPT_TEXT: Record<string, { out: string; in: string }> = {
  fr: {
    out: "C'est noté : vous ne recevrez plus de réponses. Envoyez START pour reprendre.",
    in: "C'est noté : vous recevrez à nouveau nos réponses.",
  },
  en: {
    out: "Done: you will get no more answers. Send START to resume.",
    in: "Done: you will get answers again.",
  },
};

const unauthorized = () =>
  new HttpError(401, "invalid_channel_secret", "Unknown channel or wrong channel secret.");

export function inboundRoute(deps: ChannelsDeps): Route {
  return {
    method: "POST",
    pattern: "/manychat/:channel_id",
    doc: {
      summary: "ManyChat's External Request: one inbound WhatsApp message",
      description: "No JWT: the channel's shared secret in `X-Channel-Secret` (a wrong one, a " +
        "missing one or an unknown channel: 401, nothing stored). Answered at once with the " +
        "Dynamic Block acknowledgement (also for a duplicate); the answer itself is sent later " +
        "through ManyChat by channel-worker. STOP / START answer their confirmation; an " +
        "opted-out subscriber or a disabled channel gets an empty block.",
      auth: "channel_secret",
      body: InboundPayload,
      bodyExample: {
        subscriber_id: "123456789",
        text: "Quel est le CA de mars ?",
        message_id: "m1",
      },
      responses: {
        200: {
          description: "The Dynamic Block to show",
          schema: DynamicBlock,
          example: {
            version: "v2",
            content: { type: "whatsapp", messages: [{ type: "text", text: "OK, bien reçu" }] },
          },
        },
      },
    },
    handler: async (req, ctx) => {
      const id = z.uuid().safeParse(ctx.params.channel_id);
      const given = req.headers.get(SECRET_HEADER) ?? "";
      const [row] = id.success
        ? await deps.sql()<{ secret_hash: Uint8Array }[]>`
            select secret_hash from public.channels where id = ${id.data}`
        : [];
      if (!(await secretMatches(given, row?.secret_hash ?? null))) {
        await req.body?.cancel().catch(() => {});
        throw unauthorized();
      }
      const input = await readJson(req, InboundPayload, MAX_INBOUND_BYTES);
      const [{ r }] = await deps.sql()<{ r: Record<string, string> }[]>`
        select private.receive_channel_message(${id.data!}, ${input.subscriber_id},
          ${input.text}, ${input.message_id ?? null}, ${input.phone}, ${input.name}) as r`
        .catch((err) => {
          throw httpErrorFromPostgres(err);
        });
      const texts = OPT_TEXT[(r.language ?? "fr").slice(0, 2)] ?? OPT_TEXT.fr!;
      switch (r.status) {
        case "queued":
        case "duplicate":
          return json(dynamicBlock([r.ack_text!]));
        case "opted_out":
          return json(dynamicBlock([texts.out]));
        case "opted_in":
          return json(dynamicBlock([texts.in]));
        default: // ignored (opted out) or disabled: nothing is said
          return json(dynamicBlock([]));
      }
    },
  };
}
