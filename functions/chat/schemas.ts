/** The chat function's answers, as the API reference documents them (shared/route_doc.ts). */
import { z } from "zod";
import { ErrorEnvelope, Timestamp } from "../../shared/route_doc.ts";

export const Session = z.object({
  id: z.uuid(),
  workbench_id: z.uuid(),
  title: z.string().nullable(),
  status: z.string(),
  created_at: Timestamp,
  updated_at: Timestamp,
  last_message_at: Timestamp.nullable(),
});

export const OpenedSession = Session.extend({
  created: z.boolean().describe("false: the caller's active session was returned"),
});

/** A citation (docs/chat.md): file, page or sheet and rows; `{number, deleted}` once deleted. */
export const Source = z.looseObject({ number: z.number().int() });

export const Warning = z.looseObject({ code: z.string() });

export const Message = z.object({
  id: z.uuid(),
  session_id: z.uuid(),
  role: z.enum(["user", "assistant"]),
  content: z.string(),
  sources: z.array(Source).nullable(),
  warnings: z.array(Warning).nullable(),
  model: z.string().nullable(),
  prompt_tokens: z.number().int().nullable(),
  completion_tokens: z.number().int().nullable(),
  status: z.string(),
  created_at: Timestamp,
});

export const MessagePage = z.object({
  items: z.array(Message).describe("Oldest first within the page"),
  next_offset: z.number().int().nullable(),
  next_before: z.uuid().nullable().describe("Pass as `before` for the older page"),
});

export const Answer = z.object({
  message: z.object({
    id: z.uuid(),
    session_id: z.uuid(),
    role: z.literal("assistant"),
    content: z.string(),
    model: z.string().nullable(),
    status: z.enum(["complete", "interrupted"]),
    created_at: Timestamp,
    user_message_id: z.uuid(),
  }),
  sources: z.array(Source),
  warnings: z.array(Warning),
  usage: z.object({
    model: z.string().nullable(),
    prompt_tokens: z.number().int(),
    completion_tokens: z.number().int(),
  }),
  wallet: z.looseObject({}).describe("The caller's balance and counter after this answer"),
});

/** One Server-Sent Event of a streamed answer: `event: <name>` and its JSON `data`. */
export const AnswerEvent = z.discriminatedUnion("event", [
  z.object({
    event: z.literal("meta"),
    data: z.object({
      session_id: z.uuid(),
      user_message_id: z.uuid(),
      assistant_message_id: z.uuid(),
      warnings: z.array(Warning),
    }),
  }),
  z.object({ event: z.literal("delta"), data: z.object({ text: z.string() }) }),
  z.object({ event: z.literal("done"), data: Answer }),
  z.object({
    event: z.literal("error"),
    data: ErrorEnvelope.extend({ status: z.number().int() }),
  }),
]).describe("Sent as `event: <event>` and `data: <JSON>`: meta, delta…, then done or error");
