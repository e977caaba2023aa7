/**
 * The local mail catcher (what Inbucket/Mailpit are in Supabase's local stack): a loopback server
 * that speaks Resend's send API, so the functions' mailer (shared/mail.ts) talks to it exactly as
 * it talks to Resend on a hosted project, and keeps every message in memory instead of delivering
 * it. The invitation links of the companies function and the local Auth server's confirmation
 * links land here.
 *
 * - `POST /emails` (Resend's wire format): `Authorization: Bearer <key>` (401 `missing_api_key`,
 *   403 `invalid_api_key`), JSON `{from, to, subject, html?, text?, ...}` (422
 *   `missing_required_field` / `validation_error`); `Idempotency-Key` sends a retried request once;
 *   `200 {"id"}`. Errors are Resend's `{statusCode, name, message}`.
 * - `GET /emails/{id}`: the message as Resend's email object.
 * - `GET /mail[?to=address]`: `{messages: [...]}`, newest first (what tests read);
 *   `DELETE /mail` empties it.
 * - `GET /`: the same list as a page for a browser.
 *
 * Loopback only, and the last 1,000 messages only. Nothing here is deployed.
 */
import { z } from "zod";
import { escapeHtml } from "../shared/mail.ts";

export interface CaughtMail {
  object: "email";
  id: string;
  from: string;
  to: string[];
  cc: string[] | null;
  bcc: string[] | null;
  reply_to: string[] | null;
  subject: string;
  html: string | null;
  text: string | null;
  created_at: string;
  last_event: "delivered";
}

export interface MailCatcher {
  /** Where the catcher listens: the `MAIL_API_URL` of the functions, and the page to open. */
  url: string;
  /** The key it expects (the functions' `MAIL_API_KEY`). */
  apiKey: string;
  messages(to?: string): CaughtMail[];
  stop(): Promise<void>;
}

const MAX_MESSAGES = 1000;

const Addresses = z.union([z.string().min(1), z.array(z.string().min(1)).min(1).max(50)])
  .transform((v) => (Array.isArray(v) ? v : [v]));
const SendBody = z.object({
  from: z.string().min(1),
  to: Addresses,
  subject: z.string().min(1),
  html: z.string().optional(),
  text: z.string().optional(),
  cc: Addresses.optional(),
  bcc: Addresses.optional(),
  reply_to: Addresses.optional(),
}).loose();

function resendError(statusCode: number, name: string, message: string): Response {
  return Response.json({ statusCode, name, message }, { status: statusCode });
}

/** The bare address of `Name <address>` or `address`, lower-case. */
function address(recipient: string): string {
  return (/<([^>]+)>/.exec(recipient)?.[1] ?? recipient).trim().toLowerCase();
}

function page(messages: CaughtMail[]): string {
  const rows = messages.map((m) =>
    `<li><p><b>${escapeHtml(m.subject)}</b><br>to ${escapeHtml(m.to.join(", "))} from ${
      escapeHtml(m.from)
    } at ${m.created_at}</p><pre>${escapeHtml(m.text ?? "")}</pre></li>`
  ).join("\n");
  return `<!doctype html><meta charset="utf-8"><title>Local mail</title>
<h1>Local mail (${messages.length})</h1><p>JSON: <a href="/mail">/mail</a></p><ol>${rows}</ol>`;
}

export function startMailCatcher(
  opts: { host?: string; port?: number; apiKey?: string } = {},
): MailCatcher {
  const apiKey = opts.apiKey ?? `re_local_${crypto.randomUUID().replaceAll("-", "")}`;
  const caught: CaughtMail[] = [];
  const byIdempotencyKey = new Map<string, string>();
  const controller = new AbortController();

  const handle = async (req: Request): Promise<Response> => {
    const url = new URL(req.url);
    if (req.method === "POST" && url.pathname === "/emails") {
      const bearer = /^Bearer\s+(\S+)$/i.exec(req.headers.get("authorization") ?? "")?.[1];
      if (!bearer) {
        return resendError(401, "missing_api_key", "Missing API key in the authorization header.");
      }
      if (bearer !== apiKey) return resendError(403, "invalid_api_key", "API key is invalid.");
      const raw = await req.json().catch(() => undefined);
      if (!raw || typeof raw !== "object") {
        return resendError(422, "validation_error", "The body must be a JSON object.");
      }
      const missing = ["from", "to", "subject"].filter((k) => !(k in raw));
      if (missing.length > 0) {
        return resendError(422, "missing_required_field", `Missing \`${missing.join("`, `")}\`.`);
      }
      const input = SendBody.safeParse(raw);
      if (!input.success) {
        const issue = input.error.issues[0];
        return resendError(
          422,
          "validation_error",
          `Invalid \`${issue.path.join(".")}\` field: ${issue.message}`,
        );
      }
      if (input.data.html === undefined && input.data.text === undefined) {
        return resendError(422, "validation_error", "Provide `html` or `text`.");
      }
      const key = req.headers.get("idempotency-key");
      if (key !== null && (key.length < 1 || key.length > 256)) {
        return resendError(400, "invalid_idempotency_key", "The key must be between 1-256 chars.");
      }
      const seen = key ? byIdempotencyKey.get(key) : undefined;
      if (seen) return Response.json({ id: seen });
      const mail: CaughtMail = {
        object: "email",
        id: crypto.randomUUID(),
        from: input.data.from,
        to: input.data.to,
        cc: input.data.cc ?? null,
        bcc: input.data.bcc ?? null,
        reply_to: input.data.reply_to ?? null,
        subject: input.data.subject,
        html: input.data.html ?? null,
        text: input.data.text ?? null,
        created_at: new Date().toISOString(),
        last_event: "delivered",
      };
      caught.unshift(mail);
      caught.length = Math.min(caught.length, MAX_MESSAGES);
      if (key) byIdempotencyKey.set(key, mail.id);
      return Response.json({ id: mail.id });
    }
    const one = /^\/emails\/([0-9a-f-]{36})$/.exec(url.pathname);
    if (req.method === "GET" && one) {
      const mail = caught.find((m) => m.id === one[1]);
      return mail ? Response.json(mail) : resendError(404, "not_found", "Email not found.");
    }
    if (url.pathname === "/mail" && req.method === "GET") {
      return Response.json({ messages: messages(url.searchParams.get("to") ?? undefined) });
    }
    if (url.pathname === "/mail" && req.method === "DELETE") {
      caught.length = 0;
      byIdempotencyKey.clear();
      return new Response(null, { status: 204 });
    }
    if (url.pathname === "/" && req.method === "GET") {
      return new Response(page(caught), {
        headers: { "content-type": "text/html; charset=utf-8" },
      });
    }
    return resendError(404, "not_found", `No route for ${req.method} ${url.pathname}.`);
  };

  const messages = (to?: string) =>
    to ? caught.filter((m) => m.to.some((r) => address(r) === to.toLowerCase())) : [...caught];

  const server = Deno.serve({
    hostname: opts.host ?? "127.0.0.1",
    port: opts.port ?? 54324,
    signal: controller.signal,
    onListen: () => {},
  }, handle);
  const url = `http://${opts.host ?? "127.0.0.1"}:${server.addr.port}`;

  return {
    url,
    apiKey,
    messages,
    async stop() {
      controller.abort();
      await server.finished;
    },
  };
}
