/**
 * ManyChat's wire format, for the `channels` function (the acknowledgement it answers an External
 * Request with) and `channel-worker` (the answer it sends later). Both speak Dynamic Block v2:
 * `{"version": "v2", "content": {"type": "whatsapp", "messages": [{"type": "text", "text"}]}}`
 * (at most 10 messages per block). Sending later is `POST <api>/fb/sending/sendContent` with
 * `Authorization: Bearer <token>` and `{subscriber_id, data: <Dynamic Block>, message_tag?}`;
 * ManyChat answers `{"status": "success"}` or its error envelope
 * `{"status": "error", "message", "details"?}` (for WhatsApp, also when the subscriber's last
 * message is older than 24 hours: free-form messages are refused outside that window).
 *
 * Lives in shared/ because both functions build Dynamic Blocks (docs/channels.md).
 */

/** WhatsApp's limit on one text message. */
export const WHATSAPP_TEXT_LIMIT = 4096;
/** Dynamic Block's limit on messages per block. */
export const DYNAMIC_BLOCK_MAX_MESSAGES = 10;
export const DEFAULT_MANYCHAT_API_URL = "https://api.manychat.com";

export interface DynamicBlock {
  version: "v2";
  content: { type: "whatsapp"; messages: { type: "text"; text: string }[] };
}

/** A Dynamic Block v2 for WhatsApp holding `texts` as text messages. */
export function dynamicBlock(texts: string[]): DynamicBlock {
  return {
    version: "v2",
    content: { type: "whatsapp", messages: texts.map((text) => ({ type: "text", text })) },
  };
}

/**
 * Splits `text` into parts of at most `limit` characters (code points), at a paragraph, line or
 * word break when there is one in the second half of the part, else hard.
 */
export function splitForWhatsApp(text: string, limit = WHATSAPP_TEXT_LIMIT): string[] {
  const parts: string[] = [];
  let rest = [...text.trim()];
  while (rest.length > limit) {
    const head = rest.slice(0, limit).join("");
    let cut = -1;
    for (const sep of ["\n\n", "\n", " "]) {
      const at = head.lastIndexOf(sep);
      if (at >= limit / 2) {
        cut = at;
        break;
      }
    }
    const piece = cut > 0 ? head.slice(0, cut) : head;
    parts.push(piece.trimEnd());
    rest = rest.slice([...piece].length);
    while (rest.length && /\s/.test(rest[0]!)) rest = rest.slice(1);
  }
  if (rest.length) parts.push(rest.join(""));
  return parts;
}

/** What sendContent answered: the HTTP status and ManyChat's body (success or error envelope). */
export interface SendResult {
  ok: boolean;
  status: number;
  body: unknown;
  /** ManyChat refused for good (4xx other than 429: the 24-hour window, a bad subscriber…). */
  permanent: boolean;
  /** A readable reason when not ok. */
  reason?: string;
}

export interface ManyChatClient {
  sendContent(token: string, subscriberId: string, block: DynamicBlock): Promise<SendResult>;
}

/** The readable part of ManyChat's error envelope. */
export function manyChatReason(status: number, body: unknown): string {
  const b = (body ?? {}) as { message?: unknown; details?: unknown };
  const message = typeof b.message === "string" ? b.message : `HTTP ${status}`;
  const details = b.details === undefined ? "" : ` (${JSON.stringify(b.details).slice(0, 300)})`;
  return `ManyChat: ${message}${details}`;
}

export function createManyChatClient(
  baseUrl = DEFAULT_MANYCHAT_API_URL,
  timeoutMs = 10_000,
): ManyChatClient {
  const url = `${baseUrl.replace(/\/+$/, "")}/fb/sending/sendContent`;
  return {
    async sendContent(token, subscriberId, block) {
      let res: Response;
      try {
        res = await fetch(url, {
          method: "POST",
          headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
          body: JSON.stringify({ subscriber_id: subscriberId, data: block }),
          signal: AbortSignal.timeout(timeoutMs),
        });
      } catch (err) {
        return {
          ok: false,
          status: 0,
          body: null,
          permanent: false,
          reason: `ManyChat unreachable: ${(err as Error).message}`,
        };
      }
      const text = await res.text();
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch { /* keep the text */ }
      const ok = res.ok && (body as { status?: unknown })?.status === "success";
      return {
        ok,
        status: res.status,
        body,
        permanent: !ok && res.status >= 400 && res.status < 500 && res.status !== 429,
        ...(ok ? {} : { reason: manyChatReason(res.status, body) }),
      };
    },
  };
}
