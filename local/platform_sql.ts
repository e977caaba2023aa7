/**
 * Brings a plain Postgres (PGlite, or any server given by URL) up to the baseline a Supabase
 * project has before its migrations run: API roles, the auth and storage schemas, and SQL
 * stand-ins for pgmq, pg_net, pg_cron and vault. Each piece is skipped when the server already has
 * it (a real Supabase database has all of them) or can create the real extension.
 */
import type { Sql } from "../shared/db.ts";

interface Piece {
  file: string;
  /** True when the piece must not be loaded. */
  present: string;
  /** Marks our stand-in so the local worker knows it must do the extension's background work. */
  schema?: string;
}

const STANDIN = "local stand-in";

const PIECES: Piece[] = [
  { file: "00_roles_and_auth.sql", present: "select to_regclass('auth.users') is not null as ok" },
  { file: "10_storage.sql", present: "select to_regclass('storage.buckets') is not null as ok" },
  {
    file: "20_pgmq.sql",
    schema: "pgmq",
    present: "select to_regnamespace('pgmq') is not null or exists " +
      "(select 1 from pg_available_extensions where name = 'pgmq') as ok",
  },
  {
    file: "30_pg_net.sql",
    schema: "net",
    present: "select to_regnamespace('net') is not null or exists " +
      "(select 1 from pg_available_extensions where name = 'pg_net') as ok",
  },
  {
    file: "40_pg_cron.sql",
    schema: "cron",
    present: "select to_regnamespace('cron') is not null or exists " +
      "(select 1 from pg_available_extensions where name = 'pg_cron') as ok",
  },
  {
    file: "50_vault.sql",
    schema: "vault",
    present: "select to_regnamespace('vault') is not null or exists " +
      "(select 1 from pg_available_extensions where name = 'supabase_vault') as ok",
  },
];

/** Applies the missing baseline pieces; returns the files it loaded. */
export async function applyPlatformBaseline(sql: Sql): Promise<string[]> {
  const loaded: string[] = [];
  for (const piece of PIECES) {
    const [{ ok }] = await sql.unsafe<{ ok: boolean }[]>(piece.present);
    if (ok) continue;
    const text = await Deno.readTextFile(new URL(`./sql/${piece.file}`, import.meta.url));
    try {
      await sql.begin(async (tx) => {
        await tx.unsafe(text);
        if (piece.schema) {
          await tx.unsafe(`comment on schema ${piece.schema} is '${STANDIN}'`);
        }
      });
    } catch (err) {
      const position = Number((err as { position?: string }).position);
      const line = position ? text.slice(0, position).split("\n").length : undefined;
      throw new Error(
        `local/sql/${piece.file}${line ? ` line ${line}` : ""}: ${(err as Error).message}`,
      );
    }
    loaded.push(piece.file);
  }
  return loaded;
}

/** Which extension stand-ins are installed (their background work is then ours to do). */
export async function standIns(sql: Sql): Promise<Set<string>> {
  const rows = await sql<{ nspname: string }[]>`
    select nspname from pg_namespace where obj_description(oid, 'pg_namespace') = ${STANDIN}`;
  return new Set(rows.map((r) => r.nspname));
}
