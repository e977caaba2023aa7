/**
 * Applies `supabase/migrations/*.sql` in version order, each once and in its own transaction,
 * tracked in `supabase_migrations.schema_migrations` like the Supabase CLI; then runs
 * `supabase/seed.sql` when the database was fresh.
 */
import type { Sql } from "../shared/db.ts";

const NAME = /^(\d{14})_([a-z0-9_]+)\.sql$/;

export interface MigrationResult {
  applied: string[];
  seeded: boolean;
}

export interface MigrationPaths {
  migrationsDir: string;
  seedFile?: string;
  /** Apply migrations up to and including this version only (and skip the seed). */
  until?: string;
}

export function defaultPaths(root = new URL("../", import.meta.url)): MigrationPaths {
  return {
    migrationsDir: new URL("supabase/migrations/", root).pathname,
    seedFile: new URL("supabase/seed.sql", root).pathname,
  };
}

export async function listMigrations(
  dir: string,
): Promise<{ version: string; name: string; file: string }[]> {
  const found = [];
  for await (const entry of Deno.readDir(dir)) {
    if (!entry.isFile || !entry.name.endsWith(".sql")) continue;
    const m = NAME.exec(entry.name);
    if (!m) {
      throw new Error(`migration file name must look like YYYYMMDDHHMMSS_name.sql: ${entry.name}`);
    }
    found.push({ version: m[1], name: m[2], file: `${dir}/${entry.name}` });
  }
  return found.sort((a, b) => a.version.localeCompare(b.version));
}

function describe(err: unknown): string {
  const e = err as { message?: string; position?: string; detail?: string; hint?: string };
  return [
    e.message,
    e.detail && `detail: ${e.detail}`,
    e.hint && `hint: ${e.hint}`,
    e.position && `at character ${e.position}`,
  ].filter(Boolean).join("; ");
}

export async function migrate(
  sql: Sql,
  paths: MigrationPaths = defaultPaths(),
): Promise<MigrationResult> {
  await sql.unsafe(`
    create schema if not exists supabase_migrations;
    create table if not exists supabase_migrations.schema_migrations (
      version text primary key, statements text[], name text);`);
  const done = new Set(
    (await sql<{ version: string }[]>`select version from supabase_migrations.schema_migrations`)
      .map((r) => r.version),
  );
  const fresh = done.size === 0;
  const applied: string[] = [];
  for (const m of await listMigrations(paths.migrationsDir)) {
    if (done.has(m.version)) continue;
    if (paths.until && m.version > paths.until) break;
    const text = await Deno.readTextFile(m.file);
    try {
      await sql.begin(async (tx) => {
        await tx.unsafe(text);
        await tx`insert into supabase_migrations.schema_migrations (version, statements, name)
                 values (${m.version}, ${[text]}, ${m.name})`;
      });
    } catch (err) {
      throw new Error(`migration ${m.version}_${m.name}.sql failed: ${describe(err)}`);
    }
    applied.push(`${m.version}_${m.name}`);
  }
  let seeded = false;
  if (fresh && paths.seedFile && !paths.until) {
    let seed: string | undefined;
    try {
      seed = await Deno.readTextFile(paths.seedFile);
    } catch (err) {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
    }
    if (seed) {
      try {
        await sql.begin((tx) => tx.unsafe(seed));
      } catch (err) {
        throw new Error(`seed.sql failed: ${describe(err)}`);
      }
      seeded = true;
    }
  }
  return { applied, seeded };
}
