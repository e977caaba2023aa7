/**
 * Sending email: one small interface (`Mailer`) and its one implementation, a client of Resend's
 * HTTP API (`POST {MAIL_API_URL}/emails` with `Authorization: Bearer {MAIL_API_KEY}` and a JSON
 * body `{from, to, subject, html, text}`; `200 {"id"}`, or an error `{statusCode, name, message}`).
 * Any provider or relay that speaks that wire format works by changing `MAIL_API_URL`; locally it
 * is the mail catcher (local/mail_catcher.ts), which speaks the same API.
 *
 * Shared because two places send mail: the companies function (invitation links) and the local
 * Auth server (signup confirmation links, to the catcher). A failure of any kind is a `MailError`
 * (its caller decides what the user is told); the key never appears in one.
 */
import { z } from "zod";

export interface Mail {
  to: string;
  subject: string;
  text: string;
  html: string;
  /** Sent as Resend's `Idempotency-Key`: a retried request sends the mail once. */
  idempotencyKey?: string;
}

export interface Mailer {
  /** Sends one mail; resolves to the provider's message id. */
  send(mail: Mail): Promise<{ id: string }>;
}

export interface MailConfig {
  /** The API base: `https://api.resend.com`, or the local catcher. */
  apiUrl: string;
  apiKey: string;
  /** The sender, `Name <address>` or an address (on Resend, of a verified domain). */
  from: string;
  timeoutMs: number;
}

export const DEFAULT_MAIL_API_URL = "https://api.resend.com";
const DEFAULT_TIMEOUT_MS = 10_000;

/** The mail settings of an environment, or undefined when no provider is configured. */
export function mailConfigFromEnv(env: {
  MAIL_API_URL?: string;
  MAIL_API_KEY?: string;
  MAIL_FROM?: string;
  MAIL_TIMEOUT_MS?: number;
}): MailConfig | undefined {
  if (!env.MAIL_API_KEY || !env.MAIL_FROM) return undefined;
  return {
    apiUrl: env.MAIL_API_URL || DEFAULT_MAIL_API_URL,
    apiKey: env.MAIL_API_KEY,
    from: env.MAIL_FROM,
    timeoutMs: env.MAIL_TIMEOUT_MS ?? DEFAULT_TIMEOUT_MS,
  };
}

export class MailError extends Error {
  constructor(
    message: string,
    /** The provider's HTTP status, or undefined when it never answered. */
    readonly status?: number,
    /** The provider's error name (`validation_error`, `invalid_api_key`, …). */
    readonly providerError?: string,
  ) {
    super(message);
    this.name = "MailError";
  }
}

const SentBody = z.object({ id: z.string().min(1) }).loose();
const ErrorBody = z.object({ name: z.string().optional(), message: z.string().optional() })
  .loose();

/** A `Mailer` speaking Resend's `POST /emails`. */
export function resendMailer(config: MailConfig, fetchFn: typeof fetch = fetch): Mailer {
  const endpoint = `${config.apiUrl.replace(/\/+$/, "")}/emails`;
  return {
    async send(mail) {
      const headers: Record<string, string> = {
        authorization: `Bearer ${config.apiKey}`,
        "content-type": "application/json",
      };
      if (mail.idempotencyKey) headers["idempotency-key"] = mail.idempotencyKey;
      let res: Response;
      try {
        res = await fetchFn(endpoint, {
          method: "POST",
          headers,
          body: JSON.stringify({
            from: config.from,
            to: [mail.to],
            subject: mail.subject,
            html: mail.html,
            text: mail.text,
          }),
          signal: AbortSignal.timeout(config.timeoutMs),
        });
      } catch (err) {
        throw new MailError(`mail API unreachable: ${(err as Error).name}`);
      }
      const body = await res.json().catch(() => undefined);
      if (!res.ok) {
        const error = ErrorBody.safeParse(body);
        const name = error.success ? error.data.name : undefined;
        const message = error.success ? error.data.message : undefined;
        throw new MailError(
          `mail API answered ${res.status}${name ? ` ${name}` : ""}${
            message ? `: ${message}` : ""
          }`,
          res.status,
          name,
        );
      }
      const sent = SentBody.safeParse(body);
      if (!sent.success) throw new MailError("mail API answered without a message id", res.status);
      return { id: sent.data.id };
    },
  };
}

/** Escapes text for an HTML body. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
