/**
 * The whole local platform in one process: database (PGlite, or a Postgres given by URL) with the
 * Supabase baseline, migrations and seed; one HTTP server with /auth/v1, /storage/v1 and
 * /functions/v1; the mail catcher (local/mail_catcher.ts) that the functions' and Auth's mail
 * goes to; and the worker that does pg_net's and pg_cron's background work. Used by `task dev` and
 * by the end-to-end tests. An in-memory database starts as a copy of a migrated
 * template (local/database_template.ts) instead of migrating from scratch each time.
 */
import { join, resolve } from "node:path";
import { parse as parseToml } from "smol-toml";
import { closeDb, getDb } from "../shared/db.ts";
import { corsHeaders, json, newRequestId } from "../shared/http.ts";
import { log } from "../shared/log.ts";
import { resendMailer } from "../shared/mail.ts";
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
import { type MailCatcher, startMailCatcher } from "./mail_catcher.ts";
import { defaultPaths, migrate, type MigrationResult } from "./migrate.ts";
import { platformPreflight, withPlatformCors } from "./platform_cors.ts";
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
  /** The mail catcher's port (`task dev`: 54324, Inbucket's in Supabase's stack); default 0, free. */
  mailPort?: number;
  /**
   * Whether Auth asks new users to confirm their email (a link mailed to the catcher) before they
   * can sign in; default: `[auth.email] enable_confirmations` of supabase/config.toml.
   */
  emailConfirmations?: boolean;
  /** Load pgTAP into PGlite. */
  pgtap?: boolean;
  workerIntervalMs?: number;
  /** Extra environment for the functions (e.g. fake external API URLs). */
  functionEnv?: Record<string, string>;
  /** Run the pg_net / pg_cron worker on a timer (default); tests may drive it with `tick()`. */
  autoWorker?: boolean;
  /** Functions mounted besides those in supabase/config.toml (test fixtures). */
  extraFunctions?: FunctionConfig[];
  /** Run the bundles `task build` made in this folder instead of the sources. */
  functionsDir?: string;
  /** The project's key mode (signing keys, legacy secret, new API keys); see local/keys.ts. */
  keyMode?: KeyMode;
  /** Edge Function limits (default: Supabase's, enforced). */
  limits?: EdgeLimits;
  /** Sees every function request's access-log entry (status, cpu_ms, memory). */
  onFunctionRequest?: (entry: FunctionRequestLog) => void;
  /**
   * Local-only pages on the API's origin (the console at `/console`, local/console/server.ts):
   * asked first for any path outside /auth, /storage and /functions; undefined lets it through.
   */
  pages?: (req: Request, url: URL) => Promise<Response | undefined>;
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
  /** Every mail the functions and Auth sent (`mail.url` + `/mail` lists them). */
  mail: MailCatcher;
  /** Whether Auth asks new users to confirm their email. */
  emailConfirmations: boolean;
  storageDir: string;
  stop(): Promise<void>;
}

/**
 * What local Auth reads of a supabase/config.toml: `[auth.email] enable_confirmations` (false when
 * absent) and `[auth] site_url`, where a confirmation link leads once it has confirmed.
 */
export async function authConfig(
  configFile: string,
): Promise<{ emailConfirmations: boolean; siteUrl: string }> {
  const config = parseToml(await Deno.readTextFile(configFile)) as {
    auth?: { site_url?: unknown; email?: { enable_confirmations?: unknown } };
  };
  return {
    emailConfirmations: config.auth?.email?.enable_confirmations === true,
    siteUrl: typeof config.auth?.site_url === "string"
      ? config.auth.site_url
      : "http://127.0.0.1:3000",
  };
}

/** The browsable API reference `task dev` serves at `/api-docs`. */
const API_DOCS_PAGE = new URL("./api_docs.html", import.meta.url);

/** Auth routes the gateway serves without an API key. */
const OPEN_AUTH_PATHS = new Set(["/.well-known/jwks.json", "/health", "/verify"]);

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
    ["SUPABASE_DB_URL", "DB_POOL_MAX", "DB_POOLER_URL"].map((k) => [k, Deno.env.get(k)]),
  );
  // getDb() reads DB_POOLER_URL first: a hosted project's pooler in the shell must not win here.
  Deno.env.delete("DB_POOLER_URL");
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

  const configFile = join(PROJECT_ROOT, "supabase/config.toml");
  const configured = await authConfig(configFile);
  const emailConfirmations = opts.emailConfirmations ?? configured.emailConfirmations;
  if (emailConfirmations && pglite) {
    // A data directory made before local Auth kept confirmation tokens lacks their columns.
    await sql()`alter table auth.users add column if not exists confirmation_token varchar(255),
                                       add column if not exists confirmation_sent_at timestamptz`;
  }
  const mail = startMailCatcher({ host, port: opts.mailPort ?? 0 });
  const mailEnv = {
    MAIL_API_URL: mail.url,
    MAIL_API_KEY: mail.apiKey,
    MAIL_FROM: "Analyst Workbench <no-reply@workbench.local>",
  };

  let apiUrl = "";
  const auth = createAuthServer({
    sql,
    keys,
    apiUrl: () => apiUrl,
    emailConfirmations,
    mailer: resendMailer({
      apiUrl: mail.url,
      apiKey: mail.apiKey,
      from: mailEnv.MAIL_FROM,
      timeoutMs: 10_000,
    }),
    siteUrl: configured.siteUrl,
  });
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
          if (req.method === "OPTIONS") {
            return new Response(null, { status: 204, headers: corsHeaders(req) });
          }
          const request_id = newRequestId(req);
          return json(
            { error: { code: "starting", message: "Functions are loading.", request_id } },
            503,
            { ...corsHeaders(req), "x-request-id": request_id },
          );
        }
        return await mounted.gateway.handle(
          req,
          url.pathname.slice("/functions/v1".length),
          (info.remoteAddr as Deno.NetAddr).hostname,
        );
      }
      if (url.pathname.startsWith("/auth/v1/") || url.pathname.startsWith("/storage/v1/")) {
        // The API gateway answers CORS for Auth and Storage as Supabase's does: a preflight
        // before any API key is asked for, and an allowed origin on every answer.
        if (req.method === "OPTIONS") return platformPreflight(req);
        return withPlatformCors(req, await authOrStorage(req, url));
      }
      if (url.pathname === "/api-docs" || url.pathname === "/api-docs/") {
        // The API reference rendered from the openapi function's document (docs/openapi.md).
        return new Response(await Deno.readTextFile(API_DOCS_PAGE), {
          headers: { "content-type": "text/html; charset=utf-8" },
        });
      }
      const page = await opts.pages?.(req, url);
      if (page) return page;
      if (url.pathname === "/") {
        return json({
          name: "analyst-workbench local platform",
          auth: "/auth/v1",
          storage: "/storage/v1",
          functions: "/functions/v1",
          api_docs: "/api-docs",
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

  async function authOrStorage(req: Request, url: URL): Promise<Response> {
    if (url.pathname.startsWith("/auth/v1/")) {
      const path = url.pathname.slice("/auth/v1".length);
      // The API gateway in front of Auth wants one of the project's API keys.
      if (!OPEN_AUTH_PATHS.has(path)) {
        const refused = await checkApiKey(keys, req, url);
        if (refused) return refused;
      }
      return await auth.handle(req, path, url);
    }
    return await storage.handle(req, url.pathname.slice("/storage/v1".length), url);
  }

  const functionEnv: Record<string, string> = {
    ...injectedEnv(keys, apiUrl, dbUrl),
    LOG_LEVEL: Deno.env.get("LOG_LEVEL") ?? "info",
    // The local provider: the catcher, which speaks Resend's API (a real key set in the shell of
    // `task dev` replaces it only together with MAIL_API_URL).
    ...mailEnv,
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
    configFile,
    keys,
    env: functionEnv,
    limits: opts.limits ?? SUPABASE_LIMITS,
    extraFunctions: opts.extraFunctions,
    functionsDir: opts.functionsDir,
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
    mail,
    emailConfirmations,
    storageDir,
    async stop() {
      if (stopped) return;
      stopped = true;
      await worker.stop();
      await gateway.drain();
      controller.abort();
      await server.finished;
      await mail.stop();
      await closeDb();
      await pglite?.stop();
      for (const [k, v] of previousEnv) v === undefined ? Deno.env.delete(k) : Deno.env.set(k, v);
      await lock?.release();
      if (scratch) await Deno.remove(scratch, { recursive: true }).catch(() => {});
    },
  };
}
