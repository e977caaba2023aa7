/** Typed access to the environment that Supabase injects into every Edge Function. */
import { z } from "zod";

const EnvSchema = z.object({
  SUPABASE_URL: z.url(),
  SUPABASE_ANON_KEY: z.string().min(1),
  SUPABASE_SERVICE_ROLE_KEY: z.string().min(1),
  SUPABASE_DB_URL: z.string().min(1),
  /** Legacy HS256 JWT secret; only needed for projects that still sign with it. */
  SUPABASE_JWT_SECRET: z.string().min(1).optional(),
  /** Comma-separated list of allowed browser origins; `*` when unset. */
  ALLOWED_ORIGINS: z.string().optional(),
  /** Connections per isolate. Keep 1 locally: PGlite serves one connection. */
  DB_POOL_MAX: z.coerce.number().int().min(1).max(20).default(1),
  LOG_LEVEL: z.enum(["debug", "info", "warn", "error"]).default("info"),
});

export type Env = z.infer<typeof EnvSchema>;

/** Reads and validates the environment; throws one readable error naming every bad variable. */
export function loadEnv(source: Record<string, string | undefined> = Deno.env.toObject()): Env {
  const parsed = EnvSchema.safeParse(source);
  if (!parsed.success) {
    const names = parsed.error.issues.map((i) => i.path.join(".")).join(", ");
    throw new Error(`invalid or missing environment variables: ${names}`);
  }
  return parsed.data;
}
