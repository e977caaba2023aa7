/**
 * `deno task db:native`: a persistent native PostgreSQL (Debian's server, with pgvector) for
 * `task dev --db-url`, where PGlite cannot show what Supabase's PostgreSQL does: concurrent
 * transactions, locks, the planner. It finds the server binaries and pgvector (and prints how to
 * build pgvector from Debian's source package when it is missing, or builds it with
 * `--install-pgvector` as root), creates the cluster on first run (superuser `postgres`, password
 * `postgres`, SCRAM), starts it and prints the `task dev` command that uses it. Run again, it
 * starts the same cluster (or says it runs); `--stop` stops it. `task dev` migrates it.
 *
 * Flags: --port (54330), --dir (.local/native-pg), --bin (the server's binaries; default the newest
 * /usr/lib/postgresql/<v>/bin), --install-pgvector, --stop.
 */
import { parseArgs } from "node:util";
import { join, resolve } from "node:path";
import postgres from "postgres";
import {
  findPostgresBin,
  hasPgvector,
  initCluster,
  isInitialised,
  pgvectorRecipe,
  runningPort,
  startCluster,
  stopCluster,
} from "./native_postgres.ts";

const PROJECT_ROOT = resolve(new URL("..", import.meta.url).pathname);
const PASSWORD = "postgres";

function isFile(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

function fail(message: string): never {
  console.error(`task db:native: ${message}`);
  Deno.exit(2);
}

function parseFlags() {
  try {
    return parseArgs({
      args: Deno.args,
      options: {
        port: { type: "string" },
        dir: { type: "string" },
        bin: { type: "string" },
        "install-pgvector": { type: "boolean" },
        stop: { type: "boolean" },
      },
    }).values;
  } catch (err) {
    fail(
      `${(err as Error).message}. Flags: --port N --dir DIR --bin DIR --install-pgvector --stop`,
    );
  }
}

const values = parseFlags();
const rawPort = values.port ?? "54330";
const port = Number(rawPort);
if (!/^\d+$/.test(rawPort) || port < 1 || port > 65535) {
  fail(`--port must be a port number, got "${rawPort}"`);
}
const dir = resolve(values.dir ?? join(PROJECT_ROOT, ".local/native-pg"));

const bin = values.bin ? resolve(values.bin) : findPostgresBin();
if (values.bin && (!/\/\d+\/bin$/.test(bin!) || !isFile(`${bin}/initdb`))) {
  fail(`--bin must be a /usr/lib/postgresql/<version>/bin folder with initdb, got "${values.bin}"`);
}
if (!bin) {
  fail(
    "no PostgreSQL server in /usr/lib/postgresql/<version>/bin. Install Debian's: " +
      "apt-get install postgresql (its own cluster is not needed: `systemctl disable --now " +
      "postgresql` if you like).",
  );
}

if (values.stop) {
  const running = await runningPort(bin, dir);
  if (running === undefined) {
    console.log(`No native PostgreSQL runs on ${dir}.`);
  } else {
    await stopCluster(bin, dir);
    console.log(`Stopped the native PostgreSQL on port ${running} (${dir}; its data stays).`);
  }
  Deno.exit(0);
}

if (!hasPgvector(bin)) {
  const recipe = pgvectorRecipe(bin);
  if (!values["install-pgvector"]) {
    const sudo = Deno.uid() === 0 ? "" : "sudo ";
    console.error(
      `task db:native: pgvector is not installed for ${bin}. Build it from Debian 13's source ` +
        "package (about 10 s; what .ci/run does), as root:\n\n" +
        `${sudo}bash -euo pipefail <<'EOF'\n${recipe.join("\n")}\nEOF\n\n` +
        "or run `task db:native --install-pgvector` as root.",
    );
    Deno.exit(1);
  }
  if (Deno.uid() !== 0) fail("--install-pgvector installs system packages: run it as root.");
  console.log("Building pgvector from Debian 13's source package...");
  const built = await new Deno.Command("bash", {
    args: ["-euo", "pipefail", "-c", recipe.join("\n")],
    stdin: "null",
  }).output();
  if (!built.success || !hasPgvector(bin)) fail("building pgvector failed (see above).");
}

const url = (p: number) => `postgresql://postgres:${PASSWORD}@127.0.0.1:${p}/postgres`;

let running = await runningPort(bin, dir);
if (running !== undefined) {
  console.log(`The native PostgreSQL on ${dir} already runs (port ${running}).`);
} else {
  if (!isInitialised(dir)) {
    console.log(`Creating a PostgreSQL ${bin.split("/").at(-2)} cluster in ${dir}...`);
    await initCluster(bin, dir, { password: PASSWORD })
      .catch((err) => fail(`could not create the cluster: ${(err as Error).message}`));
  }
  try {
    await startCluster(bin, dir, { port });
  } catch (err) {
    fail(`the server did not start on port ${port} (another --port?):\n${(err as Error).message}`);
  }
  running = port;
}

// What `task dev` will need: pgvector 0.8 available to this server.
const sql = postgres(url(running), { max: 1, onnotice: () => {} });
let server = "";
let vector = "";
try {
  const [row] = await sql<{ server: string; vector: string | null }[]>`
    select current_setting('server_version') as server,
           (select default_version from pg_available_extensions where name = 'vector') as vector`;
  server = row!.server;
  vector = row!.vector ?? "missing";
} finally {
  await sql.end();
}

const [major, minor] = vector.split(".").map(Number);
if (!(major! > 0 || minor! >= 8)) {
  fail(
    `pgvector ${vector} is installed for ${bin}, but the migrations need 0.8 or newer: ` +
      "rebuild it with the recipe `task db:native` prints when pgvector is missing.",
  );
}

console.log(`
Native PostgreSQL ${server} with pgvector ${vector} is up.
  URL            ${url(running)}
  Data           ${dir}  (kept across restarts; delete it to start over)
  Log            ${join(dir, "postgres.log")}

Use it:  npx -y deno@2.9.6 task dev --db-url ${url(running)}
Stop it: npx -y deno@2.9.6 task db:native --stop${values.dir ? ` --dir ${dir}` : ""}
`);
