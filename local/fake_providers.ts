/**
 * `task dev --fake-providers`: a fake Groq (local/fakes/groq.ts, answers citing the retrieved
 * passages, streaming included) and a fake Razorpay (local/fakes/razorpay.ts, with its test
 * checkout page that pays and delivers the signed webhook), so the whole product can be tried with
 * no keys. They reach the functions through the same variables the real providers are configured
 * with (`GROQ_API_KEY`, `GROQ_BASE_URL`, `RAZORPAY_KEY_ID`, `RAZORPAY_KEY_SECRET`,
 * `RAZORPAY_WEBHOOK_SECRET`, `RAZORPAY_API_BASE`): the functions cannot tell them from the real
 * ones. The end-to-end tests use the same fakes.
 */
import { type FakeGroq, startFakeGroq } from "./fakes/groq.ts";
import { type FakeRazorpay, startFakeRazorpay } from "./fakes/razorpay.ts";

export interface FakeProviders {
  groq: FakeGroq;
  razorpay: FakeRazorpay;
  /** The functions' environment that points them at the fakes. */
  env: Record<string, string>;
  /** Once the API listens: where the checkout page delivers the webhook. */
  connect(apiUrl: string): void;
  stop(): Promise<void>;
}

export function startFakeProviders(): FakeProviders {
  const groq = startFakeGroq();
  const razorpay = startFakeRazorpay();
  return {
    groq,
    razorpay,
    env: {
      GROQ_API_KEY: "gsk_fake_local_key",
      GROQ_BASE_URL: groq.url,
      RAZORPAY_KEY_ID: razorpay.keyId,
      RAZORPAY_KEY_SECRET: razorpay.keySecret,
      RAZORPAY_WEBHOOK_SECRET: razorpay.webhookSecret,
      RAZORPAY_API_BASE: razorpay.url,
    },
    connect(apiUrl) {
      razorpay.webhookUrl = `${apiUrl}/functions/v1/webhooks/razorpay`;
    },
    async stop() {
      await groq.stop();
      await razorpay.stop();
    },
  };
}
