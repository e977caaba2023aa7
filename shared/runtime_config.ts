/**
 * Which external services this deployment is configured to use, described without secrets, for
 * `readyz` and the logs: a deployed project must never run on a development fallback unnoticed.
 */
import { embedderChoice, type EmbedderKind } from "./embedder_choice.ts";

export const DEFAULT_GROQ_MODEL = "llama-3.3-70b-versatile";

export interface RuntimeConfig {
  embedder: { provider: EmbedderKind; model: string };
  llm: { provider: "groq" | "extractive"; model: string | null };
  payments: { provider: "razorpay" | "none"; mode: "test" | "live" | null; webhooks: boolean };
}

export function describeRuntimeConfig(
  env: Record<string, string | undefined>,
  runtime: unknown = globalThis,
): RuntimeConfig {
  const embedder = embedderChoice(env, runtime);
  // Checkout needs both keys (shared/payments/razorpay.ts); a key id alone is not configured.
  const keyId = env.RAZORPAY_KEY_SECRET ? env.RAZORPAY_KEY_ID ?? "" : "";
  return {
    embedder: { provider: embedder.kind, model: embedder.model },
    llm: env.GROQ_API_KEY
      ? { provider: "groq", model: env.GROQ_MODEL || DEFAULT_GROQ_MODEL }
      : { provider: "extractive", model: null },
    payments: keyId
      ? {
        provider: "razorpay",
        mode: keyId.startsWith("rzp_live_") ? "live" : "test",
        webhooks: !!env.RAZORPAY_WEBHOOK_SECRET,
      }
      : { provider: "none", mode: null, webhooks: false },
  };
}
