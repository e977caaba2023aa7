/**
 * `GET /readyz`: 200 when the database answers, every worker queue exists and a kick from the
 * database would be accepted by a worker (kick_check.ts: the Vault secrets are set, the key is a
 * service key, the URL reaches the functions), else 503 with `Retry-After`. Anyone gets the
 * status; the checks (`kick: ok | missing | rejected`), queue depths and the active configuration
 * need the service key.
 */
import { HttpError, json, type Route } from "../../shared/http.ts";
import { REQUIRED_QUEUES } from "../../shared/queues.ts";
import type { ReadyzDeps } from "./deps.ts";
import { checkKick } from "./kick_check.ts";
import { z } from "zod";

/** True when the request carries one of the project's service keys. */
function isService(req: Request, verifier: ReadyzDeps["verifier"]): boolean {
  const bearer = /^Bearer\s+(\S+)$/i.exec(req.headers.get("authorization") ?? "")?.[1];
  const credential = bearer ?? req.headers.get("apikey");
  return !!credential && verifier.isServiceKey(credential);
}

interface Check {
  ok: boolean;
  ms: number;
  error?: string;
  [key: string]: unknown;
}

async function timed(
  timeoutMs: number,
  probe: () => Promise<Record<string, unknown>>,
): Promise<Check> {
  const started = performance.now();
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs);
    });
    const extra = await Promise.race([probe(), timeout]);
    return { ok: true, ms: Math.round(performance.now() - started), ...extra };
  } catch (err) {
    return {
      ok: false,
      ms: Math.round(performance.now() - started),
      error: err instanceof Error ? err.message : String(err),
    };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * How long a passing kick check is reused for anonymous probes. The check decrypts the Vault secrets and calls the
 * project's own `healthz`, so without this every (anonymous) probe of readyz would cost another
 * function invocation.
 */
export const KICK_CHECK_TTL_MS = 30_000;

export function readinessRoute(deps: ReadyzDeps): Route {
  const timeoutMs = deps.timeoutMs ?? 3000;
  const now = deps.now ?? (() => Date.now());
  let lastKick: { at: number; check: Check } | undefined;
  return {
    method: "GET",
    pattern: "/",
    doc: {
      summary: "Readiness: database, queues and workers' kick; details with the service key",
      auth: "optional_service",
      responses: {
        200: {
          description: "Ready (`checks` and `config` with the service key only)",
          schema: z.object({
            status: z.literal("ready"),
            checks: z.looseObject({}).optional(),
            config: z.looseObject({}).optional(),
          }),
        },
      },
      errors: { 503: ["not_ready"] },
    },
    handler: async (req) => {
      const details = isService(req, deps.verifier);
      const database = await timed(timeoutMs, async () => {
        await deps.sql()`select 1`;
        return {};
      });
      const queues = database.ok
        ? await timed(timeoutMs, async () => {
          const rows = await deps.sql()<
            { queue_name: string; queue_length: string; oldest_msg_age_sec: number | null }[]
          >`select queue_name, queue_length, oldest_msg_age_sec from pgmq.metrics_all()`;
          const present = new Set(rows.map((r) => r.queue_name));
          const missing = REQUIRED_QUEUES.filter((q) => !present.has(q));
          if (missing.length > 0) throw new Error(`missing queues: ${missing.join(", ")}`);
          return {
            queues: rows.map((r) => ({
              name: r.queue_name,
              length: Number(r.queue_length),
              oldest_msg_age_sec: r.oldest_msg_age_sec,
            })),
          };
        })
        : { ok: false, ms: 0, error: "skipped: database unavailable" };
      // The database reaches the workers with the Vault secrets (see docs/deploying.md).
      // An anonymous probe reuses a recent pass; a service-key call (an operator) checks anew.
      const fresh = !details && lastKick && now() - lastKick.at < KICK_CHECK_TTL_MS
        ? lastKick.check
        : undefined;
      const kick: Check = !database.ok
        ? { ok: false, ms: 0, error: "skipped: database unavailable" }
        : fresh ?? await timed(timeoutMs, async () => {
          const { kick, reason } = await checkKick(
            deps.sql,
            deps.verifier,
            deps.fetch ?? fetch,
            timeoutMs,
          );
          return reason ? { kick, error: reason } : { kick };
        });
      // Only a passing check is reused: a failing one is checked again at once after a fix.
      if (database.ok && !fresh && kick.ok && kick.kick === "ok") {
        lastKick = { at: now(), check: kick };
      }
      kick.ok &&= kick.kick === "ok";
      const checks = { database, queues, kick };
      if (!database.ok || !queues.ok || !kick.ok) {
        throw new HttpError(
          503,
          "not_ready",
          "A dependency is not ready.",
          details ? { checks } : undefined,
          { "retry-after": "5" },
        );
      }
      return json(details ? { status: "ready", checks, config: deps.config } : { status: "ready" });
    },
  };
}
