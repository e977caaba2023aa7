/**
 * The local database: PGlite (WASM Postgres) with pgvector, persisted in a directory or kept in
 * memory, served on the Postgres wire protocol through a transaction-pooling front (see
 * pooler.ts): PGlite runs one session, which the pooler lends to one client transaction at a time,
 * so the platform, every function, psql and the Supabase CLI connect at once. Clients log in as
 * `postgres` with a password checked by SCRAM-SHA-256: `postgres` as on Supabase's local stack,
 * or `DB_PASSWORD` / the `password` option; `url` carries it, so every client built from it logs in. PGlite and the
 * pooler run on a thread of their own (database_worker.ts): PGlite's work is synchronous WASM, and
 * on the caller's thread it would stall every HTTP request of the local platform while it runs.
 */
import { log } from "../shared/log.ts";
import type { DatabaseReply, DatabaseRequest } from "./database_worker.ts";

export interface LocalDatabase {
  url: string;
  port: number;
  /**
   * Writes the data directory as a tar file to `path` (atomically: a concurrent reader sees the
   * old file or the whole new one), for `template` of another database.
   */
  dump(path: string): Promise<void>;
  stop(): Promise<void>;
}

export interface DatabaseOptions {
  /** Directory to persist into; in memory when omitted. */
  dataDir?: string;
  /** Start from this data directory tar (see `dump()`) instead of an empty database. */
  template?: string;
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  /** Load the pgTAP extension too (tests). */
  pgtap?: boolean;
  /** Client connections accepted at once (default 100). */
  maxClients?: number;
  /** A client idle inside a transaction this long is disconnected, its work rolled back. */
  idleTransactionTimeoutMs?: number;
  /** The password of `postgres` (default: env DB_PASSWORD, else "postgres" as Supabase's). */
  password?: string;
}

/** The worker's failure as the error the caller would have seen (AddrInUse stays AddrInUse). */
function failure(name: string, message: string): Error {
  const known = (Deno.errors as unknown as Record<string, new (m: string) => Error>)[name];
  const err = known ? new known(message) : new Error(message);
  if (!known) err.name = name;
  return err;
}

export async function startPglite(opts: DatabaseOptions = {}): Promise<LocalDatabase> {
  const worker = new Worker(new URL("./database_worker.ts", import.meta.url), { type: "module" });
  let waiting: ((reply: DatabaseReply) => void) | undefined;
  let crashed: Error | undefined;
  worker.onmessage = (e: MessageEvent<DatabaseReply>) => waiting?.(e.data);
  worker.onerror = (e: ErrorEvent) => {
    e.preventDefault();
    crashed = new Error(`the local database thread failed: ${e.message}`);
    // Every connection fails from now on; say why once, loudly.
    log.error("the local database stopped", { error: crashed.message });
    waiting?.({ type: "failed", name: "Error", message: crashed.message });
  };
  const ask = (request: DatabaseRequest) =>
    new Promise<DatabaseReply>((resolve) => {
      waiting = resolve;
      worker.postMessage(request);
    });

  const host = opts.host ?? "127.0.0.1";
  const password = opts.password ?? (Deno.env.get("DB_PASSWORD") || "postgres");
  const started = await ask({ type: "start", opts: { ...opts, host, password } });
  if (started.type !== "ready") {
    worker.terminate();
    throw started.type === "failed"
      ? failure(started.name, started.message)
      : new Error("the local database did not start");
  }
  const { port } = started;
  let stopped = false;
  return {
    url: `postgresql://postgres:${encodeURIComponent(password)}@${host}:${port}/postgres`,
    port,
    async dump(path) {
      if (stopped || crashed) throw new Error("the local database is not running");
      const reply = await ask({ type: "dump", path });
      if (reply.type === "failed") throw failure(reply.name, reply.message);
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      const reply = crashed ? undefined : await ask({ type: "stop" });
      worker.terminate();
      if (reply?.type === "failed") throw failure(reply.name, reply.message);
    },
  };
}
