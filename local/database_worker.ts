/**
 * The local database's own thread (see database.ts): PGlite and its pooler run in a Web Worker,
 * so the database works on one core while the HTTP side (gateway, Auth, Storage, tests) works on
 * another, as a Postgres server is a process of its own. Messages: `start` (DatabaseOptions) →
 * `ready` {port} or `failed` {name, message}; `dump` {path} → `dumped` (the data directory as a tar
 * file, written beside `path` and renamed onto it, so a reader never sees half a file); `stop` →
 * `stopped`.
 */
/// <reference lib="deno.worker" />
import { PGlite } from "@electric-sql/pglite";
import { vector } from "@electric-sql/pglite-pgvector";
import { pgtap } from "@electric-sql/pglite-pgtap";
import { type Pooler, startPooler } from "./pooler.ts";
import type { DatabaseOptions } from "./database.ts";

export type DatabaseRequest =
  | { type: "start"; opts: DatabaseOptions }
  | { type: "dump"; path: string }
  | { type: "stop" };
export type DatabaseReply =
  | { type: "ready"; port: number }
  | { type: "dumped" }
  | { type: "failed"; name: string; message: string }
  | { type: "stopped" };

/**
 * `wal_init_zero=off`: a new 16 MB WAL segment (one per ~5,000 credited payments) is created by
 * writing its last byte instead of 16 MB of zeros. Through PGlite's emulated file system the
 * zero-fill stalled the one session for 0.3-2 s, and every request waiting on the database with
 * it (the webhook bench's p99). As on copy-on-write file systems; what a commit writes is not
 * changed.
 */
const LOCAL_SETTINGS = ["-c", "wal_init_zero=off"];

let db: PGlite | undefined;
let pooler: Pooler | undefined;

function reply(message: DatabaseReply): void {
  self.postMessage(message);
}

function replyFailed(err: unknown): void {
  const error = err instanceof Error ? err : new Error(String(err));
  reply({ type: "failed", name: error.name, message: error.message });
}

async function start(opts: DatabaseOptions): Promise<void> {
  if (opts.dataDir) await Deno.mkdir(opts.dataDir, { recursive: true });
  db = await PGlite.create({
    dataDir: opts.dataDir,
    loadDataDir: opts.template ? new Blob([await Deno.readFile(opts.template)]) : undefined,
    extensions: opts.pgtap ? { vector, pgtap } : { vector },
    startParams: [...PGlite.defaultStartParams, ...LOCAL_SETTINGS],
  });
  try {
    pooler = await startPooler({
      db,
      host: opts.host ?? "127.0.0.1",
      port: opts.port ?? 54322,
      maxClients: opts.maxClients,
      idleTransactionTimeoutMs: opts.idleTransactionTimeoutMs,
      password: opts.password,
    });
  } catch (err) {
    await db.close();
    db = undefined;
    throw err;
  }
  reply({ type: "ready", port: pooler.port });
}

/** The data directory as an uncompressed tar (what `loadDataDir` takes), renamed into place. */
async function dump(path: string): Promise<void> {
  if (!db) throw new Error("the local database is not running");
  await db.exec("CHECKPOINT");
  const tar = new Uint8Array(await (await db.dumpDataDir("none")).arrayBuffer());
  const partial = `${path}.${crypto.randomUUID()}.partial`;
  try {
    await Deno.writeFile(partial, tar);
    await Deno.rename(partial, path);
  } catch (err) {
    await Deno.remove(partial).catch(() => {});
    throw err;
  }
}

self.onmessage = async (e: MessageEvent<DatabaseRequest>) => {
  if (e.data.type === "start") {
    try {
      await start(e.data.opts);
    } catch (err) {
      replyFailed(err);
    }
  } else if (e.data.type === "dump") {
    try {
      await dump(e.data.path);
      reply({ type: "dumped" });
    } catch (err) {
      replyFailed(err);
    }
  } else {
    // The database is closed (and its files flushed) even when the pooler fails to stop.
    try {
      try {
        await pooler?.stop();
      } finally {
        await db?.close();
      }
      reply({ type: "stopped" });
    } catch (err) {
      replyFailed(err);
    }
  }
};
