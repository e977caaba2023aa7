/**
 * `POST /chat/sessions` (`{workbench_id}`: the caller's active session on that workbench, created
 * when there is none), `GET /chat/sessions?workbenchId=` (the caller's sessions) and
 * `GET /chat/sessions/{id}/messages?limit=&before=` (history with sources, newest page first, each
 * page oldest first; each message's `status` is `complete`, or `interrupted` for an answer whose
 * client went away mid-answer). All as the caller: RLS shows only their own sessions on workbenches
 * they can still see, so anyone else's session is a 404. Any workbench role may chat.
 */
import { z } from "zod";
import { requireUser } from "../../shared/auth.ts";
import { asCaller } from "../../shared/db.ts";
import { HttpError, json, readJson, readQuery, type Route, validate } from "../../shared/http.ts";
import { listBody, paged, PageQuery } from "../../shared/pagination.ts";
import { enforceRateLimit } from "../../shared/rate_limit.ts";
import type { ChatDeps } from "./deps.ts";
import { SESSION_NOT_FOUND } from "./turn_store.ts";
import { listOf } from "../../shared/route_doc.ts";
import { MessagePage, OpenedSession, Session } from "./schemas.ts";

const SessionInput = z.object({ workbench_id: z.uuid() });
const SessionsQuery = PageQuery.extend({ workbench_id: z.uuid().optional() });
const MessagesQuery = PageQuery.extend({ before: z.uuid().optional() });
const Id = z.uuid();
const WORKBENCH_NOT_FOUND = "Workbench not found.";
const SESSION_COLUMNS = "id, workbench_id, title, status, created_at, updated_at, last_message_at";

interface SessionRow {
  id: string;
  workbench_id: string;
  title: string | null;
  status: string;
  created_at: string;
  updated_at: string;
  last_message_at: string | null;
}

interface MessageRow {
  id: string;
  session_id: string;
  role: string;
  content: string;
  sources: unknown[];
  warnings: unknown[];
  model: string | null;
  prompt_tokens: number | null;
  completion_tokens: number | null;
  status: "complete" | "interrupted";
  created_at: string;
}

export function sessionRoutes(deps: ChatDeps): Route[] {
  return [
    {
      method: "POST",
      pattern: "/sessions",
      doc: {
        summary: "Open the caller's active session on a workbench (any role)",
        auth: "user",
        body: SessionInput,
        bodyExample: { workbench_id: "0f8fad5b-d9cb-469f-a165-70867728950e" },
        responses: {
          201: { description: "A new session", schema: OpenedSession },
          200: { description: "The caller's active session", schema: OpenedSession },
        },
        errors: { 404: ["not_found"], 429: ["rate_limited"] },
      },
      handler: async (req) => {
        const user = await requireUser(req, deps.verifier);
        const input = await readJson(req, SessionInput);
        await enforceRateLimit(deps.sql(), "create", req, user.id);
        const { row, created } = await asCaller(deps.sql(), user.claims, async (tx) => {
          const [role] = await tx<
            { role: string | null }[]
          >`select public.workbench_role(${input.workbench_id}) as role`;
          if (!role?.role) throw new HttpError(404, "not_found", WORKBENCH_NOT_FOUND);
          const [inserted] = await tx<SessionRow[]>`
            insert into public.chat_session (workbench_id) values (${input.workbench_id})
            on conflict (workbench_id, user_id) where status = 'active' do nothing
            returning ${tx.unsafe(SESSION_COLUMNS)}`;
          if (inserted) return { row: inserted, created: true };
          const [existing] = await tx<SessionRow[]>`
            select ${tx.unsafe(SESSION_COLUMNS)} from public.chat_session
             where workbench_id = ${input.workbench_id} and user_id = ${user.id}
               and status = 'active'`;
          return { row: existing, created: false };
        }, WORKBENCH_NOT_FOUND);
        return json({ ...row, created }, created ? 201 : 200);
      },
    },
    {
      method: "GET",
      pattern: "/sessions",
      doc: {
        summary: "The caller's sessions, most recent first",
        auth: "user",
        query: SessionsQuery,
        responses: { 200: { description: "A page of sessions", schema: listOf(Session) } },
      },
      handler: async (req, ctx) => {
        const user = await requireUser(req, deps.verifier);
        const q = readQuery(ctx.url, SessionsQuery);
        const workbenchId = q.workbench_id ?? null;
        const rows = await asCaller(
          deps.sql(),
          user.claims,
          (tx) =>
            tx<SessionRow[]>`select ${tx.unsafe(SESSION_COLUMNS)} from public.chat_session
              where user_id = ${user.id}
                and (${workbenchId}::uuid is null or workbench_id = ${workbenchId}::uuid)
              order by coalesce(last_message_at, created_at) desc, id
              limit ${q.limit + 1} offset ${q.offset}`,
        );
        return json(listBody(paged([...rows], q), "sessions"));
      },
    },
    {
      method: "GET",
      pattern: "/sessions/:id/messages",
      doc: {
        summary: "A session's history, newest page first (each page oldest first)",
        auth: "user",
        query: MessagesQuery,
        responses: { 200: { description: "A page of messages", schema: MessagePage } },
        errors: { 404: ["not_found"] },
      },
      handler: async (req, ctx) => {
        const user = await requireUser(req, deps.verifier);
        const sessionId = validate(Id, ctx.params.id, "session id");
        const q = readQuery(ctx.url, MessagesQuery);
        const before = q.before ?? null;
        const rows = await asCaller(deps.sql(), user.claims, async (tx) => {
          const [session] = await tx<
            { id: string }[]
          >`select id from public.chat_session where id = ${sessionId}`;
          if (!session) throw new HttpError(404, "not_found", SESSION_NOT_FOUND);
          return await tx<MessageRow[]>`
            select id, session_id, role, content, sources, warnings, model, prompt_tokens,
                   completion_tokens, status, created_at
              from public.message m
             where session_id = ${sessionId}
               and (${before}::uuid is null or (m.created_at, m.id) < (
                      select b.created_at, b.id from public.message b
                       where b.id = ${before}::uuid and b.session_id = ${sessionId}))
             order by created_at desc, id desc
             limit ${q.limit + 1} offset ${q.offset}`;
        }, SESSION_NOT_FOUND);
        // Pages run from the newest message back; each page is in chronological order.
        const { items: newestFirst, next_offset } = paged([...rows], q);
        const items = newestFirst.reverse();
        const next_before = next_offset === null ? null : items[0]?.id ?? null;
        return json({ ...listBody({ items, next_offset }, "messages"), next_before });
      },
    },
  ];
}
