/**
 * The bench's database in its own process: PGlite (with pgvector) on a free port. Prints
 * `{"url": "..."}` on one line once it listens, and stops when its standard input closes. The
 * ingestion bench measures the worker's CPU in its own process, so the database (which runs
 * elsewhere on Supabase) must not share it.
 */
import { startPglite } from "../local/database.ts";

const db = await startPglite({ port: 0 });
console.log(JSON.stringify({ url: db.url }));
for await (const _ of Deno.stdin.readable) {
  // wait for the parent to close stdin
}
await db.stop();
