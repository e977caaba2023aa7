/**
 * The whole local platform in one process: database (PGlite, or a Postgres given by URL) with the
 * Supabase baseline, migrations and seed; one HTTP server with /auth/v1, /storage/v1 and
 * /functions/v1; and the worker that does pg_net's and pg_cron's background work. Used by
 * `task dev` and by the end-to-end tests. An in-memory database starts as a copy of a migrated
 * template (local/database_template.ts) instead of migrating from scratch each time.
 */
import { join, resolve } from "node:path";
import { closeDb, getDb } from "../shared/db.ts";
import { json } from "../shared/http.ts";
import { log } from "../shared/log.ts";
import { createAuthServer } from "./auth_server.ts";
import { type LocalDatabase, startPglite } from "./database.ts";
import { type DatabaseTemplate, databaseTemplate } from "./database_template.ts";
import { lockDataDir } from "./data_dir_lock.ts";
import {
  createGateway,
  type EdgeLimits,
  type FunctionConfig,
  type FunctionRequestLog,
  type Gateway,
  SUPABASE_LIMITS,
} from "./functions_gateway.ts";
import { DEFAULT_KEY_MODE, type KeyMode, loadKeys, type LocalKeys } from "./keys.ts";
import { defaultPaths, migrate, type MigrationResult } from "./migrate.ts";
import { applyPlatformBaseline, standIns } from "./platform_sql.ts";
import { createStorageServer } from "./storage_server.ts";
import { type LocalWorker, startLocalWorker } from "./worker.ts";

export const PROJECT_ROOT = resolve(new URL("..", import.meta.url).pathname);

export interface StackOptions {
  /** Persist the database, keys and storage here; everything is in memory/temporary when omitted. */
  dataDir?: string;
  /** Use this Postgres instead of PGlite (the baseline is applied where pieces are missing). */
  dbUrl?: string;
  host?: string;
  /** API port (auth, storage, functions); 0 picks a free one. */
  apiPort?: number;
  /** PGlite wire-protocol port; 0 picks a free one. */
  dbPort?: number;
  /** Load pgTAP into PGlite. */
  pgtap?: boolean;
  workerIntervalMs?: number;
  /** Extra environment for the functions (e.g. fake external API URLs). */
  functionEnv?: Record<string, string>;
  /** Run the pg_net / pg_cron worker on a timer (default); tests may drive it with `tick()`. */
  autoWorker?: boolean;
  /** Functions mounted besides those in supabase/config.toml (test fixtures). */
  extraFunctions?: FunctionConfig[];
  /** The project's key mode (signing keys, legacy secret, new API keys); see local/keys.ts. */
  keyMode?: KeyMode;
  /** Edge Function limits (default: Supabase's, enforced). */
  limits?: EdgeLimits;
  /** Sees every function request's access-log entry (status, cpu_ms, memory). */
  onFunctionRequest?: (entry: FunctionRequestLog) => void;
}

export interface Stack {
  apiUrl: string;
  dbUrl: string;
  /** The key a frontend configures (`sb_publishable_…`, or the legacy anon JWT). */
  anonKey: string;
  /** The server key (`sb_secret_…`, or the legacy service_role JWT). */
  serviceRoleKey: string;
  /** What every function's environment holds (as Supabase injects it). */
  functionEnv: Record<string, string>;
  keys: LocalKeys;
  /**
   * What `migrate()` did at start. A database copied from a template finds the migrations and
   * the seed already applied (`applied` empty, `seeded` false): see `template`.
   */
  migrations: MigrationResult;
  /** The migrated template an in-memory PGlite was copied from (or was dumped to, when new). */
  template?: DatabaseTemplate;
  gateway: Gateway;
  worker: LocalWorker;
  storageDir: string;
  stop(): Promise<void>;
}

/** Auth routes the gateway serves without an API key. */
const OPEN_AUTH_PATHS = new Set(["/.well-known/jwks.json", "/health"]);

/** As the API gateway does before Auth: an `apikey` header (or query parameter) of this project. */
async function checkApiKey(keys: LocalKeys, req: Request, url: URL): Promise<Response | undefined> {
  const apikey = req.headers.get("apikey") ?? url.searchParams.get("apikey");
  if (!apikey) {
    return Response.json({
      message: "No API key found in request",
      hint: "No `apikey` request header or url param was found.",
    }, { status: 401 });
  }
  const credential = await keys.verify(apikey).catch(() => undefined);
  if (credential?.kind !== "api_key") {
    return Response.json({ message: "Invalid API key" }, { status: 401 });
  }
  return undefined;
}

/** What Supabase injects into every function, in this project's key mode. */
export function injectedEnv(
  keys: LocalKeys,
  apiUrl: string,
  dbUrl: string,
): Record<string, string> {
  const env: Record<string, string> = {
    SUPABASE_URL: apiUrl,
    SUPABASE_DB_URL: dbUrl,
    SUPABASE_JWKS: JSON.stringify(keys.jwks),
  };
  if (keys.legacyAnonKey && keys.legacyServiceRoleKey) {
    env.SUPABASE_ANON_KEY = keys.legacyAnonKey;
    env.SUPABASE_SERVICE_ROLE_KEY = keys.legacyServiceRoleKey;
  } else {
    env.SUPABASE_PUBLISHABLE_KEYS = JSON.stringify({ default: keys.publicKey });
    env.SUPABASE_SECRET_KEYS = JSON.stringify({ default: keys.secretKey });
  }
  return env;
}

export async function startStack(opts: StackOptions = {}): Promise<Stack> {
  const host = opts.host ?? "127.0.0.1";
  const dataDir = opts.dataDir ? resolve(opts.dataDir) : undefined;
  const scratch = dataDir ? undefined : await Deno.makeTempDir({ prefix: "workbench-stack-" });
  const stateDir = dataDir ?? scratch!;
  await Deno.mkdir(stateDir, { recursive: true });
  const lock = dataDir ? await lockDataDir(dataDir) : undefined;

  const keys = await loadKeys(
    dataDir ? join(dataDir, "auth-keys.json") : undefined,
    opts.keyMode ?? DEFAULT_KEY_MODE,
  );

  let pglite: LocalDatabase | undefined;
  let template: DatabaseTemplate | undefined;
  let dbUrl = opts.dbUrl;
  if (!dbUrl) {
    // A persistent data directory is migrated in place; an in-memory one starts as a copy.
    template = dataDir ? undefined : await databaseTemplate({ pgtap: opts.pgtap });
    pglite = await startPglite({
      dataDir: dataDir ? join(dataDir, "pgdata") : undefined,
      template: template?.ready ? template.path : undefined,
      host,
      port: opts.dbPort ?? 54322,
      pgtap: opts.pgtap,
    });
    dbUrl = pglite.url;
  }

  // The platform's own client (Auth, Storage, the pg_net/pg_cron worker, and tests in this
  // process); functions connect from their isolates through the same pooler.
  await closeDb();
  const previousEnv = new Map(
    ["SUPABASE_DB_URL", "DB_POOL_MAX"].map((k) => [k, Deno.env.get(k)]),
  );
  Deno.env.set("SUPABASE_DB_URL", dbUrl);
  Deno.env.set("DB_POOL_MAX", "4");
  const sql = getDb;

  // On a copy of a template both find nothing to do (and would catch up a stale one).
  await applyPlatformBaseline(sql());
  const migrations = await migrate(sql(), defaultPaths());
  if (pglite && template && !template.ready) {
    await pglite.dump(template.path);
    template = { ...template, ready: true };
  }

  let apiUrl = "";
  const auth = createAuthServer({ sql, keys, apiUrl: () => apiUrl });
  const storageDir = join(stateDir, "storage");
  const storage = createStorageServer({ sql, keys, root: storageDir });

  const controller = new AbortController();
  const mounted: { gateway?: Gateway } = {};
  const server = Deno.serve({
    hostname: host,
    port: opts.apiPort ?? 54321,
    signal: controller.signal,
    onListen: () => {},
  }, async (req, info) => {
    const url = new URL(req.url);
    try {
      if (url.pathname.startsWith("/functions/v1/")) {
        if (!mounted.gateway) {
          return json({ error: { code: "starting", message: "Functions are loading." } }, 503);
        }
        return await mounted.gateway.handle(
          req,
          url.pathname.slice("/functions/v1".length),
          (info.remoteAddr as Deno.NetAddr).hostname,
        );
      }
      if (url.pathname.startsWith("/auth/v1/")) {
        const path = url.pathname.slice("/auth/v1".length);
        // The API gateway in front of Auth wants one of the project's API keys.
        if (!OPEN_AUTH_PATHS.has(path)) {
          const refused = await checkApiKey(keys, req, url);
          if (refused) return refused;
        }
        return await auth.handle(req, path, url);
      }
      if (url.pathname.startsWith("/storage/v1/")) {
        return await storage.handle(req, url.pathname.slice("/storage/v1".length), url);
      }
      if (url.pathname === "/") {
        return json({
          name: "analyst-workbench local platform",
          auth: "/auth/v1",
          storage: "/storage/v1",
          functions: "/functions/v1",
        });
      }
      return json({
        error: { code: "not_found", message: `${url.pathname} is not served locally.` },
      }, 404);
    } catch (err) {
      log.error("local platform error", {
        path: url.pathname,
        error: String(err),
        stack: (err as Error)?.stack,
      });
      return json({ error: { code: "internal_error", message: "Local platform error." } }, 500);
    }
  });
  apiUrl = `http://${host}:${server.addr.port}`;

  const functionEnv: Record<string, string> = {
    ...injectedEnv(keys, apiUrl, dbUrl),
    LOG_LEVEL: Deno.env.get("LOG_LEVEL") ?? "info",
    ...(opts.functionEnv ?? {}),
  };

  // Where the database's triggers and cron jobs reach the functions (set once per project on
  // Supabase; see docs/deploying.md): the vault secrets project_url and service_role_key.
  const installed = await standIns(sql());
  if (installed.has("vault")) {
    for (
      const [name, secret] of [["project_url", apiUrl], ["service_role_key", keys.secretKey]]
    ) {
      await sql()`insert into vault.secrets (name, secret) values (${name}, ${secret})
                  on conflict (name) do update set secret = excluded.secret, updated_at = now()`;
    }
  }

  const gateway = mounted.gateway = await createGateway({
    configFile: join(PROJECT_ROOT, "supabase/config.toml"),
    keys,
    env: functionEnv,
    limits: opts.limits ?? SUPABASE_LIMITS,
    extraFunctions: opts.extraFunctions,
    onRequest: opts.onFunctionRequest,
  });
  const worker = startLocalWorker({
    sql,
    net: installed.has("net"),
    cron: installed.has("cron"),
    intervalMs: opts.workerIntervalMs,
    auto: opts.autoWorker ?? true,
  });

  let stopped = false;
  return {
    apiUrl,
    dbUrl,
    anonKey: keys.publicKey,
    serviceRoleKey: keys.secretKey,
    functionEnv,
    keys,
    migrations,
    template,
    gateway,
    worker,
    storageDir,
    async stop() {
      if (stopped) return;
      stopped = true;
      await worker.stop();
      await gateway.drain();
      controller.abort();
      await server.finished;
      await closeDb();
      await pglite?.stop();
      for (const [k, v] of previousEnv) v === undefined ? Deno.env.delete(k) : Deno.env.set(k, v);
      await lock?.release();
      if (scratch) await Deno.remove(scratch, { recursive: true }).catch(() => {});
    },
  };
}
