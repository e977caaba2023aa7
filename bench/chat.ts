/**
 * `deno task bench chat`: what the product adds to the language model per chat message. A fake
 * Groq server on loopback answers instantly; each message's phases (auth, rate limit, preflight,
 * retrieval, prompt, llm, persistence, metering) come from the chat function's `Server-Timing`
 * header, and the round trip is measured by the client (supabase-js through the local gateway
 * and the function's isolate). Overhead = round trip − llm. Warm isolates; the first message
 * (cold start of the chat isolate) is reported apart.
 */
import { parseServerTiming } from "../shared/timing.ts";
import { getDb } from "../shared/db.ts";
import { startStack } from "../local/stack.ts";
import { startFakeGroq } from "../local/fakes/groq.ts";
import { makeCsv, makeDocx } from "../tests/fixtures/documents.ts";
import { newWorkbench, openSession, text, uploadAndWait } from "../tests/helpers/chat.ts";
import { signUpUser } from "../tests/helpers/stack.ts";

Deno.env.set("LOG_LEVEL", "warn");
const N = Number(Deno.env.get("CHAT_BENCH_MESSAGES") ?? "60");

function pct(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}

const groq = startFakeGroq();
const stack = await startStack({
  apiPort: 0,
  dbPort: 0,
  workerIntervalMs: 50,
  functionEnv: { GROQ_API_KEY: "gsk_bench", GROQ_BASE_URL: groq.url, GROQ_MAX_RETRIES: "0" },
});
try {
  const sql = getDb();
  // The bench sends more than the per-user limit allows in a minute, and pays for its answers.
  await sql`update private.settings
               set value = jsonb_set(value, '{chat}', '{"capacity": 100000, "per_minute": 100000,
                 "ip_capacity": 100000, "ip_per_minute": 100000}')
             where key = 'rate_limits'`;
  const user = await signUpUser(stack, "bench");
  await sql`select private.grant_credits(${user.id}, 1000, 'grant', 'chat-bench')`;
  const wb = await newWorkbench(user, "Bench");
  const rows: (string | number)[][] = [];
  for (let i = 0; i < 2000; i++) rows.push([`2026-01-${(i % 28) + 1}`, `account ${i % 40}`, i * 3]);
  await uploadAndWait(user, wb, [
    { name: "ledger.csv", bytes: makeCsv(["date", "account", "amount"], rows) },
    {
      name: "memo.docx",
      bytes: makeDocx(Array.from({ length: 60 }, (_, i) => ({
        paragraph: `Paragraph ${i}: revenue, margin and cash notes for region ${i % 7}. `.repeat(8),
      }))),
    },
    { name: "notes.txt", bytes: text("The board approved the zebra acquisition for 42 million.") },
  ], 120_000);
  const [{ n }] = await sql`select count(*)::int as n from public.workbench_chunks
                             where workbench_id = ${wb}`;
  const session = await openSession(user, wb);
  const url = `${stack.apiUrl}/functions/v1/chat/sessions/${session}/messages`;
  const send = async (i: number) => {
    const started = performance.now();
    const res = await fetch(url, {
      method: "POST",
      headers: {
        authorization: `Bearer ${user.token}`,
        apikey: stack.anonKey,
        "content-type": "application/json",
      },
      body: JSON.stringify({ content: `What was the amount for account ${i % 40} in the ledger?` }),
    });
    await res.json();
    if (res.status !== 200) throw new Error(`message ${i}: ${res.status}`);
    return {
      total: performance.now() - started,
      phases: parseServerTiming(res.headers.get("server-timing")),
    };
  };
  const cold = await send(0);
  for (let i = 1; i < 4; i++) await send(i);
  const runs = [];
  for (let i = 0; i < N; i++) runs.push(await send(i));

  const names = [
    "auth",
    "rate_limit",
    "preflight",
    "retrieval",
    "prompt",
    "llm",
    "persistence",
    "metering",
  ];
  console.log(`chat message latency: ${N} messages, fake LLM answering at once, ${n} chunks`);
  console.log(`${"phase".padEnd(26)} ${"p50 ms".padStart(8)} ${"p95 ms".padStart(8)}`);
  const row = (name: string, values: number[]) =>
    console.log(
      `${name.padEnd(26)} ${pct(values, 50).toFixed(1).padStart(8)} ${
        pct(values, 95).toFixed(1).padStart(8)
      }`,
    );
  for (const name of names) row(name, runs.map((r) => r.phases[name] ?? 0));
  const inFunction = runs.map((r) => Object.values(r.phases).reduce((a, b) => a + b, 0));
  row("sum of phases (function)", inFunction);
  row("round trip (client)", runs.map((r) => r.total));
  row("overhead (round trip - llm)", runs.map((r) => r.total - (r.phases.llm ?? 0)));
  console.log(`first message (cold chat isolate): ${cold.total.toFixed(0)} ms`);
  // Calibration on this machine at this moment: a function that does nothing, and one query.
  const health: number[] = [];
  const query: number[] = [];
  for (let i = 0; i < N; i++) {
    let t = performance.now();
    await (await fetch(`${stack.apiUrl}/functions/v1/healthz`)).body?.cancel();
    health.push(performance.now() - t);
    t = performance.now();
    await sql`select 1`;
    query.push(performance.now() - t);
  }
  row("baseline: GET /healthz", health);
  row("baseline: one SQL round trip", query);
  console.log(`load average: ${Deno.loadavg().map((x) => x.toFixed(1)).join(" ")}`);
} finally {
  await stack.stop();
  await groq.stop();
}
