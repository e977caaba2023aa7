/**
 * One JSON call to a payment provider's REST API (Razorpay, Stripe), with the rules both clients
 * follow: a time-out, a body that must be JSON, the provider's error envelope turned into a
 * readable message and code, and the answer validated by zod. Each provider says how its error
 * envelope reads and which error class it throws, so callers keep catching RazorpayError or
 * StripeError.
 */
import type { z } from "zod";

export interface ProviderCall<S extends z.ZodType> {
  /** "Razorpay", "Stripe": how messages name the provider. */
  provider: string;
  url: string;
  init: Omit<RequestInit, "signal">;
  timeoutMs: number;
  /** For the message of an unexpected answer. */
  path: string;
  schema: S;
  /** The message and code of the provider's error envelope, or undefined when it is not one. */
  readError(body: unknown): { message: string; code?: string } | undefined;
  fail(message: string, status?: number, code?: string): Error;
}

export async function providerCall<S extends z.ZodType>(c: ProviderCall<S>): Promise<z.output<S>> {
  let res: Response;
  let text: string;
  try {
    res = await fetch(c.url, { ...c.init, signal: AbortSignal.timeout(c.timeoutMs) });
    text = await res.text();
  } catch (err) {
    const timedOut = err instanceof DOMException && err.name === "TimeoutError";
    throw c.fail(
      timedOut
        ? `${c.provider} did not answer within ${c.timeoutMs} ms`
        : `${c.provider} is unreachable: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw c.fail(`${c.provider} answered ${res.status} with a body that is not JSON`, res.status);
  }
  if (!res.ok) {
    const error = c.readError(parsed);
    throw c.fail(
      `${c.provider} answered ${res.status}: ${error ? error.message : "unexpected body"}`,
      res.status,
      error?.code,
    );
  }
  const result = c.schema.safeParse(parsed);
  if (!result.success) {
    throw c.fail(`${c.provider} answered an unexpected ${c.path} body`, res.status);
  }
  return result.data;
}
