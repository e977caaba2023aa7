/**
 * The channel configuration and what the tenant sees of it.
 *
 * Writes (company owners and admins: the RPCs check the caller's role, the workbench's company and
 * keep the token in Vault): `POST /channels` (201, with the inbound secret, shown this once),
 * `PATCH /channels/{id}`, `POST /channels/{id}/rotate-secret` (a new secret, shown once; the old
 * one stops working), `DELETE /channels/{id}`, `DELETE /channels/{id}/subscribers/{ref}` (erases
 * one subscriber and their messages). Reads (company members, under RLS): `GET /channels?
 * company_id=`, `GET /channels/{id}/messages` (newest first, phones masked), `GET /channels/{id}
 * /status` (queue depth, oldest waiting, failures and unpaid answers in the last day). The token
 * is never returned: only its last four characters.
 */
import { z } from "zod";
import { type AuthenticatedUser, requireUser } from "../../shared/auth.ts";
import { asCaller, httpErrorFromPostgres, type Tx } from "../../shared/db.ts";
import { HttpError, json, readJson, readQuery, type Route, validate } from "../../shared/http.ts";
import { paged, PageQuery } from "../../shared/pagination.ts";
import { nameSchema } from "../../shared/validation.ts";
import type { ChannelsDeps } from "./deps.ts";
import { newSecret, secretHash } from "./secret.ts";
import { listOf } from "../../shared/route_doc.ts";
import {
  Channel,
  ChannelMessage,
  ChannelStatus,
  CreatedChannel,
  RotatedSecret,
} from "./schemas.ts";

const Id = z.uuid();
const NOT_FOUND = "Channel not found.";
const Text = z.string().trim().min(1).max(1000);
const Settings = z.object({
  name: nameSchema(200).optional(),
  workbench_id: z.uuid().optional(),
  ack_text: Text.optional(),
  unavailable_text: Text.optional(),
  language: z.string().regex(/^[a-z]{2}(-[A-Z]{2})?$/).optional(),
  enabled: z.boolean().optional(),
  opt_out_words: z.array(z.string().trim().min(1).max(40)).max(20).optional(),
  manychat_token: z.string().trim().min(8).max(512).optional(),
});
const CreateInput = Settings.extend({
  company_id: z.uuid(),
  workbench_id: z.uuid(),
  name: nameSchema(200),
  manychat_token: z.string().trim().min(8).max(512),
});
const ListQuery = PageQuery.extend({ company_id: z.uuid() });

const COLUMNS = `c.id, c.company_id, c.workbench_id, c.created_by, c.name, c.provider,
  c.token_last4, c.ack_text, c.unavailable_text, c.language, c.enabled, c.opt_out_words,
  c.created_at, c.updated_at`;

const inboundPath = (id: string) => `/functions/v1/channels/manychat/${id}`;
const forbidden = () =>
  new HttpError(
    403,
    "company_admin_required",
    "Only the company's owners and admins manage its channels (and only with its workbenches).",
  );

function settingsOf(input: z.output<typeof Settings>) {
  const { manychat_token: _t, ...rest } = input;
  return Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined));
}

async function readChannel(tx: Tx, id: string): Promise<Record<string, unknown>> {
  const [row] = await tx.unsafe(`select ${COLUMNS} from public.channels c where c.id = $1`, [id]);
  if (!row) throw new HttpError(404, "not_found", NOT_FOUND);
  return { ...row, inbound_path: inboundPath(String(row.id)) };
}

export function channelRoutes(deps: ChannelsDeps): Route[] {
  const asMember = <T>(user: AuthenticatedUser, fn: (tx: Tx) => Promise<T>) =>
    asCaller(deps.sql(), user.claims, fn, NOT_FOUND);
  const rpc = async <T>(run: () => Promise<T>) => {
    try {
      return await run();
    } catch (err) {
      throw httpErrorFromPostgres(err, NOT_FOUND);
    }
  };

  return [
    {
      method: "POST",
      pattern: "/",
      doc: {
        summary: "Create a WhatsApp channel (ManyChat) on a company workbench",
        description: "Company owners and admins. The answer has the inbound secret, shown once.",
        auth: "user",
        body: CreateInput,
        bodyExample: {
          company_id: "6f1c2b1e-8a4d-4b8e-9a51-0d6c5f2e7a10",
          workbench_id: "0b7e4f2a-3c1d-4e5f-8a9b-1c2d3e4f5a6b",
          name: "WhatsApp support",
          manychat_token: "mc_token_example_123",
        },
        responses: { 201: { description: "The channel and its secret", schema: CreatedChannel } },
        errors: { 403: ["company_admin_required"], 404: ["not_found"], 409: ["conflict"] },
      },
      handler: async (req) => {
        const user = await requireUser(req, deps.verifier);
        const input = await readJson(req, CreateInput);
        const secret = newSecret();
        const hash = await secretHash(secret);
        const { company_id, workbench_id, name, manychat_token, ...settings } = input;
        const [{ id }] = await rpc(() =>
          deps.sql()<{ id: string | null }[]>`select private.create_channel(${user.id},
            ${company_id}, ${workbench_id}, ${name}, ${manychat_token},
            ${hash}, ${deps.sql().json(settingsOf(settings))}) as id`
        );
        if (!id) throw forbidden();
        const channel = await asMember(user, (tx) => readChannel(tx, id));
        return json({ ...channel, inbound_secret: secret }, 201);
      },
    },
    {
      method: "GET",
      pattern: "/",
      doc: {
        summary: "A company's channels (members)",
        auth: "user",
        query: ListQuery,
        responses: { 200: { description: "A page of channels", schema: listOf(Channel) } },
      },
      handler: async (req, ctx) => {
        const user = await requireUser(req, deps.verifier);
        const q = readQuery(ctx.url, ListQuery);
        const rows = await asMember(user, (tx) =>
          tx.unsafe(
            `select ${COLUMNS} from public.channels c where c.company_id = $1
              order by c.created_at, c.id limit $2 offset $3`,
            [q.company_id, q.limit + 1, q.offset],
          ));
        const page = paged([...rows], q);
        return json({
          items: page.items.map((r) => ({ ...r, inbound_path: inboundPath(r.id) })),
          next_offset: page.next_offset,
        });
      },
    },
    {
      method: "PATCH",
      pattern: "/:id",
      doc: {
        summary: "Change a channel's settings or ManyChat token (owners and admins)",
        auth: "user",
        body: Settings,
        bodyExample: { enabled: false },
        responses: { 200: { description: "The channel", schema: Channel } },
        errors: { 403: ["company_admin_required"], 404: ["not_found"], 409: ["conflict"] },
      },
      handler: async (req, ctx) => {
        const id = validate(Id, ctx.params.id, "channel id");
        const user = await requireUser(req, deps.verifier);
        const input = await readJson(req, Settings);
        const [{ ok }] = await rpc(() =>
          deps.sql()<{ ok: boolean }[]>`select private.update_channel(${user.id}, ${id},
            ${deps.sql().json(settingsOf(input))}, ${input.manychat_token ?? null}) as ok`
        );
        if (!ok) throw await notAllowed(user, id);
        return json(await asMember(user, (tx) => readChannel(tx, id)));
      },
    },
    {
      method: "POST",
      pattern: "/:id/rotate-secret",
      doc: {
        summary: "A new inbound secret, shown once; the old one stops working",
        description: "Owners and admins. Any body is ignored.",
        auth: "user",
        responses: { 200: { description: "The new secret", schema: RotatedSecret } },
        errors: { 403: ["company_admin_required"], 404: ["not_found"] },
      },
      handler: async (req, ctx) => {
        const id = validate(Id, ctx.params.id, "channel id");
        const user = await requireUser(req, deps.verifier);
        await req.body?.cancel().catch(() => {});
        const secret = newSecret();
        const [{ ok }] = await rpc(async () =>
          deps.sql()<{ ok: boolean }[]>`select private.update_channel(${user.id}, ${id},
            '{}'::jsonb, null, ${await secretHash(secret)}) as ok`
        );
        if (!ok) throw await notAllowed(user, id);
        return json({ id, inbound_secret: secret });
      },
    },
    {
      method: "DELETE",
      pattern: "/:id",
      doc: {
        summary: "Delete a channel, its subscribers and messages (owners and admins)",
        auth: "user",
        responses: { 204: { description: "Deleted" } },
        errors: { 403: ["company_admin_required"], 404: ["not_found"] },
      },
      handler: async (req, ctx) => {
        const id = validate(Id, ctx.params.id, "channel id");
        const user = await requireUser(req, deps.verifier);
        const [{ ok }] = await rpc(() =>
          deps.sql()<{ ok: boolean }[]>`select private.delete_channel(${user.id}, ${id}) as ok`
        );
        if (!ok) throw await notAllowed(user, id);
        return new Response(null, { status: 204 });
      },
    },
    {
      method: "DELETE",
      pattern: "/:id/subscribers/:ref",
      doc: {
        summary: "Erase one subscriber and their messages (owners and admins)",
        description: "`ref` is the subscriber's `subscriber_ref` from the messages list.",
        auth: "user",
        responses: { 204: { description: "Erased" } },
        errors: { 403: ["company_admin_required"], 404: ["not_found"] },
      },
      handler: async (req, ctx) => {
        const id = validate(Id, ctx.params.id, "channel id");
        const ref = validate(Id, ctx.params.ref, "subscriber id");
        const user = await requireUser(req, deps.verifier);
        const [{ ok }] = await rpc(() =>
          deps.sql()<{ ok: boolean }[]>`select private.erase_channel_subscriber(${user.id},
            ${id}, ${ref}) as ok`
        );
        if (!ok) throw await notAllowed(user, id);
        return new Response(null, { status: 204 });
      },
    },
    {
      method: "GET",
      pattern: "/:id/messages",
      doc: {
        summary: "A channel's messages, newest first, phones masked (members)",
        auth: "user",
        query: PageQuery,
        responses: { 200: { description: "A page of messages", schema: listOf(ChannelMessage) } },
        errors: { 404: ["not_found"] },
      },
      handler: async (req, ctx) => {
        const id = validate(Id, ctx.params.id, "channel id");
        const user = await requireUser(req, deps.verifier);
        const q = readQuery(ctx.url, PageQuery);
        const rows = await asMember(user, async (tx) => {
          await readChannel(tx, id);
          return await tx`
            select m.id, m.direction, m.text, m.status, m.error, m.attempts, m.part,
                   m.inbound_id, m.model, m.manychat_response, m.created_at, m.updated_at,
                   s.id as subscriber_ref, s.subscriber_id, s.phone_masked, s.name,
                   s.opted_out
              from public.channel_messages m
              join public.channel_subscribers s on s.id = m.subscriber_ref
             where m.channel_id = ${id}
             order by m.created_at desc, m.id desc
             limit ${q.limit + 1} offset ${q.offset}`;
        });
        return json(paged([...rows], q));
      },
    },
    {
      method: "GET",
      pattern: "/:id/status",
      doc: {
        summary: "Queue depth, oldest waiting, failures and unpaid answers in the last day",
        auth: "user",
        responses: { 200: { description: "The channel's status", schema: ChannelStatus } },
        errors: { 404: ["not_found"] },
      },
      handler: async (req, ctx) => {
        const id = validate(Id, ctx.params.id, "channel id");
        const user = await requireUser(req, deps.verifier);
        const channel = await asMember(user, (tx) => readChannel(tx, id));
        const [{ s }] = await deps.sql()<{ s: Record<string, unknown> }[]>`
          select private.channel_status(${id}) as s`;
        return json({ id, enabled: channel.enabled, ...s });
      },
    },
  ];

  /** 404 when the caller cannot see the channel, 403 when they see it but may not manage it. */
  async function notAllowed(user: AuthenticatedUser, id: string): Promise<HttpError> {
    await asMember(user, (tx) => readChannel(tx, id));
    return forbidden();
  }
}
