/**
 * The Supabase CLI against the local database: with only the platform baseline applied (what a
 * Supabase project has before its migrations), `supabase db push --db-url … --include-seed`
 * applies supabase/migrations and seed.sql itself through the pooler, while another client keeps
 * running transactions; local/migrate.ts then finds nothing left to do. The CLI comes from the npm
 * registry into .local/tools (.ci/run installs it); without it the test is skipped.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import postgres from "postgres";
import { startPglite } from "../local/database.ts";
import { defaultPaths, listMigrations, migrate } from "../local/migrate.ts";
import { applyPlatformBaseline } from "../local/platform_sql.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const CLI = join(ROOT, ".local/tools/node_modules/.bin/supabase");
const cliInstalled = (() => {
  try {
    return Deno.statSync(CLI).isFile;
  } catch {
    return false;
  }
})();
if (!cliInstalled) {
  console.log(
    "SKIPPED Supabase CLI test: no .local/tools/node_modules/.bin/supabase " +
      "(install it with: npm i -E --prefix .local/tools supabase@2.117.0; .ci/run does).",
  );
}

/** Runs the CLI offline: no telemetry, no update check, no Docker, a throw-away HOME. */
async function supabase(args: string[], home: string) {
  const child = new Deno.Command(CLI, {
    args,
    cwd: ROOT,
    env: {
      HOME: home,
      SUPABASE_TELEMETRY_DISABLED: "1",
      SUPABASE_NO_UPDATE_NOTIFIER: "1",
      DO_NOT_TRACK: "1",
      DOCKER_HOST: `unix://${home}/no-docker.sock`,
    },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const timer = setTimeout(() => child.kill("SIGKILL"), 180_000);
  try {
    const out = await child.output();
    const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
    return { code: out.code, text };
  } finally {
    clearTimeout(timer);
  }
}

Deno.test({
  name: "`supabase db push` applies the migrations and seed through the pooler, " +
    "and `migrate()` then finds them all applied",
  ignore: !cliInstalled,
  sanitizeOps: false,
  sanitizeResources: false,
}, async () => {
  const home = await Deno.makeTempDir({ prefix: "supabase-cli-home-" });
  const db = await startPglite({ port: 0 });
  const sql = postgres(db.url, { max: 1, prepare: false, onnotice: () => {} });
  const busy = postgres(db.url, { max: 1, prepare: false, onnotice: () => {} });
  try {
    await applyPlatformBaseline(sql);
    await busy`create table busy_log (n int)`;

    // Another client keeps the pooler busy while the CLI works.
    let pushing = true;
    let transactions = 0;
    const background = (async () => {
      while (pushing && transactions < 2000) {
        await busy.begin(async (tx) => {
          await tx.unsafe("set local role anon");
          await tx.unsafe("reset role");
          await tx`insert into busy_log values (${transactions})`;
        });
        transactions++;
      }
    })();

    // The CLI insists on TLS unless told otherwise; PGlite has none.
    const url = `${db.url}?sslmode=disable`;
    const push = await supabase(["db", "push", "--db-url", url, "--include-seed", "--yes"], home);
    pushing = false;
    await background;
    assert.equal(push.code, 0, push.text);
    assert.match(push.text, /Finished supabase db push/);
    assert.ok(transactions > 0);
    const [{ n }] = await sql`select count(*)::int as n from busy_log`;
    assert.equal(n, transactions);

    const files = await listMigrations(defaultPaths().migrationsDir);
    const rows = await sql<{ version: string; name: string; statements: string[] }[]>`
      select version, name, statements from supabase_migrations.schema_migrations
      order by version`;
    assert.deepEqual(
      rows.map((r) => [r.version, r.name]),
      files.map((f) => [f.version, f.name]),
    );
    for (const r of rows) assert.ok(r.statements.length > 0, r.version);

    const plans = await sql`select id from public.plans order by sort_order`;
    assert.deepEqual(plans.map((p) => p.id), ["lite", "pro", "enterprise"]);
    const [seed] = await sql`select path from supabase_migrations.seed_files`;
    assert.equal(seed.path, "supabase/seed.sql");

    const after = await migrate(sql, defaultPaths());
    assert.deepEqual(after, { applied: [], seeded: false });
  } finally {
    await busy.end();
    await sql.end();
    await db.stop();
    await Deno.remove(home, { recursive: true });
  }
});
