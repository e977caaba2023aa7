/**
 * Typed access to the environment that Supabase injects into every Edge Function, in whichever key
 * mode the project is: the legacy JWT keys (`SUPABASE_ANON_KEY`, `SUPABASE_SERVICE_ROLE_KEY`), the
 * new API keys (`SUPABASE_PUBLISHABLE_KEYS`, `SUPABASE_SECRET_KEYS`: JSON objects of named keys),
 * or both. `SUPABASE_JWKS` is the project's JSON Web Key Set (empty on legacy-secret projects).
 * Nothing here needs a name that starts with `SUPABASE_` to be set by hand: the CLI refuses those.
 */
import type { JWK } from "@supabase/auth-js";
import { z } from "zod";

const KeyDictionary = z.string().transform((raw, ctx) => {
  try {
    const parsed = JSON.parse(raw);
    if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) {
      return Object.values(parsed).filter((v): v is string => typeof v === "string" && v !== "");
    }
  } catch {
    // reported below
  }
  ctx.addIssue({ code: "custom", message: "must be a JSON object of named keys" });
  return z.NEVER;
});

const Jwks = z.string().transform((raw, ctx) => {
  try {
    const parsed = JSON.parse(raw);
    const keys = Array.isArray(parsed) ? parsed : parsed?.keys;
    if (Array.isArray(keys)) return { keys: keys as JWK[] };
  } catch {
    // reported below
  }
  ctx.addIssue({ code: "custom", message: "must be a JSON Web Key Set" });
  return z.NEVER;
});

const optionalKey = z.string().optional().transform((v) => v || undefined);

/** An optional number setting: unset or empty is undefined (the caller's default); "abc" is an error. */
const optionalNumber = (schema: z.ZodNumber) =>
  z.preprocess(
    (v) => (typeof v === "string" && v.trim() === "" ? undefined : v),
    z.coerce.number().pipe(schema).optional(),
  );

/** An integer setting; unset or empty keeps `fallback`, anything else must be in range. */
const optionalInt = (min: number, max: number, fallback: number) =>
  optionalNumber(z.number().int().min(min).max(max)).transform((v) => v ?? fallback);

/** Postgres connections per isolate (`DB_POOL_MAX`): 1 to 20; unset or empty: 1. */
const DbPoolMax = optionalInt(1, 20, 1);

/** A Postgres connection string (`postgres://` or `postgresql://`); unset or empty: undefined. */
const optionalPostgresUrl = optionalKey.pipe(
  z.string().regex(/^postgres(ql)?:\/\/[^\s]+$/, "must be a postgresql:// URL").optional(),
);

/**
 * The database settings the functions' client is built from (shared/db.ts `getDb`). On Supabase
 * `SUPABASE_DB_URL` is the direct connection and no `SUPABASE_*` secret can be set, so the
 * transaction pooler (Supavisor, port 6543) is reached through a secret of our own:
 * `DB_POOLER_URL`, read first.
 */
const DbSchema = z.object({
  DB_POOLER_URL: optionalPostgresUrl,
  SUPABASE_DB_URL: optionalKey,
  DB_POOL_MAX: DbPoolMax,
}).transform((env, ctx) => {
  const url = env.DB_POOLER_URL ?? env.SUPABASE_DB_URL;
  if (!url) {
    ctx.addIssue({ code: "custom", path: ["SUPABASE_DB_URL"], message: "not set" });
    return z.NEVER;
  }
  return { url, max: env.DB_POOL_MAX, pooler: env.DB_POOLER_URL !== undefined };
});

/** How long an idle connection stays open before postgres.js closes it, seconds. */
export const DB_IDLE_TIMEOUT_SEC = 20;

export interface DbConfig {
  /** `DB_POOLER_URL` when set, else `SUPABASE_DB_URL`. */
  url: string;
  /** Connections per isolate at most (`DB_POOL_MAX`). */
  max: number;
  /** True when `url` is `DB_POOLER_URL`. */
  pooler: boolean;
}

/**
 * Groq, for chat answers and report narratives (shared/llm/groq.ts); without `GROQ_API_KEY` both
 * use their fallbacks (the extract, the template).
 */
export const GroqEnvSchema = z.object({
  GROQ_API_KEY: optionalKey,
  /** Default DEFAULT_GROQ_MODEL (shared/runtime_config.ts). */
  GROQ_MODEL: optionalKey,
  /** Groq's API base URL (tests aim it at a fake on loopback); default https://api.groq.com. */
  GROQ_BASE_URL: optionalKey.pipe(z.url().optional()),
  /** Per model call, a streamed answer included. */
  GROQ_TIMEOUT_MS: optionalInt(1, 150_000, 30_000),
  /** Retries of a failed call (connection errors, 429, 5xx) before the answer fails. */
  GROQ_MAX_RETRIES: optionalInt(0, 5, 1),
});

export type GroqEnv = z.output<typeof GroqEnvSchema>;

const EnvSchema = z.object({
  SUPABASE_URL: z.url(),
  SUPABASE_DB_URL: z.string().min(1),
  SUPABASE_ANON_KEY: optionalKey,
  SUPABASE_SERVICE_ROLE_KEY: optionalKey,
  SUPABASE_PUBLISHABLE_KEYS: KeyDictionary.optional(),
  SUPABASE_SECRET_KEYS: KeyDictionary.optional(),
  SUPABASE_JWKS: Jwks.optional(),
  /**
   * Token issuers accepted besides `<SUPABASE_URL>/auth/v1` (comma-separated URLs), for a project
   * whose `SUPABASE_URL` is a custom domain while its tokens say `https://<ref>.supabase.co/auth/v1`.
   */
  AUTH_ISSUERS: z.string().optional().transform((raw, ctx) => {
    const list = (raw ?? "").split(",").map((s) => s.trim()).filter(Boolean);
    for (const item of list) {
      if (!URL.canParse(item) || !/^https?:$/.test(new URL(item).protocol)) {
        ctx.addIssue({ code: "custom", message: `${item} is not an http(s) URL` });
      }
    }
    return list;
  }),
  /** Comma-separated list of allowed browser origins; `*` when unset. */
  ALLOWED_ORIGINS: z.string().optional(),
  /** Connections per isolate. */
  DB_POOL_MAX: DbPoolMax,
  /** The transaction pooler's URL (port 6543); used instead of SUPABASE_DB_URL when set. */
  DB_POOLER_URL: optionalPostgresUrl,
  LOG_LEVEL: z.enum(["debug", "info", "warn", "error"]).default("info"),
  /** Razorpay API keys (checkout, reconciliation); payments answer 503 without them. */
  RAZORPAY_KEY_ID: optionalKey,
  RAZORPAY_KEY_SECRET: optionalKey,
  /** The secret of the Razorpay webhook (Dashboard → Webhooks); webhooks answer 503 without it. */
  RAZORPAY_WEBHOOK_SECRET: optionalKey,
  /** Razorpay's API base URL (tests aim it at a fake on loopback). */
  RAZORPAY_API_BASE: z.url().default("https://api.razorpay.com"),
  /** How long a Razorpay API call may take before checkout answers 502. */
  RAZORPAY_TIMEOUT_MS: z.coerce.number().int().min(1).max(60_000).default(10_000),
  /** Stripe's secret key (checkout, portal, reconciliation); Stripe routes answer 503 without. */
  STRIPE_SECRET_KEY: optionalKey,
  /** The signing secret of the Stripe webhook endpoint (`whsec_…`). */
  STRIPE_WEBHOOK_SECRET: optionalKey,
  /** Stripe's API base URL (tests aim it at a fake on loopback). */
  STRIPE_API_URL: z.url().default("https://api.stripe.com"),
  /** How long a Stripe API call may take before the route answers 502. */
  STRIPE_TIMEOUT_MS: z.coerce.number().int().min(1).max(60_000).default(10_000),
  /** Where Stripe Checkout and the portal send the buyer back to. */
  BILLING_RETURN_URL: z.url().default("http://localhost:3000/billing"),
  /** Reports: lifetime of a report's signed `download_url`, seconds. */
  REPORT_DOWNLOAD_TTL_SEC: optionalNumber(z.number().int().min(60).max(3600)),
  /** Report worker (defaults in DEFAULT_REPORT_WORKER_CONFIG): how long a taken message hides. */
  REPORT_VISIBILITY_TIMEOUT_SEC: optionalNumber(z.number().int().min(10).max(3600)),
  /** Report worker: seconds before the first retry (then ×4). */
  REPORT_RETRY_BASE_SEC: optionalNumber(z.number().int().min(0).max(3600)),
  /** Report worker: tables larger than this (bytes) are not read. */
  REPORT_MAX_TABLE_BYTES: optionalNumber(z.number().int().min(1).max(100 * 1024 * 1024)),
  /** Report worker: variance lines beyond this percentage are flagged. */
  REPORT_VARIANCE_THRESHOLD_PCT: optionalNumber(z.number().min(0).max(1000)),
  /** Mail (shared/mail.ts, Resend's API): the API base; default https://api.resend.com. */
  MAIL_API_URL: optionalKey.pipe(z.url().optional()),
  /** The mail API's key; without it (or MAIL_FROM) no mail is sent. */
  MAIL_API_KEY: optionalKey,
  /** The sender of every mail, `Name <address>` (a verified domain's on Resend). */
  MAIL_FROM: optionalKey,
  /** How long a mail API call may take. */
  MAIL_TIMEOUT_MS: optionalInt(1, 60_000, 10_000),
  /** The frontend page an invitation link opens; the link adds `#invitation=…&token=…`. */
  INVITATION_LINK_URL: z.url().default("http://127.0.0.1:3000/invitations/accept"),
  /**
   * `true`: with no mail provider configured, an invitation's link is returned to the inviting
   * admin (who passes it on) instead of the invitation being refused with 503.
   */
  INVITATION_LINK_IN_RESPONSE: z.enum(["true", "false", ""]).optional()
    .transform((v) => v === "true"),
  /** A bearer token (at least 32 characters) the `metrics` function accepts besides service keys. */
  METRICS_TOKEN: optionalKey.pipe(z.string().min(32).optional()),
  /** Sentry's DSN: unhandled errors are sent there (shared/sentry.ts); unset, nothing is sent. */
  SENTRY_DSN: optionalKey.pipe(z.url().optional()),
  ...GroqEnvSchema.shape,
}).transform((env, ctx) => {
  const publicKey = env.SUPABASE_PUBLISHABLE_KEYS?.[0] ?? env.SUPABASE_ANON_KEY;
  const serviceKeys = [...(env.SUPABASE_SECRET_KEYS ?? []), env.SUPABASE_SERVICE_ROLE_KEY]
    .filter((k): k is string => !!k);
  if (!publicKey) {
    ctx.addIssue({
      code: "custom",
      path: ["SUPABASE_PUBLISHABLE_KEYS"],
      message: "no publishable or anon key",
    });
  }
  if (serviceKeys.length === 0) {
    ctx.addIssue({
      code: "custom",
      path: ["SUPABASE_SECRET_KEYS"],
      message: "no secret or service_role key",
    });
  }
  return {
    ...env,
    /** The key clients send as `apikey` (publishable when the project has one, else anon). */
    publicKey: publicKey ?? "",
    /** The key this function uses for Storage and Auth admin calls (secret, else service_role). */
    serviceKey: serviceKeys[0] ?? "",
    /** Every credential that means "the service role" (for worker and admin routes). */
    serviceKeys,
  };
});

export type Env = z.output<typeof EnvSchema>;

/** Reads and validates the environment; throws one readable error naming every bad variable. */
export function loadEnv(source: Record<string, string | undefined> = Deno.env.toObject()): Env {
  return parseEnv(EnvSchema, source);
}

/** The `GROQ_*` variables alone, checked the same way (for callers holding a raw environment). */
export function loadGroqEnv(source: Record<string, string | undefined>): GroqEnv {
  return parseEnv(GroqEnvSchema, source);
}

/** `DB_POOL_MAX` alone, checked the same way. */
export function loadDbPoolMax(source: Record<string, string | undefined>): number {
  return parseEnv(z.object({ DB_POOL_MAX: DbPoolMax }), source).DB_POOL_MAX;
}

/** The database URL and pool size alone (shared/db.ts `getDb`, which needs no other setting). */
export function loadDbConfig(source: Record<string, string | undefined>): DbConfig {
  return parseEnv(DbSchema, source);
}

function parseEnv<S extends z.ZodType>(
  schema: S,
  source: Record<string, string | undefined>,
): z.output<S> {
  const parsed = schema.safeParse(source);
  if (!parsed.success) {
    const names = parsed.error.issues.map((i) => `${i.path.join(".")} (${i.message})`).join(", ");
    throw new Error(`invalid or missing environment variables: ${names}`);
  }
  return parsed.data;
}
