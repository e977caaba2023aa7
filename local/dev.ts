/**
 * `deno task dev`: starts the local platform (database, migrations, auth, storage, functions,
 * pg_net/pg_cron worker), creates a demo user on first run, and prints URLs, keys and a token.
 *
 * Flags / env: --port / API_PORT (54321), --db-port / DB_PORT (54322), --mail-port / MAIL_PORT
 * (54324, the mail catcher), --data-dir / DATA_DIR (.local/dev), --jwt es256|hs256 (how Auth signs tokens), --api-keys legacy|new (JWT anon /
 * service_role keys, or sb_publishable_ / sb_secret_ keys), --no-limits (measure but do not
 * enforce the Edge Functions' CPU and memory limits), --db-url / SUPABASE_DB_URL (a PostgreSQL
 * with pgvector 0.8 to migrate and use instead of PGlite: `task db:native` makes one here),
 * --fake-providers (a fake Groq and a fake Razorpay with a test checkout page, local/fake_providers.ts,
 * so chat answers and purchases work with no keys). The browser console is served at /console.
 *
 * The URLs and keys are also written to <data dir>/dev.json (read by `task user:create`), and, for
 * the default data directory only, to .local/dev.json: a platform started on another directory
 * (every test's) never overwrites what a running `task dev` wrote there.
 */
import { parseArgs } from "node:util";
import { join, resolve } from "node:path";
import { DataDirLockedError } from "./data_dir_lock.ts";
import { SUPABASE_LIMITS } from "./functions_gateway.ts";
import { type ApiKeyMode, type JwtMode, keyModeName } from "./keys.ts";
import { consolePages } from "./console/server.ts";
import { type FakeProviders, startFakeProviders } from "./fake_providers.ts";
import { PROJECT_ROOT, startStack } from "./stack.ts";

function fail(message: string): never {
  console.error(`task dev: ${message}`);
  Deno.exit(2);
}

function parseFlags() {
  try {
    return parseArgs({
      args: Deno.args,
      options: {
        port: { type: "string" },
        "db-port": { type: "string" },
        "mail-port": { type: "string" },
        "data-dir": { type: "string" },
        jwt: { type: "string" },
        "api-keys": { type: "string" },
        "no-limits": { type: "boolean" },
        "db-url": { type: "string" },
        "fake-providers": { type: "boolean" },
      },
    }).values;
  } catch (err) {
    fail(
      `${(err as Error).message}. Flags: --port N --db-port N --mail-port N --data-dir DIR ` +
        "--jwt es256|hs256 --api-keys legacy|new --no-limits --db-url URL --fake-providers",
    );
  }
}

function port(name: string, raw: string): number {
  const n = Number(raw);
  // 0 picks a free port.
  if (!/^\d+$/.test(raw) || n > 65535) fail(`${name} must be a port number, got "${raw}"`);
  return n;
}

function oneOf<T extends string>(name: string, raw: string, allowed: T[]): T {
  if (!allowed.includes(raw as T)) {
    fail(`${name} must be one of ${allowed.join(", ")}, got "${raw}"`);
  }
  return raw as T;
}

/** A postgres:// URL, or undefined for PGlite. */
function dbUrl(raw: string | undefined): string | undefined {
  if (!raw) return undefined;
  if (!/^postgres(ql)?:\/\/./.test(raw)) {
    fail(`--db-url must be a postgresql:// URL, got "${raw}"`);
  }
  return raw;
}

const values = parseFlags();
const DEFAULT_DATA_DIR = join(PROJECT_ROOT, ".local/dev");
const dataDir = resolve(values["data-dir"] ?? Deno.env.get("DATA_DIR") ?? DEFAULT_DATA_DIR);
const apiPort = port("--port", values.port ?? Deno.env.get("API_PORT") ?? "54321");
const dbPort = port("--db-port", values["db-port"] ?? Deno.env.get("DB_PORT") ?? "54322");
const mailPort = port("--mail-port", values["mail-port"] ?? Deno.env.get("MAIL_PORT") ?? "54324");
const keyMode = {
  jwt: oneOf<JwtMode>("--jwt", values.jwt ?? "es256", ["es256", "hs256"]),
  apiKeys: oneOf<ApiKeyMode>("--api-keys", values["api-keys"] ?? "legacy", ["legacy", "new"]),
};
const limits = { ...SUPABASE_LIMITS, enforce: !values["no-limits"] };

/** Environment variables passed on to the functions (everything else stays in this process). */
const FUNCTION_SECRET =
  /^(GROQ_|RAZORPAY_|HF_|EMBEDDING_MODEL$|INDEX_|RETRIEVAL_|CHAT_|REPORT_|MAIL_API_|MAIL_FROM$|MAIL_TIMEOUT_MS$|INVITATION_|ALLOWED_ORIGINS$|DB_POOL_MAX$)/;

const fakes: FakeProviders | undefined = values["fake-providers"]
  ? startFakeProviders()
  : undefined;
const pages = await consolePages({ fakeCheckoutUrl: fakes?.razorpay.url });

let stack;
try {
  stack = await startStack({
    dataDir,
    dbUrl: dbUrl(values["db-url"] ?? Deno.env.get("SUPABASE_DB_URL")),
    apiPort,
    dbPort,
    mailPort,
    keyMode,
    limits,
    // The functions' own settings in the shell (Groq, Razorpay test keys, HF token, tuning)
    // reach them, as `supabase secrets set` does on a project.
    // --fake-providers replaces the shell's Groq and Razorpay settings with the fakes'.
    functionEnv: {
      ...Object.fromEntries(
        Object.entries(Deno.env.toObject()).filter(([k]) => FUNCTION_SECRET.test(k)),
      ),
      ...fakes?.env,
      // Invitation links open the console unless the shell names another page.
      ...(Deno.env.get("INVITATION_LINK_URL") || apiPort === 0
        ? {}
        : { INVITATION_LINK_URL: `http://127.0.0.1:${apiPort}/console/` }),
    },
    pages: pages.handle,
  });
  fakes?.connect(stack.apiUrl);
  pages.configure({ anonKey: stack.anonKey });
} catch (err) {
  if (err instanceof DataDirLockedError) {
    fail(`${err.message}: stop it first, or pass another --data-dir.`);
  }
  if (err instanceof Deno.errors.AddrInUse) {
    fail(
      `a port is already in use (${(err as Error).message}). Stop what uses it, or pick others ` +
        "with --port and --db-port.",
    );
  }
  throw err;
}

const DEMO = { email: "demo@example.com", password: "demo-password" };
await fetch(`${stack.apiUrl}/auth/v1/admin/users`, {
  method: "POST",
  headers: {
    apikey: stack.serviceRoleKey,
    authorization: `Bearer ${stack.serviceRoleKey}`,
    "content-type": "application/json",
  },
  body: JSON.stringify({ ...DEMO, email_confirm: true }),
}).then((r) => r.body?.cancel());
const session = await fetch(`${stack.apiUrl}/auth/v1/token?grant_type=password`, {
  method: "POST",
  headers: { apikey: stack.anonKey, "content-type": "application/json" },
  body: JSON.stringify(DEMO),
}).then((r) => r.json());

const info = {
  api_url: stack.apiUrl,
  functions_url: `${stack.apiUrl}/functions/v1`,
  console_url: `${stack.apiUrl}/console`,
  db_url: stack.dbUrl,
  anon_key: stack.anonKey,
  service_role_key: stack.serviceRoleKey,
  jwks_url: `${stack.apiUrl}/auth/v1/.well-known/jwks.json`,
  mail_url: stack.mail.url,
  key_mode: keyModeName(keyMode),
  limits: limits.enforce ? limits : "off (--no-limits)",
  data_dir: dataDir,
};
// The URL and keys for scripts (`task user:create`, a frontend's .env) live in the data directory.
// Only the default one's also go to .local/dev.json, the file docs/local-platform.md points at: a platform on
// another data directory (a test's) leaves the developer's running `task dev` described there.
const infoText = JSON.stringify(info, null, 2);
await Deno.writeTextFile(join(dataDir, "dev.json"), infoText);
if (dataDir === DEFAULT_DATA_DIR) {
  await Deno.writeTextFile(join(PROJECT_ROOT, ".local/dev.json"), infoText);
}

const applied = stack.migrations.applied;
const publicName = keyMode.apiKeys === "new" ? "publishable key" : "anon key        ";
const secretName = keyMode.apiKeys === "new" ? "secret key      " : "service_role key";
console.log(`
Local platform is up.
  Migrations        ${applied.length ? `applied ${applied.join(", ")}` : "up to date"}${
  stack.migrations.seeded ? " (seeded)" : ""
}
  API URL           ${info.api_url}
  Functions         ${info.functions_url}/<name>   (e.g. ${info.functions_url}/healthz)
  Database          ${info.db_url}   (pooled: psql and the Supabase CLI can connect)
  Keys              ${info.key_mode} (--jwt es256|hs256, --api-keys legacy|new)
  Edge limits       ${
  limits.enforce
    ? `${limits.cpuMs} ms CPU, ${limits.memoryMb} MB per request (546 past them; --no-limits)`
    : "measured, not enforced (--no-limits)"
}
  JWKS              ${info.jwks_url}
  Console           ${info.api_url}/console   (sign up, upload, chat, buy, reports)
  Fake providers    ${
  fakes
    ? `Groq ${fakes.groq.url}, Razorpay ${fakes.razorpay.url} (test checkout page)`
    : "off (--fake-providers for a fake Groq and Razorpay)"
}
  Mail              ${info.mail_url}   (every mail sent locally; JSON at ${info.mail_url}/mail)
  Email confirm     ${
  stack.emailConfirmations ? "on (links in the mail above)" : "off (config.toml [auth.email])"
}
  Data directory    ${dataDir}
  ${publicName}  ${info.anon_key}
  ${secretName}  ${info.service_role_key}
  Demo user         ${DEMO.email} / ${DEMO.password}
  Demo token        ${session.access_token ?? `(sign-in failed: ${JSON.stringify(session)})`}

Try:  curl ${info.functions_url}/readyz
      curl -H "Authorization: Bearer <demo token>" -H "content-type: application/json" \\
           -d '{"name": "Q3 close"}' ${info.functions_url}/workbenches
New user:  npx -y deno@2.9.6 task user:create someone@example.com${
  dataDir === DEFAULT_DATA_DIR ? "" : ` --data-dir ${dataDir}`
}
Ctrl-C stops (the database is saved in the data directory).
`);

let stopping = false;
const shutdown = async () => {
  if (stopping) return;
  stopping = true;
  console.log("Stopping...");
  await stack.stop();
  await fakes?.stop();
  Deno.exit(0);
};
Deno.addSignalListener("SIGINT", shutdown);
Deno.addSignalListener("SIGTERM", shutdown);
