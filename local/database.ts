/**
 * The local database: PGlite (WASM Postgres) with pgvector, persisted in a directory or kept in
 * memory, served on the Postgres wire protocol through a single connection. PGlite runs one
 * session, so the server accepts exactly one client at a time; every in-process component shares
 * that one connection through `shared/db.ts`'s client.
 */
import { PGlite } from "@electric-sql/pglite";
import { vector } from "@electric-sql/pglite-pgvector";
import { pgtap } from "@electric-sql/pglite-pgtap";
import { PGLiteSocketServer } from "@electric-sql/pglite-socket";

export interface LocalDatabase {
  url: string;
  port: number;
  stop(): Promise<void>;
}

export interface DatabaseOptions {
  /** Directory to persist into; in memory when omitted. */
  dataDir?: string;
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  /** Load the pgTAP extension too (tests). */
  pgtap?: boolean;
}

export async function startPglite(opts: DatabaseOptions = {}): Promise<LocalDatabase> {
  if (opts.dataDir) await Deno.mkdir(opts.dataDir, { recursive: true });
  const db = await PGlite.create({
    dataDir: opts.dataDir,
    extensions: opts.pgtap ? { vector, pgtap } : { vector },
  });
  const host = opts.host ?? "127.0.0.1";
  const server = new PGLiteSocketServer({ db, host, port: opts.port ?? 54322, maxConnections: 1 });
  await server.start();
  const conn = server.getServerConn(); // "host:port"
  const port = Number(conn.split(":").pop());
  return {
    url: `postgresql://postgres:postgres@${host}:${port}/postgres`,
    port,
    async stop() {
      await server.stop();
      await db.close();
    },
  };
}
