/**
 * The local database: PGlite (WASM Postgres) with pgvector, persisted in a directory or kept in
 * memory, served on the Postgres wire protocol through a transaction-pooling front (see
 * pooler.ts): PGlite runs one session, which the pooler lends to one client transaction at a time,
 * so the platform, every function, psql and the Supabase CLI connect at once.
 */
import { PGlite } from "@electric-sql/pglite";
import { vector } from "@electric-sql/pglite-pgvector";
import { pgtap } from "@electric-sql/pglite-pgtap";
import { startPooler } from "./pooler.ts";

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
  /** Client connections accepted at once (default 100). */
  maxClients?: number;
  /** A client idle inside a transaction this long is disconnected, its work rolled back. */
  idleTransactionTimeoutMs?: number;
}

export async function startPglite(opts: DatabaseOptions = {}): Promise<LocalDatabase> {
  if (opts.dataDir) await Deno.mkdir(opts.dataDir, { recursive: true });
  const db = await PGlite.create({
    dataDir: opts.dataDir,
    extensions: opts.pgtap ? { vector, pgtap } : { vector },
  });
  const host = opts.host ?? "127.0.0.1";
  let pooler;
  try {
    pooler = await startPooler({
      db,
      host,
      port: opts.port ?? 54322,
      maxClients: opts.maxClients,
      idleTransactionTimeoutMs: opts.idleTransactionTimeoutMs,
    });
  } catch (err) {
    await db.close();
    throw err;
  }
  const { port } = pooler;
  return {
    url: `postgresql://postgres:postgres@${host}:${port}/postgres`,
    port,
    async stop() {
      await pooler.stop();
      await db.close();
    },
  };
}
