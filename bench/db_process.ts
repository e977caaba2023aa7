/**
 * The bench's database in its own process: PGlite (with pgvector) on a free port. Prints
 * `{"url": "..."}` on one line once it listens, and stops when its standard input closes. The
 * ingestion bench measures the worker's CPU in its own process, so the database (which runs
 * elsewhere on Supabase) must not share it.
 */
import { startPglite } from "../local/database.ts";

const dirFlag = Deno.args.indexOf("--data-dir");
const db = await startPglite({
  port: 0,
  dataDir: dirFlag >= 0 ? Deno.args[dirFlag + 1] : undefined, // persisted (bench/retrieval.ts)
});
console.log(JSON.stringify({ url: db.url }));
for await (const _ of Deno.stdin.readable) {
  // wait for the parent to close stdin
}
await db.stop();
