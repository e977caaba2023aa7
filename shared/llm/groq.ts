/**
 * One small LLM client over `groq-sdk` (Groq's OpenAI-compatible chat completions), generic enough
 * for chat answers and report narratives: messages in, text (or a stream of text) and token usage
 * out. Configuration: `GROQ_API_KEY`, `GROQ_MODEL` (default `DEFAULT_GROQ_MODEL`), `GROQ_BASE_URL`
 * (tests aim it at a fake server), `GROQ_TIMEOUT_MS`, `GROQ_MAX_RETRIES`.
 *
 * Failures become HttpErrors the handlers can return as they are: a timeout, a connection failure
 * or a 5xx is 502 `llm_unavailable`; Groq's 429 is 503 `llm_rate_limited` with `Retry-After`. The
 * upstream request id (Groq's `x-request-id`) is in `details` when Groq sent one.
 *
 * Cancelling (the caller's client went away): `stream().cancel()` or the request's `signal`
 * aborts the HTTP request to Groq, so the model stops. groq-sdk ends a stream quietly when its
 * request is aborted, so this client tells the cases apart itself: a stream cut by its timeout
 * throws 502 (it is not a complete answer), one the caller cancelled ends with `cancelled()`
 * true, and a cancelled `complete()` throws `LlmCancelled`.
 */
import Groq from "groq-sdk";
import { type GroqEnv, loadGroqEnv } from "../env.ts";
import { HttpError } from "../http.ts";
import { DEFAULT_GROQ_MODEL } from "../runtime_config.ts";

export interface LlmMessage {
  role: "system" | "user" | "assistant";
  content: string;
}

export interface LlmUsage {
  prompt_tokens: number;
  completion_tokens: number;
}

export interface LlmRequest {
  messages: LlmMessage[];
  temperature?: number;
  maxTokens?: number;
  /** Aborts the request to Groq (the caller's client went away). */
  signal?: AbortSignal;
}

/** The request was cancelled by the caller (`LlmRequest.signal`); no answer was made. */
export class LlmCancelled extends Error {
  constructor() {
    super("the language model request was cancelled");
    this.name = "LlmCancelled";
  }
}

export interface LlmResult {
  text: string;
  model: string;
  usage: LlmUsage;
}

export interface LlmStream {
  model: string;
  /** Text deltas as they arrive; throws an HttpError when the stream fails midway. */
  deltas: AsyncIterable<string>;
  /** The usage Groq reports in its last chunk (zeros until the stream has ended). */
  usage(): LlmUsage;
  /** Stops the model (the client went away): aborts the request; `deltas` then ends. */
  cancel(): void;
  /** Whether `cancel()` (or the request's signal) stopped the stream before it completed. */
  cancelled(): boolean;
}

export interface LlmClient {
  model: string;
  complete(req: LlmRequest): Promise<LlmResult>;
  /** Resolves once Groq has answered with headers (so refusals are thrown here, not midway). */
  stream(req: LlmRequest): Promise<LlmStream>;
}

export interface GroqOptions {
  apiKey: string;
  model?: string;
  baseURL?: string;
  /** Per request, covering the whole answer (a stream too). Default 30 s. */
  timeoutMs?: number;
  maxRetries?: number;
  fetch?: typeof fetch;
}

/**
 * The configured client, or undefined without `GROQ_API_KEY` (the caller falls back). The
 * variables are checked by shared/env.ts: a malformed one throws naming it.
 */
export function llmFromEnv(env: Record<string, string | undefined>): LlmClient | undefined {
  return llmFromConfig(loadGroqEnv(env));
}

/** The client for already validated settings (`loadEnv()` holds them). */
export function llmFromConfig(config: GroqEnv): LlmClient | undefined {
  if (!config.GROQ_API_KEY) return undefined;
  return createGroqClient({
    apiKey: config.GROQ_API_KEY,
    model: config.GROQ_MODEL,
    baseURL: config.GROQ_BASE_URL,
    timeoutMs: config.GROQ_TIMEOUT_MS,
    maxRetries: config.GROQ_MAX_RETRIES,
  });
}

function upstreamId(err: unknown): string | undefined {
  const headers = (err as { headers?: Headers | Record<string, string> })?.headers;
  if (!headers) return undefined;
  if (headers instanceof Headers) return headers.get("x-request-id") ?? undefined;
  return headers["x-request-id"];
}

/** Maps a groq-sdk (or abort) failure to the HttpError the API answers with. */
export function llmError(err: unknown): HttpError {
  if (err instanceof HttpError) return err;
  const id = upstreamId(err);
  const details = id ? { upstream_request_id: id } : undefined;
  if (err instanceof Groq.RateLimitError) {
    const headers = err.headers as Headers | undefined;
    const raw = Number(headers?.get?.("retry-after") ?? "");
    const wait = Number.isFinite(raw) && raw > 0 ? Math.ceil(raw) : 10;
    return new HttpError(
      503,
      "llm_rate_limited",
      `The language model is busy; try again in ${wait} s.`,
      details,
      { "retry-after": String(wait) },
    );
  }
  const timedOut = err instanceof Groq.APIConnectionTimeoutError ||
    (err instanceof Error && (err.name === "TimeoutError" || err.name === "AbortError"));
  const status = (err as { status?: number })?.status;
  const what = timedOut
    ? "did not answer in time"
    : status
    ? `failed (HTTP ${status})`
    : err instanceof Groq.APIConnectionError
    ? "could not be reached"
    : "failed while answering";
  return new HttpError(502, "llm_unavailable", `The language model ${what}.`, details);
}

const ZERO: LlmUsage = { prompt_tokens: 0, completion_tokens: 0 };

function usageOf(raw: unknown): LlmUsage | undefined {
  const u = raw as { prompt_tokens?: number; completion_tokens?: number } | null | undefined;
  if (!u || typeof u.prompt_tokens !== "number") return undefined;
  return { prompt_tokens: u.prompt_tokens, completion_tokens: u.completion_tokens ?? 0 };
}

export function createGroqClient(opts: GroqOptions): LlmClient {
  const model = opts.model ?? DEFAULT_GROQ_MODEL;
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const groq = new Groq({
    apiKey: opts.apiKey,
    baseURL: opts.baseURL ?? "https://api.groq.com",
    timeout: timeoutMs,
    maxRetries: opts.maxRetries ?? 1,
    ...(opts.fetch ? { fetch: opts.fetch } : {}),
  });
  const body = (req: LlmRequest) => ({
    model,
    messages: req.messages,
    temperature: req.temperature ?? 0.2,
    ...(req.maxTokens ? { max_completion_tokens: req.maxTokens } : {}),
  });

  return {
    model,
    async complete(req) {
      const timeout = AbortSignal.timeout(timeoutMs);
      const signal = req.signal ? AbortSignal.any([timeout, req.signal]) : timeout;
      try {
        if (req.signal?.aborted) throw new LlmCancelled();
        const res = await groq.chat.completions.create({ ...body(req), stream: false }, { signal });
        return {
          text: res.choices[0]?.message?.content ?? "",
          model: res.model || model,
          usage: usageOf(res.usage) ?? ZERO,
        };
      } catch (err) {
        if (req.signal?.aborted && !timeout.aborted) throw new LlmCancelled();
        throw llmError(signal.aborted ? signal.reason : err);
      }
    },
    async stream(req) {
      const controller = new AbortController();
      const timer = setTimeout(
        () => controller.abort(new DOMException("timeout", "TimeoutError")),
        timeoutMs,
      );
      let cancelled = false;
      const cancel = () => {
        if (controller.signal.aborted) return;
        cancelled = true;
        controller.abort(new DOMException("cancelled", "AbortError"));
      };
      if (req.signal?.aborted) cancel();
      req.signal?.addEventListener("abort", cancel, { once: true });
      let usage = ZERO;
      let chunks: AsyncIterable<Groq.Chat.ChatCompletionChunk>;
      try {
        chunks = await groq.chat.completions.create({ ...body(req), stream: true }, {
          signal: controller.signal,
        });
      } catch (err) {
        clearTimeout(timer);
        throw llmError(controller.signal.aborted ? controller.signal.reason : err);
      }
      async function* deltas(): AsyncGenerator<string> {
        try {
          for await (const chunk of chunks) {
            const text = chunk.choices[0]?.delta?.content;
            if (text) yield text;
            const u = usageOf(chunk.x_groq?.usage) ??
              usageOf((chunk as { usage?: unknown }).usage);
            if (u) usage = u;
            const failed = chunk.x_groq?.error;
            if (failed) {
              throw new HttpError(502, "llm_unavailable", `The language model failed: ${failed}`);
            }
          }
          // groq-sdk ends quietly when its request is aborted: a timeout is not an answer.
          if (controller.signal.aborted && !cancelled) throw controller.signal.reason;
        } catch (err) {
          if (cancelled) return;
          throw llmError(controller.signal.aborted ? controller.signal.reason : err);
        } finally {
          clearTimeout(timer);
          req.signal?.removeEventListener("abort", cancel);
        }
      }
      return {
        model,
        deltas: deltas(),
        usage: () => usage,
        cancel,
        cancelled: () => cancelled,
      };
    },
  };
}
