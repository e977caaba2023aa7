import assert from "node:assert/strict";
import { join, resolve } from "node:path";
import postgres from "postgres";
import { startPglite } from "../../local/database.ts";
import {
  defaultPaths,
  listMigrations,
  migrate,
  type MigrationFile,
  type MigrationPaths,
  pendingMigrations,
  seedFiles,
} from "../../local/migrate.ts";
import {
  isTransactionControl,
  parseMigration,
  runsOutsideTransaction,
  splitStatements,
} from "../../local/migration_sql.ts";
import { readFunctionConfig } from "../../local/functions_gateway.ts";

const ROOT = resolve(new URL("../..", import.meta.url).pathname);

Deno.test("`splitStatements()` keeps semicolons inside dollar-quoted bodies, nested tags included", () => {
  const sql = `create function f() returns text language plpgsql as $outer$
declare
  s text := $inner$ a; $$ b; $inner$;
begin
  return s || ';';
end;
$outer$;
do $$ begin perform 1; end $$;`;
  assert.deepEqual(splitStatements(sql), [
    `create function f() returns text language plpgsql as $outer$
declare
  s text := $inner$ a; $$ b; $inner$;
begin
  return s || ';';
end;
$outer$`,
    "do $$ begin perform 1; end $$",
  ]);
});

Deno.test("`splitStatements()` attaches leading comments to the next statement and ignores semicolons in them", () => {
  const sql = `-- first; comment
select 1;
/* block; /* nested; */ still; */ select 2;
select 3 -- trailing; comment
;
-- a comment after the last statement`;
  assert.deepEqual(splitStatements(sql), [
    "-- first; comment\nselect 1",
    "/* block; /* nested; */ still; */ select 2",
    "select 3 -- trailing; comment",
    "-- a comment after the last statement",
  ]);
});

Deno.test("`splitStatements()` keeps semicolons in quoted identifiers and in strings with doubled quotes", () => {
  const sql = `create table "semi;colon" ("it""s;" text);
insert into "semi;colon" values ('it''s; fine'), (';');`;
  assert.deepEqual(splitStatements(sql), [
    `create table "semi;colon" ("it""s;" text)`,
    `insert into "semi;colon" values ('it''s; fine'), (';')`,
  ]);
});

Deno.test("`splitStatements()` keeps a BEGIN ATOMIC body and a parenthesised list whole", () => {
  const sql = `create function add(a int, b int) returns int language sql
BEGIN
  ATOMIC
  select a + b;
end;
create rule r as on insert to t do also (notify t; select 1);
select 'atomic'; select 1`;
  assert.deepEqual(splitStatements(sql), [
    "create function add(a int, b int) returns int language sql\nBEGIN\n  ATOMIC\n  select a + b;\nend",
    "create rule r as on insert to t do also (notify t; select 1)",
    "select 'atomic'",
    "select 1",
  ]);
});

Deno.test("`splitStatements()` trims, drops the final semicolons and empty statements", () => {
  assert.deepEqual(splitStatements("  select 1 ;;\n\n ;select 2;  \n"), ["select 1", "select 2"]);
  assert.deepEqual(splitStatements(""), []);
  assert.deepEqual(splitStatements("select 'é 𝄞;' as \"ü\"; select $é$ x; $é$"), [
    "select 'é 𝄞;' as \"ü\"",
    "select $é$ x; $é$",
  ]);
});

Deno.test("`splitStatements()` splits where the CLI does even when Postgres would not", () => {
  // A backslash-escaped quote in an E'' string closes the CLI's quote (the rest is then quoted)…
  assert.deepEqual(splitStatements("select E'it\\'s; here'; select 2"), [
    "select E'it\\'s",
    "here'; select 2",
  ]);
  // …and an inner parenthesis closes the outer one too.
  assert.deepEqual(
    splitStatements("create rule r as on insert to t do also (insert into l values (1); select 2)"),
    ["create rule r as on insert to t do also (insert into l values (1)", "select 2)"],
  );
  // A backslash outside quotes escapes the next character, `;` included.
  assert.deepEqual(splitStatements("select 1 \\; select 2; select 3"), [
    "select 1 \\; select 2",
    "select 3",
  ]);
});

Deno.test("`splitStatements()` splits this project's migrations into the CLI's statement counts", async () => {
  const count = async (name: string) =>
    splitStatements(await Deno.readTextFile(`${ROOT}/supabase/migrations/${name}`)).length;
  // Counted with splitStatements on the files as committed (the first eight matched `supabase db
  // push` 2.117.0 when they were consolidated): a change of the splitter shows here.
  assert.equal(await count("20261201000000_platform.sql"), 38);
  assert.equal(await count("20261201000100_wallet_and_payments.sql"), 161);
  assert.equal(await count("20261201000200_tenancy.sql"), 132);
  assert.equal(await count("20261201000300_files_and_indexing.sql"), 42);
  assert.equal(await count("20261201000400_search.sql"), 32);
  assert.equal(await count("20261201000500_chat.sql"), 54);
  assert.equal(await count("20261201000600_reports.sql"), 22);
  assert.equal(await count("20261201000700_operations.sql"), 33);
  assert.equal(await count("20261201000800_channels.sql"), 63);
  assert.equal(await count("20261201000900_privacy_and_audit.sql"), 79);
  assert.equal(await count("20261201001000_admin_and_metrics.sql"), 52);
});

Deno.test("`parseMigration()` runs a file without a transaction only after the pg-delta marker line", () => {
  const marked = parseMigration("\ufeff-- pg-delta: transaction=false\r\nvacuum; select 1;");
  assert.equal(marked.transactionMode, "none");
  assert.deepEqual(marked.statements, ["-- pg-delta: transaction=false\r\nvacuum", "select 1"]);
  assert.equal(
    parseMigration("select 1; -- pg-delta: transaction=false").transactionMode,
    "transactional",
  );
});

Deno.test("statement classifiers see through leading comments like the CLI", () => {
  assert.ok(runsOutsideTransaction("-- x\n/* y */ create unique index concurrently i on t (a)"));
  assert.ok(runsOutsideTransaction("VACUUM (analyze) t"));
  assert.ok(!runsOutsideTransaction("create index i on t (a)"));
  assert.ok(isTransactionControl("-- go\nBEGIN"));
  assert.ok(isTransactionControl("rollback work"));
  assert.ok(!isTransactionControl("rollback to savepoint s"));
  assert.ok(!isTransactionControl("create function f() returns int begin atomic select 1; end"));
});

const file = (version: string): MigrationFile => ({ version, name: `m${version}`, file: "" });

Deno.test("`pendingMigrations()` returns the files after the recorded ones", () => {
  const local = ["1", "2", "3"].map(file);
  assert.deepEqual(pendingMigrations(local, []).map((m) => m.version), ["1", "2", "3"]);
  assert.deepEqual(pendingMigrations(local, ["1", "2"]).map((m) => m.version), ["3"]);
  assert.deepEqual(pendingMigrations(local, ["1", "2", "3"]), []);
});

Deno.test("`pendingMigrations()` refuses recorded versions missing locally and out-of-order files", () => {
  const local = ["1", "3"].map(file);
  assert.throws(() => pendingMigrations(local, ["1", "2", "3"]), /not in supabase\/migrations: 2/);
  assert.throws(() => pendingMigrations(local, ["1", "3", "4"]), /not in supabase\/migrations: 4/);
  assert.throws(
    () => pendingMigrations(["1", "2", "3"].map(file), ["1", "3"]),
    /older .*2_m2\.sql/,
  );
});

Deno.test("`listMigrations()` orders by version and rejects badly named files", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/20260102000000_second.sql`, "select 2;");
    await Deno.writeTextFile(`${dir}/20260101000000_first.sql`, "select 1;");
    await Deno.writeTextFile(`${dir}/notes.txt`, "ignored");
    assert.deepEqual((await listMigrations(dir)).map((m) => m.name), ["first", "second"]);
    await Deno.writeTextFile(`${dir}/2026_bad.sql`, "select 3;");
    await assert.rejects(listMigrations(dir), /YYYYMMDDHHMMSS_name\.sql/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("`defaultPaths()` takes the seed paths of config.toml as the CLI resolves them", async () => {
  assert.deepEqual(defaultPaths(ROOT).seedPaths, ["supabase/seed.sql"]);
  const dir = await Deno.makeTempDir();
  try {
    await Deno.mkdir(`${dir}/supabase/seeds`, { recursive: true });
    const config = (seed: string) => Deno.writeTextFile(`${dir}/supabase/config.toml`, seed);
    await config(`[db.seed]\nsql_paths = ["./seeds/*.sql", "../x/../more.sql"]\n`);
    assert.deepEqual(defaultPaths(dir).seedPaths, ["supabase/seeds/*.sql", "more.sql"]);
    await config(`[db.seed]\nenabled = false\n`);
    assert.deepEqual(defaultPaths(dir).seedPaths, []);
    await Deno.remove(`${dir}/supabase/config.toml`);
    assert.deepEqual(defaultPaths(dir).seedPaths, ["supabase/seed.sql"]);

    for (const f of ["b.sql", "a.sql", "c.txt"]) {
      await Deno.writeTextFile(`${dir}/supabase/seeds/${f}`, "");
    }
    assert.deepEqual(
      await seedFiles(dir, ["supabase/seeds/*.sql", "supabase/seeds/a.sql", "supabase/none.sql"]),
      {
        files: ["supabase/seeds/a.sql", "supabase/seeds/b.sql"],
        warnings: ["no files matched pattern: supabase/none.sql"],
      },
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** A throw-away project (supabase/migrations + seed.sql) and an in-memory database. */
async function withProject(
  files: Record<string, string>,
  fn: (ctx: { sql: postgres.Sql; paths: MigrationPaths; dir: string }) => Promise<void>,
) {
  const dir = await Deno.makeTempDir({ prefix: "migrate-test-" });
  await Deno.mkdir(join(dir, "supabase/migrations"), { recursive: true });
  for (const [path, text] of Object.entries(files)) await Deno.writeTextFile(join(dir, path), text);
  const db = await startPglite({ port: 0 });
  const sql = postgres(db.url, { max: 1, prepare: false, onnotice: () => {} });
  try {
    const paths = defaultPaths(dir);
    if (!("supabase/seed.sql" in files)) paths.seedPaths = [];
    await fn({ sql, paths, dir });
  } finally {
    await sql.end();
    await db.stop();
    await Deno.remove(dir, { recursive: true });
  }
}

async function history(sql: postgres.Sql) {
  const migrations = await sql`select version, name, statements
    from supabase_migrations.schema_migrations order by version`;
  const seeds = await sql`select path, hash from supabase_migrations.seed_files order by path`;
  return { migrations: [...migrations], seeds: [...seeds] };
}

async function sha256(text: string) {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

const SEED = "-- plans; upserted\ninsert into public.plan values ('lite', 1) " +
  "on conflict (id) do update set credits = excluded.credits;\n";

Deno.test({
  name: "`migrate()` records the split statements and the seed's hash, then finds nothing to do",
  sanitizeOps: false,
  sanitizeResources: false,
}, async () => {
  const first = "-- Plans.\ncreate table public.plan (id text primary key, credits int);\n" +
    "create function public.credits() returns int language sql as $$ select 1; $$;\n";
  await withProject({
    "supabase/migrations/20260101000000_first.sql": first,
    "supabase/migrations/20260101000100_second.sql": "select 1",
    "supabase/migrations/20260101000200_comment.sql": "-- only a comment; nothing to run\n",
    "supabase/seed.sql": SEED,
  }, async ({ sql, paths }) => {
    assert.deepEqual(await migrate(sql, paths), {
      applied: ["20260101000000_first", "20260101000100_second", "20260101000200_comment"],
      seeded: true,
      seedHashUpdated: [],
    });
    assert.deepEqual(await history(sql), {
      migrations: [
        {
          version: "20260101000000",
          name: "first",
          statements: [
            "-- Plans.\ncreate table public.plan (id text primary key, credits int)",
            "create function public.credits() returns int language sql as $$ select 1; $$",
          ],
        },
        { version: "20260101000100", name: "second", statements: ["select 1"] },
        {
          version: "20260101000200",
          name: "comment",
          statements: ["-- only a comment; nothing to run"],
        },
      ],
      seeds: [{ path: "supabase/seed.sql", hash: await sha256(SEED) }],
    });
    assert.deepEqual([...await sql`select * from public.plan`], [{ id: "lite", credits: 1 }]);
    assert.deepEqual(await migrate(sql, paths), {
      applied: [],
      seeded: false,
      seedHashUpdated: [],
    });
  });
});

Deno.test({
  name: "`migrate()` resets settings between migrations and hands the connection back clean",
  sanitizeOps: false,
  sanitizeResources: false,
}, async () => {
  await withProject({
    "supabase/migrations/20260101000000_no_path.sql":
      "select pg_catalog.set_config('search_path', '', false);\nset role migrator;",
    // Fails with "no schema has been selected to create in" unless the search_path was reset.
    "supabase/migrations/20260101000100_unqualified.sql": "create table unqualified (id int);",
  }, async ({ sql, paths }) => {
    // RESET ALL leaves the role (as in the CLI): the next migration still runs as migrator.
    await sql.unsafe("create role migrator superuser nologin");
    const [before] = await sql`select current_setting('search_path') as path`;
    await migrate(sql, paths);
    const [row] = await sql`select current_setting('search_path') as path, current_user as who,
      (select tableowner from pg_tables where tablename = 'unqualified') as owner`;
    assert.deepEqual(row, { path: before.path, who: "postgres", owner: "migrator" });
    assert.notEqual(before.path, "");
  });
});

Deno.test({
  name: "`migrate()` rolls a failing migration back whole and names the statement",
  sanitizeOps: false,
  sanitizeResources: false,
}, async () => {
  await withProject({
    "supabase/migrations/20260101000000_ok.sql": "create table public.a (id int);",
    "supabase/migrations/20260101000100_bad.sql":
      "create table public.b (id int);\ninsert into public.b values (1);\nselect nope from public.b;",
    "supabase/migrations/20260101000200_savepoint.sql": "savepoint s;",
  }, async ({ sql, paths }) => {
    await assert.rejects(
      migrate(sql, paths),
      /20260101000100_bad\.sql failed: column "nope" does not exist\nAt statement: 2\nselect nope from public\.b\n {7}\^/,
    );
    const tables = await sql`select tablename from pg_tables where schemaname = 'public'`;
    assert.deepEqual(tables.map((t) => t.tablename), ["a"]);
    const versions = await sql`select version from supabase_migrations.schema_migrations`;
    assert.deepEqual(versions.map((v) => v.version), ["20260101000000"]);

    await Deno.writeTextFile(
      `${paths.migrationsDir}/20260101000100_bad.sql`,
      "create table public.b (id int);",
    );
    await assert.rejects(
      migrate(sql, paths),
      /savepoint\.sql failed: SAVEPOINT.*transaction blocks/,
    );
  });
});

Deno.test({
  name: "`migrate()` runs a seed without a row once, then only records a changed seed's hash",
  sanitizeOps: false,
  sanitizeResources: false,
}, async () => {
  const text = "create table public.plan (id text primary key, credits int);\n";
  await withProject({
    "supabase/migrations/20260101000000_plan.sql": text,
    "supabase/seed.sql": SEED,
  }, async ({ sql, paths, dir }) => {
    // A database migrated and seeded by the former runner: whole-file history rows, no seed_files.
    await sql.unsafe(`create schema supabase_migrations;
      create table supabase_migrations.schema_migrations (
        version text primary key, statements text[], name text);`);
    await sql.unsafe(text);
    await sql`insert into supabase_migrations.schema_migrations values
      ('20260101000000', ${[text]}, 'plan')`;
    await sql`insert into public.plan values ('lite', 1), ('custom', 7)`;

    // The seed is an upsert: running it again leaves the same rows.
    assert.deepEqual(await migrate(sql, paths), { applied: [], seeded: true, seedHashUpdated: [] });
    const rows = await sql`select id, credits from public.plan order by id`;
    assert.deepEqual([...rows], [{ id: "custom", credits: 7 }, { id: "lite", credits: 1 }]);
    assert.deepEqual((await history(sql)).migrations, [{
      version: "20260101000000",
      name: "plan",
      statements: ["create table public.plan (id text primary key, credits int)"],
    }]);

    const changed = SEED.replace("1)", "5)");
    await Deno.writeTextFile(join(dir, "supabase/seed.sql"), changed);
    assert.deepEqual(await migrate(sql, paths), {
      applied: [],
      seeded: false,
      seedHashUpdated: ["supabase/seed.sql"],
    });
    const [lite] = await sql`select credits from public.plan where id = 'lite'`;
    assert.equal(lite.credits, 1);
    assert.deepEqual((await history(sql)).seeds, [
      { path: "supabase/seed.sql", hash: await sha256(changed) },
    ]);
  });
});

Deno.test("every function folder is declared in supabase/config.toml with an existing entrypoint", async () => {
  const declared = await readFunctionConfig(`${ROOT}/supabase/config.toml`);
  const folders: string[] = [];
  for await (const e of Deno.readDir(`${ROOT}/functions`)) if (e.isDirectory) folders.push(e.name);
  assert.deepEqual(declared.map((f) => f.name).sort(), folders.sort());
  for (const f of declared) await Deno.stat(f.entrypoint);
});
