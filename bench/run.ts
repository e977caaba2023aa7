/**
 * `deno task bench`: platform numbers on this machine. Prints stack start-up time, function
 * round trips through the gateway, and pgmq send/read/delete throughput on the local database.
 * Then ingestion (bench/ingest.ts), in a process of its own with `--expose-gc` so each worker
 * step's heap growth is measured from a collected heap. Arguments choose ingestion cases (xlsx,
 * csv, pdf, docx) and `--with-hnsw` keeps the HNSW index during ingestion; `--ingest-only` skips
 * the platform numbers; `webhooks` runs only bench/webhooks.ts (webhook acknowledgement latency);
 * `chat` runs only the chat message latency bench (bench/chat.ts); `reports` runs only the report
 * bench (bench/reports.ts); `retrieval [10k] [100k]` runs only the retrieval bench (bench/retrieval.ts);
 * `channel` runs only the WhatsApp channel bench (bench/channel.ts).
 * Every bench prints a calibration line and the load average at its start and end, and its goals
 * as ratios measured in the same run (bench/calibration.ts); those with a database run on PGlite
 * and native PostgreSQL (`--engine pglite|native|both`, `--db-url`: bench/engines.ts); `--quick`
 * gives smoke sizes.
 */
import { getDb } from "../shared/db.ts";
import { startStack } from "../local/stack.ts";
import { benchStart } from "./calibration.ts";

Deno.env.set("LOG_LEVEL", "warn");

function report(name: string, n: number, ms: number, unit = "ops") {
  console.log(
    `${name.padEnd(44)} ${String(n).padStart(6)} ${unit.padEnd(8)} ${
      ms.toFixed(0).padStart(7)
    } ms  ${(n / (ms / 1000)).toFixed(1).padStart(9)} ${unit}/s`,
  );
}

if (Deno.args[0] === "channel") {
  // `task bench channel`: the channel's acknowledgement and answer latency (bench/channel.ts).
  await import("./channel.ts");
  Deno.exit(0);
}

if (Deno.args[0] === "chat") {
  // `task bench chat`: chat message latency split by phase (bench/chat.ts).
  await import("./chat.ts");
  Deno.exit(0);
}

const ingestOnly = Deno.args.includes("--ingest-only");
const ingestArgs = Deno.args.filter((a) => a !== "--ingest-only");

async function benchIngestion(): Promise<void> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "--v8-flags=--expose-gc",
      new URL("./ingest.ts", import.meta.url).pathname,
      ...ingestArgs,
    ],
    stdout: "inherit",
    stderr: "inherit",
  }).spawn();
  const status = await child.status;
  if (!status.success) throw new Error(`the ingestion bench failed (exit ${status.code})`);
}

// `task bench webhooks`: only the Razorpay webhook acknowledgement latency (bench/webhooks.ts).
if (Deno.args[0] === "webhooks") {
  await import("./webhooks.ts");
  Deno.exit(0);
}

// `task bench reports`: the report worker's steps (bench/reports.ts), nothing else.
if (Deno.args.includes("reports")) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL("./reports.ts", import.meta.url).pathname],
  }).spawn();
  Deno.exit((await child.status).code);
}

// `task bench retrieval [10k] [100k]`: only the retrieval bench (bench/retrieval.ts).
if (Deno.args.includes("retrieval")) {
  const { benchRetrievalScales, retrievalScales } = await import("./retrieval.ts");
  await benchRetrievalScales(retrievalScales(Deno.args));
  Deno.exit(0);
}

if (ingestOnly) {
  await benchIngestion();
  Deno.exit(0);
}

// The platform numbers (PGlite; see `task bench webhooks|chat|retrieval` for both engines).
const platformDone = benchStart("platform");
let t = performance.now();
const stack = await startStack({ apiPort: 0, dbPort: 0, autoWorker: false });
console.log(
  `stack start-up (PGlite, baseline, migrations, functions): ${
    (performance.now() - t).toFixed(0)
  } ms`,
);
const sql = getDb();

try {
  const N = 300;
  t = performance.now();
  for (let i = 0; i < N; i++) {
    const res = await fetch(`${stack.apiUrl}/functions/v1/healthz`);
    await res.body?.cancel();
  }
  report("GET /healthz (sequential)", N, performance.now() - t, "req");

  t = performance.now();
  for (let i = 0; i < 100; i++) {
    const res = await fetch(`${stack.apiUrl}/functions/v1/readyz`);
    await res.body?.cancel();
  }
  report("GET /readyz (sequential, 2 queries each)", 100, performance.now() - t, "req");

  await sql`select pgmq.create('bench')`;
  const M = 1000;
  t = performance.now();
  await sql`select pgmq.send_batch('bench', array(select jsonb_build_object('i', g) from generate_series(1, ${M}) g))`;
  report("pgmq.send_batch", M, performance.now() - t, "msg");

  t = performance.now();
  let handled = 0;
  while (handled < M) {
    const batch = await sql<{ msg_id: string }[]>`select msg_id from pgmq.read('bench', 30, 50)`;
    if (batch.length === 0) break;
    await sql`select pgmq.delete('bench', ${batch.map((b) => b.msg_id)}::bigint[])`;
    handled += batch.length;
  }
  report("pgmq.read(50) + delete", handled, performance.now() - t, "msg");

  t = performance.now();
  for (let i = 0; i < 200; i++) {
    const [{ id }] = await sql`select * from pgmq.send('bench', '{}'::jsonb) as id`;
    await sql`select * from pgmq.read('bench', 30, 1)`;
    await sql`select pgmq.delete('bench', ${id}::bigint)`;
  }
  report("pgmq send + read + delete, one by one", 200, performance.now() - t, "msg");
} finally {
  await stack.stop();
  platformDone();
}
await benchIngestion();
