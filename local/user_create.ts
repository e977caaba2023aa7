/**
 * `deno task user:create <email> [--password <pw>]`: creates a confirmed user through the running
 * local platform's Auth admin API (never a second database connection) and prints an access token.
 * Reads the API URL and keys that `task dev` wrote to its data directory's dev.json (--data-dir /
 * DATA_DIR as for `task dev`; by default .local/dev, whose dev.json is also .local/dev.json).
 */
import { parseArgs } from "node:util";
import { join } from "node:path";
import { PROJECT_ROOT } from "./stack.ts";

const { values, positionals } = parseArgs({
  args: Deno.args,
  allowPositionals: true,
  options: { password: { type: "string" }, "data-dir": { type: "string" } },
});
const email = positionals[0];
if (!email) {
  console.error(
    "usage: deno task user:create <email> [--password <password>] [--data-dir <dir>]",
  );
  Deno.exit(2);
}

const dataDir = values["data-dir"] ?? Deno.env.get("DATA_DIR") ?? join(PROJECT_ROOT, ".local/dev");
const infoFile = join(dataDir, "dev.json");
let info: { api_url: string; anon_key: string; service_role_key: string };
try {
  info = JSON.parse(await Deno.readTextFile(infoFile));
} catch {
  console.error(`No running local platform found (${infoFile}). Start it with: deno task dev`);
  Deno.exit(1);
}

const password = values.password ?? crypto.randomUUID();
const created = await fetch(`${info.api_url}/auth/v1/admin/users`, {
  method: "POST",
  headers: {
    apikey: info.service_role_key,
    authorization: `Bearer ${info.service_role_key}`,
    "content-type": "application/json",
  },
  body: JSON.stringify({ email, password, email_confirm: true }),
}).catch((err) => {
  console.error(`Cannot reach ${info.api_url}: ${err.message}. Is "deno task dev" running?`);
  Deno.exit(1);
});
const createdBody = await created.json();
if (!created.ok) {
  const exists = createdBody.error_code === "email_exists";
  if (!exists || !values.password) {
    console.error(`Could not create ${email}: ${createdBody.msg ?? JSON.stringify(createdBody)}`);
    if (exists) console.error("The user exists: pass --password <their password> to get a token.");
    Deno.exit(1);
  }
}

const session = await fetch(`${info.api_url}/auth/v1/token?grant_type=password`, {
  method: "POST",
  headers: { apikey: info.anon_key, "content-type": "application/json" },
  body: JSON.stringify({ email, password }),
}).then((r) => r.json());
if (!session.access_token) {
  console.error(`Sign-in failed: ${session.msg ?? JSON.stringify(session)}`);
  Deno.exit(1);
}
console.log(`user id:      ${session.user.id}`);
console.log(`email:        ${email}`);
if (!values.password) console.log(`password:     ${password}`);
console.log(`access token: ${session.access_token}`);
