/**
 * The whole local platform in one process: database (PGlite, or a Postgres given by URL) with the
 * Supabase baseline, migrations and seed; one HTTP server with /auth/v1, /storage/v1 and
 * /functions/v1; and the worker that does pg_net's and pg_cron's background work. Used by
 * `task dev` and by the end-to-end tests.
 */
import { join, resolve } from "node:path";
import { closeDb, getDb } from "../shared/db.ts";
import { createJwtVerifier, type JwtVerifier } from "../shared/auth.ts";
import { json } from "../shared/http.ts";
import { log } from "../shared/log.ts";
import { createAuthServer } from "./auth_server.ts";
import { type LocalDatabase, startPglite } from "./database.ts";
import { createGateway, type FunctionConfig, type Gateway } from "./functions_gateway.ts";
import { loadKeys, type LocalKeys } from "./keys.ts";
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
}

export interface Stack {
  apiUrl: string;
  dbUrl: string;
  anonKey: string;
  serviceRoleKey: string;
  keys: LocalKeys;
  migrations: MigrationResult;
  gateway: Gateway;
  worker: LocalWorker;
  storageDir: string;
  stop(): Promise<void>;
}

export async function startStack(opts: StackOptions = {}): Promise<Stack> {
  const host = opts.host ?? "127.0.0.1";
  const dataDir = opts.dataDir ? resolve(opts.dataDir) : undefined;
  const scratch = dataDir ? undefined : await Deno.makeTempDir({ prefix: "workbench-stack-" });
  const stateDir = dataDir ?? scratch!;
  await Deno.mkdir(stateDir, { recursive: true });

  const keys = await loadKeys(dataDir ? join(dataDir, "auth-keys.json") : undefined);

  let pglite: LocalDatabase | undefined;
  let dbUrl = opts.dbUrl;
  if (!dbUrl) {
    pglite = await startPglite({
      dataDir: dataDir ? join(dataDir, "pgdata") : undefined,
      host,
      port: opts.dbPort ?? 54322,
      pgtap: opts.pgtap,
    });
    dbUrl = pglite.url;
  }

  // One client for the whole process (PGlite serves one connection).
  await closeDb();
  Deno.env.set("SUPABASE_DB_URL", dbUrl);
  Deno.env.set("DB_POOL_MAX", "1");
  const sql = getDb;

  await applyPlatformBaseline(sql());
  const migrations = await migrate(sql(), defaultPaths());

  // The API URL is known once the server listens; tokens are verified against its JWKS, the same
  // code path functions use in production.
  let apiUrl = "";
  let verifier: JwtVerifier | undefined;
  const lazyVerifier: JwtVerifier = {
    verify: (token) => (verifier ??= createJwtVerifier({ supabaseUrl: apiUrl })).verify(token),
  };

  const auth = createAuthServer({ sql, keys, apiUrl: () => apiUrl });
  const storageDir = join(stateDir, "storage");
  const storage = createStorageServer({ sql, keys, root: storageDir, verify: lazyVerifier.verify });

  const controller = new AbortController();
  const mounted: { gateway?: Gateway } = {};
  const server = Deno.serve({
    hostname: host,
    port: opts.apiPort ?? 54321,
    signal: controller.signal,
    onListen: () => {},
  }, async (req) => {
    const url = new URL(req.url);
    try {
      if (url.pathname.startsWith("/functions/v1/")) {
        if (!mounted.gateway) {
          return json({ error: { code: "starting", message: "Functions are loading." } }, 503);
        }
        return await mounted.gateway.handle(req, url.pathname.slice("/functions/v1".length));
      }
      if (url.pathname.startsWith("/auth/v1/")) {
        return await auth.handle(req, url.pathname.slice("/auth/v1".length), url);
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

  // What Supabase injects into every function.
  const functionEnv: Record<string, string> = {
    SUPABASE_URL: apiUrl,
    SUPABASE_ANON_KEY: keys.anonKey,
    SUPABASE_SERVICE_ROLE_KEY: keys.serviceRoleKey,
    SUPABASE_DB_URL: dbUrl,
    ...(opts.functionEnv ?? {}),
  };
  // The functions run in this process: set their environment, and put it back on stop so one
  // stack's settings (a fake API's URL...) never leak into the next one started here.
  const previousEnv = new Map(Object.keys(functionEnv).map((k) => [k, Deno.env.get(k)]));
  for (const [k, v] of Object.entries(functionEnv)) Deno.env.set(k, v);

  // Where the database's triggers and cron jobs reach the functions (set once per project on
  // Supabase; see README): the vault secrets project_url and service_role_key.
  const installed = await standIns(sql());
  if (installed.has("vault")) {
    for (
      const [name, secret] of [["project_url", apiUrl], ["service_role_key", keys.serviceRoleKey]]
    ) {
      await sql()`insert into vault.secrets (name, secret) values (${name}, ${secret})
                  on conflict (name) do update set secret = excluded.secret, updated_at = now()`;
    }
  }

  const gateway = mounted.gateway = await createGateway({
    configFile: join(PROJECT_ROOT, "supabase/config.toml"),
    verifier: lazyVerifier,
    extraFunctions: opts.extraFunctions,
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
    anonKey: keys.anonKey,
    serviceRoleKey: keys.serviceRoleKey,
    keys,
    migrations,
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
      if (scratch) await Deno.remove(scratch, { recursive: true }).catch(() => {});
    },
  };
}
