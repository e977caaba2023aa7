/**
 * Applies `supabase/migrations/*.sql` and the seed files exactly as `supabase db push
 * --include-seed` (CLI 2.117.0) does, so that a database migrated by either one is up to date for
 * the other and both write the same history:
 *
 * - `supabase_migrations.schema_migrations (version, statements, name)`, created as the CLI creates
 *   it; each row holds the migration's statements as the CLI splits them (local/migration_sql.ts).
 * - Pending migrations follow the CLI's rule: the recorded versions must be the first local files;
 *   a recorded version missing locally, or a local file older than the last recorded one, is an
 *   error (the CLI asks for `supabase migration repair` or `--include-all`).
 * - Before each migration the session's settings are reset (`RESET ALL`); the migration's statements
 *   and its history row then run in one transaction. As in the CLI, statements that cannot run in a
 *   transaction (CREATE INDEX CONCURRENTLY, VACUUM, …) run on their own between the parts of the
 *   file, and a file with its own BEGIN/COMMIT, or whose first line is `-- pg-delta:
 *   transaction=false`, runs statement by statement.
 * - Seeds: `[db.seed]` of supabase/config.toml (default `seed.sql`), recorded in
 *   `supabase_migrations.seed_files (path, hash)` as `supabase/seed.sql` + sha256 hex. A seed file
 *   without a row runs (in one transaction with its row); one whose hash changed is not run again,
 *   only its new hash is recorded.
 *
 * Where the CLI pipelines a part of a migration as one implicit transaction, this runner wraps it
 * in BEGIN … COMMIT on one reserved connection; it refuses SAVEPOINT / RELEASE / ROLLBACK TO there,
 * as Postgres refuses them in the CLI's implicit transaction.
 */
import { isAbsolute, join, posix } from "node:path";
import { parse as parseToml } from "smol-toml";
import { z } from "zod";
import type { Sql } from "../shared/db.ts";
import { log } from "../shared/log.ts";
import {
  isEmptyStatement,
  isTransactionControl,
  needsExplicitTransaction,
  parseMigration,
  runsOutsideTransaction,
  splitStatements,
} from "./migration_sql.ts";

/** This project's migration file names (the CLI accepts `<digits>_<anything>.sql`). */
const NAME = /^(\d{14})_([a-z0-9_]+)\.sql$/;

const PROJECT_ROOT = new URL("../", import.meta.url).pathname;

export interface MigrationResult {
  /** `version_name` of each migration applied now. */
  applied: string[];
  /** Whether a seed file ran (it had no row in supabase_migrations.seed_files). */
  seeded: boolean;
  /** Seed files changed since they ran: only their new hash was recorded, as the CLI does. */
  seedHashUpdated: string[];
}

export interface MigrationPaths {
  migrationsDir: string;
  /** The folder holding supabase/: seed paths are relative to it. */
  projectDir: string;
  /**
   * Seed paths as the CLI records them (e.g. `supabase/seed.sql`); a file name may hold `*` and `?`,
   * a folder means its .sql files. Empty: no seeding.
   */
  seedPaths: string[];
  /** Apply migrations up to and including this version only (and skip the seeds). */
  until?: string;
}

const SeedConfig = z.object({
  db: z.object({
    seed: z.object({
      enabled: z.boolean().optional(),
      sql_paths: z.array(z.string()).optional(),
    }).optional(),
  }).optional(),
});

/** A config.toml seed path as the CLI resolves it: relative ones are cleaned under supabase/. */
function resolveSeedPath(path: string): string {
  if (path.length === 0 || isAbsolute(path)) return path;
  const parts: string[] = [];
  for (const part of `supabase/${path}`.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === ".." && parts.length > 0 && parts[parts.length - 1] !== "..") parts.pop();
    else parts.push(part);
  }
  return parts.length === 0 ? "." : parts.join("/");
}

/** The project's migrations folder and the seed files of its supabase/config.toml. */
export function defaultPaths(projectDir: string | URL = PROJECT_ROOT): MigrationPaths {
  const dir = projectDir instanceof URL ? projectDir.pathname : projectDir;
  let config: unknown = {};
  try {
    config = parseToml(Deno.readTextFileSync(join(dir, "supabase/config.toml")));
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
  const seed = SeedConfig.parse(config).db?.seed;
  return {
    migrationsDir: join(dir, "supabase/migrations"),
    projectDir: dir,
    seedPaths: seed?.enabled === false
      ? []
      : (seed?.sql_paths ?? ["seed.sql"]).map(resolveSeedPath),
  };
}

export interface MigrationFile {
  version: string;
  name: string;
  file: string;
}

export async function listMigrations(dir: string): Promise<MigrationFile[]> {
  const found = [];
  for await (const entry of Deno.readDir(dir)) {
    if (!entry.isFile || !entry.name.endsWith(".sql")) continue;
    const m = NAME.exec(entry.name);
    if (!m) {
      throw new Error(`migration file name must look like YYYYMMDDHHMMSS_name.sql: ${entry.name}`);
    }
    found.push({ version: m[1], name: m[2], file: join(dir, entry.name) });
  }
  return found.sort((a, b) => a.version < b.version ? -1 : a.version > b.version ? 1 : 0);
}

/**
 * The local migrations still to apply, given the recorded versions (sorted), by the CLI's rule:
 * the recorded versions must be exactly the first local files.
 */
export function pendingMigrations(local: MigrationFile[], recorded: string[]): MigrationFile[] {
  const missingLocally: string[] = [];
  const outOfOrder: MigrationFile[] = [];
  let r = 0;
  let l = 0;
  while (r < recorded.length && l < local.length) {
    if (recorded[r] === local[l].version) r++, l++;
    else if (recorded[r] < local[l].version) missingLocally.push(recorded[r++]);
    else outOfOrder.push(local[l++]);
  }
  if (l === local.length) missingLocally.push(...recorded.slice(r));
  if (missingLocally.length > 0) {
    throw new Error(
      `the database has migrations that are not in supabase/migrations: ` +
        `${missingLocally.join(", ")} (\`supabase db push\` refuses this too). Update your ` +
        `checkout, or repair the history (supabase migration repair --status reverted ` +
        `${missingLocally.join(" ")}), or start from a fresh local database.`,
    );
  }
  if (outOfOrder.length > 0) {
    throw new Error(
      `migrations older than the last applied one cannot be applied: ` +
        `${outOfOrder.map((m) => `${m.version}_${m.name}.sql`).join(", ")} (\`supabase db push\` ` +
        `refuses them without --include-all). Give them a later timestamp, or start from a fresh ` +
        `local database.`,
    );
  }
  return local.slice(recorded.length);
}

// The CLI's own statements, verbatim.
const CREATE_MIGRATION_TABLE = [
  "SET LOCAL lock_timeout = '4s'",
  "CREATE SCHEMA IF NOT EXISTS supabase_migrations",
  "CREATE TABLE IF NOT EXISTS supabase_migrations.schema_migrations " +
  "(version text NOT NULL PRIMARY KEY)",
  "ALTER TABLE supabase_migrations.schema_migrations ADD COLUMN IF NOT EXISTS statements text[]",
  "ALTER TABLE supabase_migrations.schema_migrations ADD COLUMN IF NOT EXISTS name text",
];
const CREATE_SEED_TABLE = [
  "SET LOCAL lock_timeout = '4s'",
  "CREATE SCHEMA IF NOT EXISTS supabase_migrations",
  "CREATE TABLE IF NOT EXISTS supabase_migrations.seed_files " +
  "(path text NOT NULL PRIMARY KEY, hash text NOT NULL)",
];
const INSERT_MIGRATION =
  "INSERT INTO supabase_migrations.schema_migrations(version, name, statements) " +
  "VALUES($1, $2, $3)";
const UPSERT_SEED = "INSERT INTO supabase_migrations.seed_files(path, hash) VALUES($1, $2) " +
  "ON CONFLICT (path) DO UPDATE SET hash = EXCLUDED.hash";
/** What a new connection would be: session user, default settings, no temporary tables. */
const CLEAN_SESSION = "SET SESSION AUTHORIZATION DEFAULT; RESET ALL; DISCARD TEMP";

type Conn = Sql;
/** Statements the CLI sends in a pipeline (extended protocol: one command per statement). */
const EXTENDED = { prepare: false, simple: false };

/** Whether the table has all these columns (the CLI's check, verbatim, before creating it). */
async function provisioned(conn: Conn, table: string, columns: string[]): Promise<boolean> {
  const [row] = await conn.unsafe<{ provisioned: boolean }[]>(
    `SELECT count(*) = ${columns.length} AS provisioned FROM pg_catalog.pg_attribute a ` +
      `JOIN pg_catalog.pg_class c ON c.oid = a.attrelid ` +
      `WHERE a.attrelid = pg_catalog.to_regclass('${table}') AND c.relkind IN ('r', 'p') ` +
      `AND NOT a.attisdropped AND a.attname IN (${columns.map((c) => `'${c}'`).join(", ")})`,
  );
  return row.provisioned;
}

async function transaction(conn: Conn, body: () => Promise<void>): Promise<void> {
  await conn.unsafe("BEGIN");
  try {
    await body();
    await conn.unsafe("COMMIT");
  } catch (err) {
    await conn.unsafe("ROLLBACK").catch(() => {});
    throw err;
  }
}

async function ensureTable(conn: Conn, table: string, columns: string[], create: string[]) {
  if (await provisioned(conn, table, columns)) return;
  await transaction(conn, async () => {
    for (const statement of create) await conn.unsafe(statement);
  });
}

/** Versions recorded in the history, sorted; none when the table does not exist. */
async function recordedVersions(conn: Conn): Promise<string[]> {
  const [{ exists }] = await conn.unsafe<{ exists: boolean }[]>(
    "SELECT to_regclass('supabase_migrations.schema_migrations') IS NOT NULL AS exists",
  );
  if (!exists) return [];
  const rows = await conn.unsafe<{ version: string }[]>(
    "SELECT version FROM supabase_migrations.schema_migrations ORDER BY version",
  );
  return rows.map((r) => r.version);
}

/**
 * Rows written by this runner before it split statements hold the whole file as their one
 * statement; they get the statements the CLI would have recorded for that text.
 */
async function upgradeLegacyHistory(conn: Conn): Promise<number> {
  if (!await provisioned(conn, "supabase_migrations.schema_migrations", ["statements"])) return 0;
  const rows = await conn.unsafe<{ version: string; statements: string[] }[]>(
    "SELECT version, statements FROM supabase_migrations.schema_migrations " +
      "WHERE cardinality(statements) = 1",
  );
  let upgraded = 0;
  for (const row of rows) {
    const [text] = row.statements;
    const statements = parseMigration(text).statements;
    if (statements.length === 1 && statements[0] === text) continue;
    await conn.unsafe(
      "UPDATE supabase_migrations.schema_migrations SET statements = $1 WHERE version = $2",
      [statements, row.version],
    );
    upgraded++;
  }
  return upgraded;
}

function describe(err: unknown): string {
  const e = err as { message?: string; detail?: string; hint?: string };
  return [e.message ?? String(err), e.detail && `detail: ${e.detail}`, e.hint && `hint: ${e.hint}`]
    .filter(Boolean).join("; ");
}

/** The statement with a caret under the error position (a byte offset, as the CLI counts it). */
function markError(statement: string, position: number): string {
  const lines = statement.split("\n");
  for (const [i, line] of lines.entries()) {
    const bytes = new TextEncoder().encode(line).length;
    if (position > bytes) {
      position -= bytes + 1;
      continue;
    }
    if (position > 0) return [...lines.slice(0, i + 1), `${" ".repeat(position - 1)}^`].join("\n");
    break;
  }
  return statement;
}

/** A statement failed: the message names it (0-based, as the CLI does) and marks the position. */
class StatementError extends Error {
  constructor(index: number, statement: string, cause: unknown) {
    const position = Number((cause as { position?: string }).position ?? 0);
    super(`${describe(cause)}\nAt statement: ${index}\n${markError(statement, position)}`, {
      cause,
    });
  }
}

/**
 * Runs one statement; `extended`: as one command of the extended protocol, as the CLI pipelines
 * it (a comment-only statement goes as a simple query: postgres.js waits forever for the command
 * completion an empty query never gets, and the server does nothing either way).
 */
async function run(conn: Conn, index: number, statement: string, extended = false) {
  try {
    await (extended && !isEmptyStatement(statement)
      ? conn.unsafe(statement, [], EXTENDED)
      : conn.unsafe(statement));
  } catch (err) {
    throw new StatementError(index, statement, err);
  }
}

/** A SQL file's text as the CLI reads it: UTF-8, a byte order mark kept (the splitter sees it). */
async function readSql(path: string): Promise<string> {
  return new TextDecoder("utf-8", { ignoreBOM: true }).decode(await Deno.readFile(path));
}

/** One migration after `RESET ALL`, as the CLI runs it (see the module comment). */
async function applyMigration(conn: Conn, m: MigrationFile): Promise<void> {
  const { statements, transactionMode } = parseMigration(await readSql(m.file));
  const record = () =>
    conn.unsafe(INSERT_MIGRATION, [m.version, m.name, statements]).catch((err) => {
      throw new StatementError(statements.length, INSERT_MIGRATION, err);
    });

  const oneByOne = transactionMode === "none" || statements.some(isTransactionControl);
  if (oneByOne) {
    try {
      for (const [i, s] of statements.entries()) await run(conn, i, s);
      await record();
    } catch (err) {
      await conn.unsafe(transactionMode === "none" ? "RESET ALL" : "ROLLBACK").catch(() => {});
      throw err;
    }
    return;
  }

  // Parts between statements that run outside a transaction each run as one transaction; the
  // last one also writes the history row.
  let part: [number, string][] = [];
  const flush = async (last: boolean) => {
    if (part.length === 0 && !last) return;
    const statementsOfPart = part;
    part = [];
    await transaction(conn, async () => {
      for (const [i, s] of statementsOfPart) {
        if (needsExplicitTransaction(s)) {
          throw new StatementError(
            i,
            s,
            new Error(
              "SAVEPOINT, RELEASE and ROLLBACK TO can only be used in transaction blocks " +
                "(supabase db push runs the migration as one implicit transaction)",
            ),
          );
        }
        await run(conn, i, s, true);
      }
      if (last) await record();
    });
  };
  for (const [i, s] of statements.entries()) {
    if (runsOutsideTransaction(s)) {
      await flush(false);
      await run(conn, i, s);
    } else {
      part.push([i, s]);
    }
  }
  await flush(true);
}

const GLOB = /[*?[\\]/u;

function compareUtf8(a: string, b: string): number {
  const x = new TextEncoder().encode(a);
  const y = new TextEncoder().encode(b);
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i] - y[i];
  return x.length - y.length;
}

async function stat(path: string): Promise<Deno.FileInfo | undefined> {
  try {
    return await Deno.stat(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return undefined;
    throw err;
  }
}

/** The .sql files under a folder, as paths relative to the project, in byte order. */
async function sqlFilesUnder(projectDir: string, dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const entry of Deno.readDir(join(projectDir, dir))) {
    const path = posix.join(dir, entry.name);
    if (entry.isDirectory) out.push(...await sqlFilesUnder(projectDir, path));
    else if (entry.isFile && entry.name.endsWith(".sql")) out.push(path);
  }
  return out.sort(compareUtf8);
}

/** The seed files the paths name (deduplicated, in the order given), and warnings as the CLI's. */
export async function seedFiles(
  projectDir: string,
  patterns: string[],
): Promise<{ files: string[]; warnings: string[] }> {
  const files: string[] = [];
  const warnings: string[] = [];
  for (const pattern of patterns) {
    let matches: string[] = [];
    if (!GLOB.test(pattern)) {
      if (await stat(join(projectDir, pattern))) matches = [pattern];
    } else {
      const slash = pattern.lastIndexOf("/");
      const dir = slash < 0 ? "" : pattern.slice(0, slash);
      const name = pattern.slice(slash + 1);
      if (GLOB.test(dir) || /[[\\]/u.test(name)) {
        throw new Error(
          `seed path ${pattern}: the local runner takes only * and ? in the file name`,
        );
      }
      const re = new RegExp(
        `^${
          name.replace(/[.+^${}()|]/g, "\\$&").replaceAll("*", "[^/]*").replaceAll("?", "[^/]")
        }$`,
        "u",
      );
      for await (const entry of Deno.readDir(join(projectDir, dir || "."))) {
        if (re.test(entry.name)) matches.push(dir ? `${dir}/${entry.name}` : entry.name);
      }
    }
    if (matches.length === 0) {
      warnings.push(`no files matched pattern: ${pattern}`);
      continue;
    }
    for (const match of matches.sort(compareUtf8)) {
      const info = await stat(join(projectDir, match));
      const found = info?.isDirectory ? await sqlFilesUnder(projectDir, match) : [match];
      for (const f of found) if (!files.includes(f)) files.push(f);
    }
  }
  return { files, warnings };
}

async function sha256Hex(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

interface PendingSeed {
  path: string;
  hash: string;
  /** Recorded with another hash: only the hash is updated. */
  dirty: boolean;
}

async function pendingSeeds(conn: Conn, paths: MigrationPaths): Promise<PendingSeed[]> {
  const { files, warnings } = await seedFiles(paths.projectDir, paths.seedPaths);
  if (warnings.length > 0) log.warn("seed files not found", { warnings });
  if (files.length === 0) return [];
  const recorded = new Map<string, string>();
  const [{ exists }] = await conn.unsafe<{ exists: boolean }[]>(
    "SELECT to_regclass('supabase_migrations.seed_files') IS NOT NULL AS exists",
  );
  if (exists) {
    const rows = await conn.unsafe<{ path: string; hash: string }[]>(
      "SELECT path, hash FROM supabase_migrations.seed_files",
    );
    for (const row of rows) recorded.set(row.path, row.hash);
  }
  const pending: PendingSeed[] = [];
  for (const path of files) {
    const hash = await sha256Hex(await Deno.readFile(join(paths.projectDir, path)));
    const previous = recorded.get(path);
    if (previous === hash) continue;
    pending.push({ path, hash, dirty: previous !== undefined });
  }
  return pending;
}

async function applySeed(conn: Conn, projectDir: string, seed: PendingSeed): Promise<void> {
  const statements = seed.dirty ? [] : splitStatements(await readSql(join(projectDir, seed.path)));
  await transaction(conn, async () => {
    for (const [i, s] of statements.entries()) await run(conn, i, s);
    await conn.unsafe(UPSERT_SEED, [seed.path, seed.hash]);
  });
}

/**
 * Brings the database up to date as `supabase db push --include-seed` would. Runs on one reserved
 * connection, which it hands back with a clean session.
 */
export async function migrate(
  sql: Sql,
  paths: MigrationPaths = defaultPaths(),
): Promise<MigrationResult> {
  const local = (await listMigrations(paths.migrationsDir))
    .filter((m) => !paths.until || m.version <= paths.until);
  const conn = await sql.reserve();
  try {
    await conn.unsafe(CLEAN_SESSION);
    const upgraded = await upgradeLegacyHistory(conn);
    if (upgraded > 0) {
      log.info("migration history: whole-file rows split into statements as the CLI records them", {
        rows: upgraded,
      });
    }
    const pending = pendingMigrations(local, await recordedVersions(conn));
    const seeds = paths.until ? [] : await pendingSeeds(conn, paths);

    const applied: string[] = [];
    if (pending.length > 0) {
      await ensureTable(
        conn,
        "supabase_migrations.schema_migrations",
        ["version", "name", "statements"],
        CREATE_MIGRATION_TABLE,
      );
    }
    for (const m of pending) {
      await conn.unsafe("RESET ALL");
      try {
        await applyMigration(conn, m);
      } catch (err) {
        throw new Error(`migration ${m.version}_${m.name}.sql failed: ${describe(err)}`);
      }
      applied.push(`${m.version}_${m.name}`);
    }

    if (seeds.length > 0) {
      await ensureTable(
        conn,
        "supabase_migrations.seed_files",
        ["path", "hash"],
        CREATE_SEED_TABLE,
      );
    }
    for (const seed of seeds) {
      try {
        await applySeed(conn, paths.projectDir, seed);
      } catch (err) {
        throw new Error(`seed ${seed.path} failed: ${describe(err)}`);
      }
    }
    const seedHashUpdated = seeds.filter((s) => s.dirty).map((s) => s.path);
    if (seedHashUpdated.length > 0) {
      log.warn(
        "seed files changed since they ran: their new hash is recorded but they are not run " +
          "again (as supabase db push does); run them yourself, or start from a fresh database",
        { files: seedHashUpdated },
      );
    }
    return { applied, seeded: seeds.some((s) => !s.dirty), seedHashUpdated };
  } finally {
    await conn.unsafe(CLEAN_SESSION).catch(() => {});
    conn.release();
  }
}
