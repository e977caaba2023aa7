/**
 * The Supabase CLI against the local database, and local/migrate.ts against the CLI. With only the
 * platform baseline applied (what a Supabase project has before its migrations), `supabase db push
 * --db-url … --include-seed` applies supabase/migrations and seed.sql itself through the pooler,
 * while another client keeps running transactions. `migrate()` on another fresh database must then
 * write exactly the same history (schema_migrations rows, seed_files rows, table definitions), each
 * must find the other's database up to date, and both must agree on tricky SQL (dollar quotes,
 * comments, quoted identifiers, BEGIN ATOMIC, files with their own transaction or none) and on a
 * changed seed. The CLI comes from the npm registry into .local/tools (.ci/run installs it);
 * without it the tests are skipped.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import postgres from "postgres";
import { startPglite } from "../../local/database.ts";
import { defaultPaths, listMigrations, migrate } from "../../local/migrate.ts";
import { parseMigration } from "../../local/migration_sql.ts";
import { applyPlatformBaseline } from "../../local/platform_sql.ts";
import { sha256 } from "../helpers/digest.ts";
import { requireTool } from "../helpers/requirements.ts";

const ROOT = new URL("../..", import.meta.url).pathname;
const CLI = join(ROOT, ".local/tools/node_modules/.bin/supabase");
const cliInstalled = (() => {
  try {
    return Deno.statSync(CLI).isFile;
  } catch {
    return false;
  }
})();
const noCli = requireTool(
  "the Supabase CLI in .local/tools",
  cliInstalled,
  "npm i -E --prefix .local/tools supabase@2.117.0; .ci/run does",
);

/** Runs the CLI offline in `cwd`: no telemetry, no update check, no Docker, a throw-away HOME. */
async function supabase(args: string[], home: string, cwd = ROOT) {
  const child = new Deno.Command(CLI, {
    args,
    cwd,
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

/** `supabase db push --include-seed` to a local database (the CLI wants TLS unless told not to). */
async function push(url: string, home: string, cwd = ROOT) {
  const out = await supabase(
    ["db", "push", "--db-url", `${url}?sslmode=disable`, "--include-seed", "--yes"],
    home,
    cwd,
  );
  assert.equal(out.code, 0, out.text);
  return out.text;
}

interface Db {
  url: string;
  sql: postgres.Sql;
  stop(): Promise<void>;
}

async function freshDb(opts: { baseline: boolean }): Promise<Db> {
  const db = await startPglite({ port: 0 });
  const sql = postgres(db.url, { max: 1, prepare: false, onnotice: () => {} });
  if (opts.baseline) await applyPlatformBaseline(sql);
  return {
    url: db.url,
    sql,
    async stop() {
      await sql.end();
      await db.stop();
    },
  };
}

/** The migration history and the definition of its tables, as plain values. */
async function historyOf(sql: postgres.Sql) {
  const plain = <T>(rows: Iterable<T>) => [...rows];
  return {
    migrations: plain(
      await sql<{ version: string; name: string; statements: string[] }[]>`
        select version, name, statements from supabase_migrations.schema_migrations
        order by version`,
    ),
    seeds: plain(
      await sql`select path, hash from supabase_migrations.seed_files order by path`,
    ),
    columns: plain(
      await sql`select table_name, column_name, ordinal_position, data_type, udt_name,
          is_nullable, column_default
        from information_schema.columns where table_schema = 'supabase_migrations'
        order by table_name, ordinal_position`,
    ),
    constraints: plain(
      await sql`select conrelid::regclass::text as table_name, conname,
          pg_get_constraintdef(oid) as definition
        from pg_constraint where connamespace = 'supabase_migrations'::regnamespace
        order by 1, 2`,
    ),
  };
}

Deno.test({
  name: "`supabase db push` applies the migrations and seed through the pooler; `migrate()` " +
    "writes the same history on a fresh database, and each finds the other's up to date",
  ignore: noCli,
  sanitizeOps: false,
  sanitizeResources: false,
}, async () => {
  const home = await Deno.makeTempDir({ prefix: "supabase-cli-home-" });
  try {
    let pushed: Awaited<ReturnType<typeof historyOf>>;
    const a = await freshDb({ baseline: true });
    const busy = postgres(a.url, { max: 1, prepare: false, onnotice: () => {} });
    try {
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
      const text = await push(a.url, home).finally(() => {
        pushing = false;
      });
      await background;
      assert.match(text, /Finished supabase db push/);
      assert.ok(transactions > 0);
      const [{ n }] = await a.sql`select count(*)::int as n from busy_log`;
      assert.equal(n, transactions);

      pushed = await historyOf(a.sql);
      const files = await listMigrations(defaultPaths().migrationsDir);
      assert.deepEqual(
        pushed.migrations.map((r) => [r.version, r.name]),
        files.map((f) => [f.version, f.name]),
      );
      const plans = await a.sql`select id from public.plans order by sort_order`;
      assert.deepEqual(plans.map((p) => p.id), ["lite", "pro", "enterprise"]);
      assert.deepEqual(
        pushed.seeds,
        [{
          path: "supabase/seed.sql",
          hash: await sha256(await Deno.readFile(join(ROOT, "supabase/seed.sql"))),
        }],
      );

      assert.deepEqual(await migrate(a.sql, defaultPaths()), {
        applied: [],
        seeded: false,
        seedHashUpdated: [],
      });
    } finally {
      await busy.end();
      await a.stop();
    }

    const b = await freshDb({ baseline: true });
    try {
      const result = await migrate(b.sql, defaultPaths());
      assert.equal(result.applied.length, pushed.migrations.length);
      assert.equal(result.seeded, true);
      assert.deepEqual(await historyOf(b.sql), pushed);
      assert.match(await push(b.url, home), /(Remote|Local) database is up to date/);
    } finally {
      await b.stop();
    }
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});

/** SQL the CLI's splitter must get right, in files that take each of its ways of running one. */
const TRICKY: Record<string, string> = {
  "20260101000000_tricky.sql": `-- Leading comment; with a semicolon
create table public.t ("semi;colon" text, "quote""d" text, body text);

/* block comment; /* nested; */ still a comment; */
insert into public.t values ('a;b', 'it''s; fine', $$dollar; body$$);

create function public.f() returns text language plpgsql as $outer$
declare
  s text := $inner$ inner; $$ not the end $inner$;
begin
  return s || ';';  -- comment; inside
end;
$outer$;

create function public.add(a integer, b integer) returns integer
language sql immutable
BEGIN ATOMIC
  select a + b;
  select a + b + 0;
end;

create view public.v as select 1 as "x;y" -- trailing; comment
;
insert into public.t (body) values (E'tab\\there; done'), ('unicode é ; ✓ 𝄞')`,
  "20260101000100_search_path.sql":
    `-- Leaves the session without a search_path: RESET ALL undoes it.
select pg_catalog.set_config('search_path', '', false);
`,
  "20260101000200_after_reset.sql": "create table unqualified_after_reset (id int);\n",
  "20260101000300_no_transaction.sql":
    "-- pg-delta: transaction=false\ncreate table public.nt (id int);\ninsert into public.nt values (1);\n",
  "20260101000400_own_transaction.sql": "begin;\ncreate table public.ot (id int);\ncommit;\n",
  "20260101000500_comment_only.sql": "-- nothing but a comment\n",
  "20260101000600_blank.sql": "\n",
};
const SEED = "-- seed; rows\ninsert into public.t (body) values ('seeded; once');\n";

Deno.test({
  name: "`migrate()` and `supabase db push` split tricky SQL alike, write the same history, " +
    "and both only record the new hash of a changed seed",
  ignore: noCli,
  sanitizeOps: false,
  sanitizeResources: false,
}, async () => {
  const home = await Deno.makeTempDir({ prefix: "supabase-cli-home-" });
  const project = await Deno.makeTempDir({ prefix: "supabase-cli-project-" });
  await Deno.mkdir(join(project, "supabase/migrations"), { recursive: true });
  await Deno.writeTextFile(join(project, "supabase/config.toml"), 'project_id = "cli-compat"\n');
  for (const [name, text] of Object.entries(TRICKY)) {
    await Deno.writeTextFile(join(project, "supabase/migrations", name), text);
  }
  await Deno.writeTextFile(join(project, "supabase/seed.sql"), SEED);
  const paths = defaultPaths(project);
  const a = await freshDb({ baseline: false });
  const b = await freshDb({ baseline: false });
  const bodies = async (db: Db) =>
    (await db.sql`select body from public.t where body is not null order by body`)
      .map((r) => r.body as string);
  try {
    assert.match(await push(a.url, home, project), /Finished supabase db push/);
    const pushed = await historyOf(a.sql);
    assert.deepEqual(
      pushed.migrations.map((r) => r.statements),
      Object.values(TRICKY).map((text) => parseMigration(text).statements),
    );
    assert.equal(pushed.migrations[0].statements.length, 6);

    assert.deepEqual(await migrate(b.sql, paths), {
      applied: Object.keys(TRICKY).map((f) => f.replace(/\.sql$/, "")),
      seeded: true,
      seedHashUpdated: [],
    });
    assert.deepEqual(await historyOf(b.sql), pushed);
    assert.deepEqual(await bodies(b), await bodies(a));
    assert.deepEqual(await bodies(a), [
      "dollar; body",
      "seeded; once",
      "tab\there; done",
      "unicode é ; ✓ 𝄞",
    ]);
    for (const db of [a, b]) {
      const [row] = await db.sql`select public.f() as f, public.add(2, 3) as sum,
        (select count(*)::int from public.nt) as nt,
        to_regclass('public.unqualified_after_reset') is not null as reset,
        to_regclass('public.ot') is not null as ot`;
      assert.deepEqual(row, {
        f: " inner; $$ not the end ;",
        sum: 5,
        nt: 1,
        reset: true,
        ot: true,
      });
    }
    assert.deepEqual(await migrate(a.sql, paths), {
      applied: [],
      seeded: false,
      seedHashUpdated: [],
    });
    assert.match(await push(b.url, home, project), /(Remote|Local) database is up to date/);

    // A changed seed: both record its new hash and neither runs it again.
    const changed = `${SEED}insert into public.t (body) values ('seeded; twice');\n`;
    await Deno.writeTextFile(join(project, "supabase/seed.sql"), changed);
    assert.match(await push(a.url, home, project), /Updating seed hash to supabase\/seed\.sql/);
    assert.deepEqual(await migrate(b.sql, paths), {
      applied: [],
      seeded: false,
      seedHashUpdated: ["supabase/seed.sql"],
    });
    const [after, afterB] = [await historyOf(a.sql), await historyOf(b.sql)];
    assert.deepEqual(afterB, after);
    assert.deepEqual(after.seeds, [{
      path: "supabase/seed.sql",
      hash: await sha256(new TextEncoder().encode(changed)),
    }]);
    assert.deepEqual(await bodies(b), await bodies(a));
    assert.ok(!(await bodies(a)).includes("seeded; twice"));
  } finally {
    await a.stop();
    await b.stop();
    await Deno.remove(home, { recursive: true });
    await Deno.remove(project, { recursive: true });
  }
});
