/**
 * `deno task dev`: starts the local platform (database, migrations, auth, storage, functions,
 * pg_net/pg_cron worker), creates a demo user on first run, and prints URLs, keys and a token.
 *
 * Flags / env: --port / API_PORT (54321), --db-port / DB_PORT (54322), --data-dir / DATA_DIR
 * (.local/dev). SUPABASE_DB_URL uses that Postgres instead of PGlite.
 */
import { parseArgs } from "node:util";
import { join } from "node:path";
import { PROJECT_ROOT, startStack } from "./stack.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    port: { type: "string" },
    "db-port": { type: "string" },
    "data-dir": { type: "string" },
  },
});

const dataDir = values["data-dir"] ?? Deno.env.get("DATA_DIR") ?? join(PROJECT_ROOT, ".local/dev");
const stack = await startStack({
  dataDir,
  dbUrl: Deno.env.get("SUPABASE_DB_URL") || undefined,
  apiPort: Number(values.port ?? Deno.env.get("API_PORT") ?? 54321),
  dbPort: Number(values["db-port"] ?? Deno.env.get("DB_PORT") ?? 54322),
});

const DEMO = { email: "demo@example.com", password: "demo-password" };
await fetch(`${stack.apiUrl}/auth/v1/admin/users`, {
  method: "POST",
  headers: { authorization: `Bearer ${stack.serviceRoleKey}`, "content-type": "application/json" },
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
  db_url: stack.dbUrl,
  anon_key: stack.anonKey,
  service_role_key: stack.serviceRoleKey,
  jwks_url: `${stack.apiUrl}/auth/v1/.well-known/jwks.json`,
  data_dir: dataDir,
};
await Deno.mkdir(join(PROJECT_ROOT, ".local"), { recursive: true });
await Deno.writeTextFile(join(PROJECT_ROOT, ".local/dev.json"), JSON.stringify(info, null, 2));

const applied = stack.migrations.applied;
console.log(`
Local platform is up.
  Migrations        ${applied.length ? `applied ${applied.join(", ")}` : "up to date"}${
  stack.migrations.seeded ? " (seeded)" : ""
}
  API URL           ${info.api_url}
  Functions         ${info.functions_url}/<name>   (e.g. ${info.functions_url}/healthz)
  Database          ${info.db_url}   (one connection: held by this process)
  JWKS              ${info.jwks_url}
  Data directory    ${dataDir}
  anon key          ${info.anon_key}
  service_role key  ${info.service_role_key}
  Demo user         ${DEMO.email} / ${DEMO.password}
  Demo token        ${session.access_token ?? `(sign-in failed: ${JSON.stringify(session)})`}

Try:  curl ${info.functions_url}/readyz
      curl -H "Authorization: Bearer <demo token>" -H "content-type: application/json" \\
           -d '{"name": "Q3 close"}' ${info.functions_url}/workbenches
New user:  npx -y deno@2.9.6 task user:create someone@example.com
Ctrl-C stops (the database is saved in the data directory).
`);

let stopping = false;
const shutdown = async () => {
  if (stopping) return;
  stopping = true;
  console.log("Stopping...");
  await stack.stop();
  Deno.exit(0);
};
Deno.addSignalListener("SIGINT", shutdown);
Deno.addSignalListener("SIGTERM", shutdown);
