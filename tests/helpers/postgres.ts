/**
 * A throw-away native PostgreSQL cluster for tests that need real concurrent connections (PGlite
 * serialises everything). Clusters themselves (Debian's server binaries, pgvector, running as
 * `postgres` when root) are local/native_postgres.ts, shared with `task db:native`.
 *
 * `startMigratedPostgres()` is what the concurrency tests race against: the local platform's
 * baseline (roles, auth, storage and the pgmq / pg_net / pg_cron / vault stand-ins), every
 * migration and the seed, applied by the same code the local stack runs (local/platform_sql.ts,
 * local/migrate.ts), so a test always races the SQL that ships.
 */
import postgres from "postgres";
import { defaultPaths, migrate } from "../../local/migrate.ts";
import {
  findPostgresWithPgvector,
  startTempPostgres,
  type TempPostgres,
} from "../../local/native_postgres.ts";
import { applyPlatformBaseline } from "../../local/platform_sql.ts";
import { requireTool } from "./requirements.ts";

export {
  findPostgresBin,
  findPostgresWithPgvector,
  hasPgvector,
  startTempPostgres,
  type TempPostgres,
} from "../../local/native_postgres.ts";

/**
 * The `ignore` flag of a test that needs `startMigratedPostgres()`: false when native PostgreSQL
 * and pgvector are installed; otherwise skips visibly (locally) or fails (CI), see
 * `requireTool()`.
 */
export function needsMigratedPostgres(): boolean {
  return requireTool(
    "native PostgreSQL with pgvector",
    findPostgresWithPgvector() !== undefined,
    "Debian's `postgresql` package and pgvector built for it: `task db:native` says how",
  );
}

/**
 * A throw-away native PostgreSQL with pgvector, the local platform baseline, every migration and
 * the seed applied, as the local stack applies them (see the module comment). Throws when the
 * server or pgvector is missing: guard the test with `needsMigratedPostgres()`.
 */
export async function startMigratedPostgres(): Promise<TempPostgres> {
  const bin = findPostgresWithPgvector();
  if (!bin) throw new Error("native PostgreSQL with pgvector is not installed");
  const pg = await startTempPostgres(bin);
  const sql = postgres(pg.url, { max: 1, onnotice: () => {} });
  try {
    await applyPlatformBaseline(sql);
    await migrate(sql, defaultPaths());
  } catch (err) {
    await sql.end();
    await pg.stop();
    throw err;
  }
  await sql.end();
  return pg;
}

/** The clients a race needs: `admin` (one connection, for setup and checks) and `pool`. */
export interface RaceDatabase {
  url: string;
  admin: ReturnType<typeof postgres>;
  /** `poolSize` connections without prepared statements, as behind Supabase's pooler. */
  pool: ReturnType<typeof postgres>;
}

/**
 * Runs `fn` on a fresh `startMigratedPostgres()` with its clients, then ends them and removes the
 * cluster, whatever `fn` did. Guard the test with `needsMigratedPostgres()`.
 */
export async function withMigratedPostgres<T>(
  poolSize: number,
  fn: (db: RaceDatabase) => Promise<T>,
): Promise<T> {
  const pg = await startMigratedPostgres();
  const admin = postgres(pg.url, { max: 1, onnotice: () => {} });
  const pool = postgres(pg.url, { max: poolSize, onnotice: () => {}, prepare: false });
  try {
    return await fn({ url: pg.url, admin, pool });
  } finally {
    await pool.end({ timeout: 5 });
    await admin.end({ timeout: 5 });
    await pg.stop();
  }
}
