/**
 * A fake Groq server on 127.0.0.1 speaking the OpenAI-compatible chat completions wire format that
 * groq-sdk uses: `POST /openai/v1/chat/completions` with a Bearer key, a JSON completion (with
 * `usage`) or, with `"stream": true`, SSE chunks (`chat.completion.chunk`, usage in the last one's
 * `x_groq.usage`) ending with `data: [DONE]`. Errors as Groq sends them
 * (`{"error": {"message", "type", "code"}}`, `x-request-id`, `retry-after` on 429).
 *
 * Modes (`setMode`):
 * - `cite`: reads the numbered source passages of the prompt and answers citing [1] first,
 *   then [2], quoting a few words of each;
 * - `echo`: answers with the last user message, verbatim;
 * - `invent`: cites [1] and markers that match no passage ([42], [7, 99]), and a figure no passage
 *   holds (999 million);
 * - `figure`: states the last number of passage [1], written with a rupee sign and thousands
 *   separators ("98765" → "₹98,765"), citing [1];
 * - `fail`: 500; `rate_limit`: 429 with `retry-after`; `hang`: never answers;
 * - `fail_midstream`: streams a few deltas, then an error chunk.
 * `delayMs` slows every answer (and every streamed chunk by up to 20 ms); `chunkDelayMs` sets the
 * pause before each streamed chunk. Every request is recorded, with `aborted` set when the client
 * (groq-sdk) aborted it before the answer was complete.
 */

export type GroqMode =
  | "cite"
  | "echo"
  | "invent"
  | "figure"
  | "fail"
  | "rate_limit"
  | "hang"
  | "fail_midstream";

export interface GroqRequestRecord {
  at: number;
  authorization: string | null;
  model: string;
  stream: boolean;
  messages: { role: string; content: string }[];
  /** The client aborted the request before its answer was complete. */
  aborted: boolean;
}

export interface FakeGroq {
  /** GROQ_BASE_URL */
  url: string;
  requests: GroqRequestRecord[];
  setMode(
    mode: GroqMode,
    opts?: { delayMs?: number; chunkDelayMs?: number; retryAfter?: number },
  ): void;
  stop(): Promise<void>;
}

const encoder = new TextEncoder();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The passages of the prompt: number → text. */
export function promptSources(prompt: string): Map<number, string> {
  const out = new Map<number, string>();
  // shared/retrieval formatSources: "[n]", then a ```text fence holding "File: …", maybe
  // "Location: …", a "---" line and the passage.
  const block =
    /^\[(\d+)\]\n(`{3,})text\nFile: [^\n]*\n(?:Location: [^\n]*\n)?---\n([\s\S]*?)\n\2$/gm;
  for (const m of prompt.matchAll(block)) {
    out.set(Number(m[1]), m[3]!);
  }
  return out;
}

function answerFor(mode: GroqMode, messages: GroqRequestRecord["messages"]): string {
  const last = [...messages].reverse().find((m) => m.role === "user")?.content ?? "";
  if (mode === "echo") return last;
  const sources = promptSources(last);
  if (mode === "invent") {
    return "Revenue was 999 million [42]. Per the files, see [1] and also [7, 99].";
  }
  if (sources.size === 0) return "The sources do not hold the answer.";
  if (mode === "figure") {
    const last = sources.get(1)?.match(/\d+(?:\.\d+)?/g)?.at(-1);
    if (!last) return "Passage [1] states no figure.";
    const [int, dec] = last.split(".");
    const grouped = int!.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
    return `The figure is ₹${grouped}${dec ? `.${dec}` : ""} [1].`;
  }
  const parts = [...sources.entries()].slice(0, 2).map(([n, text]) => {
    const words = text.replace(/\s+/g, " ").split(" ").slice(0, 12).join(" ");
    return `According to the files, "${words}" [${n}].`;
  });
  return parts.join(" ");
}

function completionId(): string {
  return `chatcmpl-${crypto.randomUUID()}`;
}

function errorResponse(status: number, message: string, type: string, headers = {}): Response {
  return Response.json({ error: { message, type, code: type } }, {
    status,
    headers: { "x-request-id": `req_${crypto.randomUUID()}`, ...headers },
  });
}

export function startFakeGroq(): FakeGroq {
  const requests: GroqRequestRecord[] = [];
  let mode: GroqMode = "cite";
  let delayMs = 0;
  let chunkDelayMs: number | undefined;
  let retryAfter = 7;
  const hanging = new Set<() => void>();

  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    const path = new URL(req.url).pathname;
    if (req.method !== "POST" || path !== "/openai/v1/chat/completions") {
      return errorResponse(404, "Unknown request URL", "invalid_request_error");
    }
    const authorization = req.headers.get("authorization");
    if (!authorization?.startsWith("Bearer gsk_")) {
      return errorResponse(401, "Invalid API Key", "invalid_api_key");
    }
    const body = await req.json() as {
      model: string;
      stream?: boolean;
      messages: { role: string; content: string }[];
    };
    const record: GroqRequestRecord = {
      at: Date.now(),
      authorization,
      model: body.model,
      stream: !!body.stream,
      messages: body.messages,
      aborted: false,
    };
    requests.push(record);
    let complete = false;
    req.signal.addEventListener("abort", () => {
      if (!complete) record.aborted = true;
    });
    if (mode === "fail") {
      return errorResponse(500, "Internal Server Error", "internal_server_error");
    }
    if (mode === "rate_limit") {
      return errorResponse(
        429,
        `Rate limit reached for model ${body.model}`,
        "rate_limit_exceeded",
        {
          "retry-after": String(retryAfter),
        },
      );
    }
    if (mode === "hang") {
      await new Promise<void>((resolve) => {
        hanging.add(resolve);
        req.signal.addEventListener("abort", () => resolve());
      });
      return errorResponse(504, "gone", "timeout");
    }
    if (delayMs > 0) await sleep(delayMs);
    const text = answerFor(mode, body.messages);
    const promptTokens = Math.ceil(body.messages.map((m) => m.content).join(" ").length / 4);
    const completionTokens = Math.ceil(text.length / 4);
    const usage = {
      prompt_tokens: promptTokens,
      completion_tokens: completionTokens,
      total_tokens: promptTokens + completionTokens,
    };
    const id = completionId();
    const requestId = `req_${crypto.randomUUID()}`;
    const created = Math.floor(Date.now() / 1000);
    const headers = { "x-request-id": requestId };
    if (!body.stream) {
      complete = true;
      return Response.json({
        id,
        object: "chat.completion",
        created,
        model: body.model,
        choices: [{
          index: 0,
          message: { role: "assistant", content: text },
          logprobs: null,
          finish_reason: "stop",
        }],
        usage,
        system_fingerprint: "fp_fake",
        x_groq: { id: requestId },
      }, { headers });
    }
    const chunk = (delta: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
      encoder.encode(`data: ${
        JSON.stringify({
          id,
          object: "chat.completion.chunk",
          created,
          model: body.model,
          system_fingerprint: "fp_fake",
          choices: [{
            index: 0,
            delta,
            logprobs: null,
            finish_reason: "finish_reason" in extra ? extra.finish_reason : null,
          }],
          ...("x_groq" in extra ? { x_groq: extra.x_groq } : { x_groq: { id: requestId } }),
        })
      }\n\n`);
    // Deltas of 5 characters, so citation markers arrive split across chunks.
    const pieces = text.match(/[\s\S]{1,5}/g) ?? [];
    const stream = new ReadableStream<Uint8Array>({
      async start(controller) {
        controller.enqueue(chunk({ role: "assistant", content: "" }));
        for (const [i, piece] of pieces.entries()) {
          if (mode === "fail_midstream" && i === 3) {
            controller.enqueue(encoder.encode(
              `data: ${
                JSON.stringify({
                  error: { message: "Service Unavailable", type: "internal_server_error" },
                })
              }\n\n`,
            ));
            controller.close();
            return;
          }
          const pause = chunkDelayMs ?? Math.min(delayMs, 20);
          if (pause > 0) await sleep(pause);
          if (record.aborted) return;
          controller.enqueue(chunk({ content: piece }));
        }
        complete = true;
        controller.enqueue(chunk({}, {
          finish_reason: "stop",
          x_groq: { id: requestId, usage },
        }));
        controller.enqueue(encoder.encode("data: [DONE]\n\n"));
        controller.close();
      },
      cancel() {
        if (!complete) record.aborted = true;
      },
    });
    return new Response(stream, {
      headers: { ...headers, "content-type": "text/event-stream", "cache-control": "no-cache" },
    });
  });

  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    requests,
    setMode(next, opts = {}) {
      mode = next;
      delayMs = opts.delayMs ?? 0;
      chunkDelayMs = opts.chunkDelayMs;
      retryAfter = opts.retryAfter ?? 7;
    },
    async stop() {
      for (const release of hanging) release();
      await server.shutdown();
    },
  };
}
