/**
 * A fake ManyChat API on 127.0.0.1 speaking its wire format for what the channel worker uses:
 * `POST /fb/sending/sendContent` with `Authorization: Bearer <page API token>` and
 * `{subscriber_id, data: <Dynamic Block v2>, message_tag?}`; `{"status": "success"}` on success,
 * and ManyChat's error envelope `{"status": "error", "message", "details"}` otherwise: 401 for a
 * wrong token, 400 for a malformed block or text over 4,096 characters, 400 for a WhatsApp
 * subscriber outside the 24-hour window (`closeWindow()`), 500 in `fail` mode.
 *
 * Every accepted send is recorded (`sent`); `requests` holds every call.
 */

export interface ManyChatSend {
  at: number;
  subscriberId: string;
  texts: string[];
}

export interface FakeManyChat {
  /** MANYCHAT_API_URL */
  url: string;
  sent: ManyChatSend[];
  requests: number;
  /** The 24-hour window is closed for this subscriber (free-form messages refused). */
  closeWindow(subscriberId: string): void;
  /** `fail`: every send answers 500 in the error envelope. */
  setMode(mode: "ok" | "fail"): void;
  stop(): Promise<void>;
}

const error = (status: number, message: string, details?: unknown) =>
  Response.json({ status: "error", message, ...(details ? { details } : {}) }, { status });

export function startFakeManyChat(token: string): FakeManyChat {
  const sent: ManyChatSend[] = [];
  const closed = new Set<string>();
  let mode: "ok" | "fail" = "ok";
  let requests = 0;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    requests++;
    const path = new URL(req.url).pathname;
    if (req.method !== "POST" || path !== "/fb/sending/sendContent") {
      return error(404, "Not found");
    }
    if (req.headers.get("authorization") !== `Bearer ${token}`) {
      return error(401, "Wrong format token");
    }
    // deno-lint-ignore no-explicit-any
    const body: any = await req.json().catch(() => null);
    if (mode === "fail") return error(500, "Internal server error");
    const messages = body?.data?.content?.messages;
    const problems: string[] = [];
    if (!body?.subscriber_id) problems.push("subscriber_id is required");
    if (body?.data?.version !== "v2") problems.push("data.version must be v2");
    if (!Array.isArray(messages) || messages.length === 0 || messages.length > 10) {
      problems.push("data.content.messages must hold 1 to 10 messages");
    } else {
      for (const m of messages) {
        if (m?.type !== "text" || typeof m.text !== "string" || m.text.length === 0) {
          problems.push("a text message needs a text");
        } else if (m.text.length > 4096) problems.push("text is longer than 4096 characters");
      }
    }
    if (problems.length) {
      return error(400, "Validation error", { messages: problems.map((message) => ({ message })) });
    }
    const subscriberId = String(body.subscriber_id);
    if (closed.has(subscriberId)) {
      return error(400, "Subscriber is out of the 24 hour messaging window", {
        messages: [{
          message: "WhatsApp allows free-form messages only within 24 hours of the " +
            "subscriber's last message; use a template.",
        }],
      });
    }
    sent.push({
      at: Date.now(),
      subscriberId,
      texts: messages.map((m: { text: string }) => m.text),
    });
    return Response.json({ status: "success" });
  });
  const addr = server.addr as Deno.NetAddr;
  return {
    url: `http://127.0.0.1:${addr.port}`,
    sent,
    get requests() {
      return requests;
    },
    closeWindow: (s) => void closed.add(s),
    setMode: (m) => void (mode = m),
    stop: () => server.shutdown(),
  };
}
