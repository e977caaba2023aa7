/**
 * A migrated database to copy: applying the Supabase baseline (local/sql/) and every migration
 * statement by statement into a fresh PGlite takes seconds, and every test stack did it again.
 * Instead the first stack migrates as before and dumps its data directory as a tar file, a
 * template; later stacks, in this process or another, load the copy and find nothing to apply.
 *
 * The template's name is a hash of everything that shapes the database: the baseline SQL, the
 * migrations, the seed files and supabase/config.toml, the migration runner, the PGlite packages
 * and whether pgTAP is loaded. A change to any of them names another file, so a stale template is
 * never used. Templates live in the system's temporary folder (not in the project's `.local/`),
 * and are written beside their name and renamed onto it: processes building the same template at
 * once each write a whole file and one of them wins. Templates untouched for a day are removed.
 *
 * Only in-memory databases use templates: `task dev`'s persistent data directory is migrated in
 * place, so its history says what was applied when.
 */
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { createDb, type Sql } from "../shared/db.ts";
import { type DatabaseOptions, type LocalDatabase, startPglite } from "./database.ts";
import { defaultPaths, migrate, type MigrationResult, seedFiles } from "./migrate.ts";
import { applyPlatformBaseline } from "./platform_sql.ts";

const PROJECT_ROOT = new URL("../", import.meta.url).pathname;

/** Where templates are kept; `WORKBENCH_TEMPLATE_DIR` overrides it. */
export function templateDir(): string {
  return Deno.env.get("WORKBENCH_TEMPLATE_DIR") ?? join(tmpdir(), "workbench-pglite-templates");
}

/** Code that shapes what a migrated database holds (its history rows included). */
const RUNNER_FILES = [
  "local/platform_sql.ts",
  "local/migrate.ts",
  "local/migration_sql.ts",
  "local/database_worker.ts",
  "deno.lock",
];

async function sqlFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    if (entry.isFile && entry.name.endsWith(".sql")) out.push(join(dir, entry.name));
  }
  return out.sort();
}

/** The PGlite packages as the import map pins them. */
async function pgliteVersions(): Promise<string> {
  const config = JSON.parse(await Deno.readTextFile(join(PROJECT_ROOT, "deno.json")));
  return Object.entries(config.imports as Record<string, string>)
    .filter(([name]) => name.startsWith("@electric-sql/"))
    .map(([name, spec]) => `${name}=${spec}`).sort().join("\n");
}

/** The hash that names the template of a database migrated with these inputs. */
export async function templateKey(opts: { pgtap?: boolean } = {}): Promise<string> {
  const paths = defaultPaths();
  const { files: seeds } = await seedFiles(paths.projectDir, paths.seedPaths);
  const files = [
    ...await sqlFiles(join(PROJECT_ROOT, "local/sql")),
    ...await sqlFiles(paths.migrationsDir),
    ...seeds.map((s) => join(paths.projectDir, s)),
    join(PROJECT_ROOT, "supabase/config.toml"),
    ...RUNNER_FILES.map((f) => join(PROJECT_ROOT, f)),
  ];
  const parts = [`pgtap=${opts.pgtap ? 1 : 0}`, await pgliteVersions()];
  for (const file of files) {
    const bytes = await Deno.readFile(file).catch((err) => {
      if (err instanceof Deno.errors.NotFound) return new Uint8Array();
      throw err;
    });
    const digest = await crypto.subtle.digest("SHA-256", bytes);
    parts.push(`${relative(PROJECT_ROOT, file)}:${toHex(digest)}`);
  }
  const key = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(parts.join("\n")));
  return toHex(key).slice(0, 32);
}

function toHex(digest: ArrayBuffer): string {
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

export interface DatabaseTemplate {
  /** The tar file: load it when `ready`, else dump the migrated database to it. */
  path: string;
  ready: boolean;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * The template for these options: whether it exists yet, and where it is (or goes). `dir` (default
 * `templateDir()`) is for tests of templates: test files share one process and its environment.
 */
export async function databaseTemplate(
  opts: { pgtap?: boolean; dir?: string } = {},
): Promise<DatabaseTemplate> {
  const dir = opts.dir ?? templateDir();
  await Deno.mkdir(dir, { recursive: true });
  const path = join(dir, `${await templateKey(opts)}.tar`);
  try {
    await Deno.stat(path);
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
    await removeStale(dir);
    return { path, ready: false };
  }
  // Marks it used, so it is not taken for stale (another user's file may refuse).
  const now = new Date();
  await Deno.utime(path, now, now).catch(() => {});
  return { path, ready: true };
}

/** Templates (and partial writes) nobody used for a day: of older checkouts. */
async function removeStale(dir: string): Promise<void> {
  for await (const entry of Deno.readDir(dir)) {
    const path = join(dir, entry.name);
    const info = await Deno.stat(path).catch(() => undefined);
    if (info?.mtime && Date.now() - info.mtime.getTime() > DAY_MS) {
      await Deno.remove(path).catch(() => {});
    }
  }
}

export interface MigratedPglite {
  db: LocalDatabase;
  /** A client of `db` (one connection), for the caller to use and end. */
  sql: Sql;
  migrations: MigrationResult;
}

/**
 * An in-memory PGlite with the baseline, every migration and the seed: a copy of the template,
 * which this call makes (from its own migrated database) when it is missing.
 */
export async function startMigratedPglite(
  opts: Omit<DatabaseOptions, "dataDir" | "template"> & { templateDir?: string } = {},
): Promise<MigratedPglite> {
  const { templateDir: dir, ...dbOpts } = opts;
  const template = await databaseTemplate({ pgtap: opts.pgtap, dir });
  const db = await startPglite({ ...dbOpts, template: template.ready ? template.path : undefined });
  const sql = createDb(db.url);
  try {
    await applyPlatformBaseline(sql);
    const migrations = await migrate(sql, defaultPaths());
    if (!template.ready) await db.dump(template.path);
    return { db, sql, migrations };
  } catch (err) {
    await sql.end({ timeout: 5 });
    await db.stop();
    throw err;
  }
}
