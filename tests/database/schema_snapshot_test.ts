/**
 * One place per SQL object: supabase/schema.sql is the schema the migrations produce (regenerated
 * by `deno task db:snapshot`, local/schema_snapshot.ts), and every function has exactly one
 * `create [or replace] function` in supabase/migrations/, so a changed function is a new
 * migration plus a regenerated snapshot, and its current body is one search away.
 */
import assert from "node:assert/strict";
import { splitStatements } from "../../local/migration_sql.ts";
import { defaultPaths, listMigrations } from "../../local/migrate.ts";
import { schemaSnapshot, SNAPSHOT_PATH } from "../../local/schema_snapshot.ts";

/** The statement without its leading comments and whitespace. */
function body(statement: string): string {
  return statement.replace(/^(?:\s+|--[^\n]*(?:\n|$)|\/\*[\s\S]*?\*\/)*/u, "");
}

const CREATE_FUNCTION =
  /^create\s+(?:or\s+replace\s+)?function\s+((?:"[^"]+"|[a-z_][a-z0-9_$]*)(?:\s*\.\s*(?:"[^"]+"|[a-z_][a-z0-9_$]*))?)\s*\(/iu;

/** `schema.name` as Postgres folds it: unquoted parts lower-cased, quotes removed. */
function qualifiedName(raw: string): string {
  return raw.split(/\s*\.\s*/u)
    .map((part) => part.startsWith('"') ? part.slice(1, -1) : part.toLowerCase())
    .join(".");
}

/** Every `create [or replace] function` of the migrations: its name and where it is. */
async function functionDefinitions(): Promise<{ name: string; where: string }[]> {
  const found: { name: string; where: string }[] = [];
  for (const m of await listMigrations(defaultPaths().migrationsDir)) {
    const statements = splitStatements(await Deno.readTextFile(m.file));
    for (const [i, statement] of statements.entries()) {
      const match = CREATE_FUNCTION.exec(body(statement));
      if (match) {
        found.push({ name: qualifiedName(match[1]), where: `${m.version}_${m.name}.sql #${i}` });
      }
    }
  }
  return found;
}

Deno.test("supabase/schema.sql is what the migrations produce", {
  sanitizeOps: false,
  sanitizeResources: false,
}, async () => {
  const now = await schemaSnapshot();
  let committed = "";
  try {
    committed = await Deno.readTextFile(SNAPSHOT_PATH);
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
  if (now === committed) return;
  const a = committed.split("\n");
  const b = now.split("\n");
  let line = 0;
  while (line < a.length && line < b.length && a[line] === b[line]) line++;
  assert.fail(
    "supabase/schema.sql and supabase/migrations disagree: run `deno task db:snapshot` and commit " +
      `the result (first difference at line ${line + 1}: committed ${
        JSON.stringify(a[line] ?? "<end>")
      }, migrations give ${JSON.stringify(b[line] ?? "<end>")})`,
  );
});

Deno.test("each SQL function has exactly one `create function` in supabase/migrations", async () => {
  const definitions = await functionDefinitions();
  assert.ok(definitions.length > 0, "no create function statements found");

  const unqualified = definitions.filter((d) => !d.name.includes("."));
  assert.deepEqual(unqualified, [], "functions are created schema-qualified");

  const byName = Map.groupBy(definitions, (d) => d.name);
  const repeated = [...byName].filter(([, ds]) => ds.length > 1)
    .map(([name, ds]) => `${name}: ${ds.map((d) => d.where).join(", ")}`);
  assert.deepEqual(
    repeated,
    [],
    "a function is defined once: change its one definition, or replace it in a new migration " +
      "and drop the old create",
  );

  // Every function of the snapshot comes from one of those statements (none made by dynamic SQL).
  const snapshot = await Deno.readTextFile(SNAPSHOT_PATH);
  const live = [...snapshot.matchAll(/^CREATE FUNCTION ([a-z_]+\.[a-z_0-9]+)\(/gmu)]
    .map((m) => m[1]).sort();
  assert.deepEqual(live, [...byName.keys()].sort());
});

Deno.test("the function parser finds qualified, quoted and replaced definitions, not trigger clauses", () => {
  const names = [
    "create function private.a() returns int",
    "-- comment\ncreate or replace function public.b (x int)",
    '/* c */ CREATE OR REPLACE FUNCTION "Private"."C"()',
    "create function d()",
    "create trigger t after insert on x for each row execute function private.e()",
  ].map((s) => CREATE_FUNCTION.exec(body(s))?.[1]).map((n) => n && qualifiedName(n));
  assert.deepEqual(names, ["private.a", "public.b", "Private.C", "d", undefined]);
});
