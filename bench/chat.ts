/**
 * `deno task bench chat`: what the product adds to the language model per chat message. A fake
 * Groq server on loopback answers instantly; each message's phases (auth, rate limit, preflight,
 * retrieval, prompt, llm, persistence, metering) come from the chat function's `Server-Timing`
 * header, and the round trip is measured by the client (supabase-js through the local gateway
 * and the function's isolate). Overhead = round trip − llm. Warm isolates; the first message
 * (cold start of the chat isolate) is reported apart.
 *
 * The references, in the same run on the same engine: the retrieval statement alone (the same
 * `search_workbench_chunks` call `retrieve()` makes, with the same question, as the workbench's
 * owner through the same pooler; only the statement timed) and the database round trips per
 * message, counted by a relay in front of the database that only the functions use
 * (bench/wire_counter.ts). Goals (bench/calibration.ts): overhead beyond the LLM ≤ 2× the
 * retrieval statement alone (p50 and p95), and ≤ 4 round trips per message besides retrieval's.
 * Runs on PGlite and native PostgreSQL (`--engine`, `--db-url`); `--quick` sends 15 messages.
 */
import { parseServerTiming } from "../shared/timing.ts";
import { asUser, createDb, getDb } from "../shared/db.ts";
import { createLocalEmbedder } from "../shared/embeddings.ts";
import {
  DEFAULT_RETRIEVAL_SETTINGS,
  formSearchQuery,
  SEARCH_SQL,
  searchParams,
} from "../shared/retrieval/mod.ts";
import { freePort } from "../local/native_postgres.ts";
import { startStack } from "../local/stack.ts";
import { startFakeGroq } from "../local/fakes/groq.ts";
import { makeCsv, makeDocx } from "../tests/fixtures/documents.ts";
import { newWorkbench, openSession, text, uploadAndWait } from "../tests/helpers/chat.ts";
import { signUpUser } from "../tests/helpers/stack.ts";
import { benchStart, isQuick, percentile as pct, printRatio } from "./calibration.ts";
import { type Engine, forEachEngine } from "./engines.ts";
import { startWireCounter } from "./wire_counter.ts";

Deno.env.set("LOG_LEVEL", "warn");
const N = Number(Deno.env.get("CHAT_BENCH_MESSAGES") ?? (isQuick() ? "15" : "60"));

async function benchChat(engine: Engine): Promise<void> {
  const groq = startFakeGroq();
  // The functions reach the database through the counting relay; the bench itself does not.
  const wire = startWireCounter();
  const pgPort = freePort();
  const target = engine.dbUrl ? new URL(engine.dbUrl) : undefined;
  wire.setTarget(target?.hostname ?? "127.0.0.1", Number(target?.port || pgPort));
  const relayed = target
    ? Object.assign(new URL(engine.dbUrl!), { port: String(wire.port) }).href
    : `postgresql://postgres:postgres@127.0.0.1:${wire.port}/postgres`;
  const stack = await startStack({
    apiPort: 0,
    dbPort: pgPort,
    dbUrl: engine.dbUrl,
    workerIntervalMs: 50,
    functionEnv: {
      GROQ_API_KEY: "gsk_bench",
      GROQ_BASE_URL: groq.url,
      GROQ_MAX_RETRIES: "0",
      SUPABASE_DB_URL: relayed,
    },
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
    for (let i = 0; i < 2000; i++) {
      rows.push([`2026-01-${(i % 28) + 1}`, `account ${i % 40}`, i * 3]);
    }
    await uploadAndWait(user, wb, [
      { name: "ledger.csv", bytes: makeCsv(["date", "account", "amount"], rows) },
      {
        name: "memo.docx",
        bytes: makeDocx(Array.from({ length: 60 }, (_, i) => ({
          paragraph: `Paragraph ${i}: revenue, margin and cash notes for region ${i % 7}. `.repeat(
            8,
          ),
        }))),
      },
      {
        name: "notes.txt",
        bytes: text("The board approved the zebra acquisition for 42 million."),
      },
    ], 120_000);
    const [{ n }] = await sql`select count(*)::int as n from public.workbench_chunks
                             where workbench_id = ${wb}`;
    const session = await openSession(user, wb);
    const url = `${stack.apiUrl}/functions/v1/chat/sessions/${session}/messages`;
    const send = async (i: number, content?: string) => {
      const started = performance.now();
      const res = await fetch(url, {
        method: "POST",
        headers: {
          authorization: `Bearer ${user.token}`,
          apikey: stack.anonKey,
          "content-type": "application/json",
        },
        body: JSON.stringify({
          content: content ?? `What was the amount for account ${i % 40} in the ledger?`,
        }),
      });
      const body = await res.json();
      if (res.status !== 200) {
        throw new Error(`message ${i}: ${res.status} ${JSON.stringify(body)}`);
      }
      return {
        total: performance.now() - started,
        phases: parseServerTiming(res.headers.get("server-timing")),
      };
    };
    const cold = await send(0);
    for (let i = 1; i < 4; i++) await send(i);
    const runs = [];
    const trips: number[] = [];
    for (let i = 0; i < N; i++) {
      const before = wire.roundTrips();
      runs.push(await send(i));
      trips.push(wire.roundTrips() - before);
    }

    // The retrieval statement alone, same questions, as the owner through the same pooler.
    const embedder = createLocalEmbedder();
    const statement: number[] = [];
    for (let i = 0; i < N; i++) {
      const query = formSearchQuery(`What was the amount for account ${i % 40} in the ledger?`, []);
      const [values] = await embedder.embed([query]);
      const params = searchParams(
        wb,
        query,
        { values: values!, model: embedder.model },
        DEFAULT_RETRIEVAL_SETTINGS,
      );
      await asUser(sql, { sub: user.id, role: "authenticated" }, async (tx) => {
        const t = performance.now();
        await tx.unsafe(SEARCH_SQL, params);
        statement.push(performance.now() - t);
      });
    }
    // Round trips of the retrieval statement itself, as postgres.js sends it.
    const probe = createDb(relayed);
    const viaRelay: number[] = [];
    let searchTrips = 0;
    try {
      await asUser(probe, { sub: user.id, role: "authenticated" }, async (tx) => {
        const query = formSearchQuery("What was the amount for account 1 in the ledger?", []);
        const [values] = await embedder.embed([query]);
        const t0 = wire.roundTrips();
        await tx.unsafe(
          SEARCH_SQL,
          searchParams(
            wb,
            query,
            { values: values!, model: embedder.model },
            DEFAULT_RETRIEVAL_SETTINGS,
          ),
        );
        searchTrips = wire.roundTrips() - t0;
      });
      // The same statements through the relay, to see what the relay itself adds.
      for (let i = 0; i < N; i++) {
        const query = formSearchQuery(`What was the amount for account ${i % 40} in the ledger?`);
        const [values] = await embedder.embed([query]);
        const params = searchParams(
          wb,
          query,
          { values: values!, model: embedder.model },
          DEFAULT_RETRIEVAL_SETTINGS,
        );
        await asUser(probe, { sub: user.id, role: "authenticated" }, async (tx) => {
          const t = performance.now();
          await tx.unsafe(SEARCH_SQL, params);
          viaRelay.push(performance.now() - t);
        });
      }
    } finally {
      await probe.end({ timeout: 5 });
    }

    const names = [
      "auth",
      "rate_limit",
      "preflight",
      "retrieval",
      "retrieval_search",
      "retrieval_cells",
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
    // retrieval_search and retrieval_cells are parts of retrieval, not phases of their own.
    const inFunction = runs.map((r) =>
      Object.entries(r.phases).filter(([k]) => !k.startsWith("retrieval_"))
        .reduce((a, [, b]) => a + b, 0)
    );
    row("sum of phases (function)", inFunction);
    row("round trip (client)", runs.map((r) => r.total));
    row("overhead (round trip - llm)", runs.map((r) => r.total - (r.phases.llm ?? 0)));
    console.log(`first message (cold chat isolate): ${cold.total.toFixed(0)} ms`);
    // The same without numbers in the question (no digit, no figure word): no cell lookup over
    // the typed rows, only the search.
    const prose = [];
    const notes = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel"];
    for (let i = 0; i < N; i++) {
      prose.push(
        await send(i, `What did the board approve about the zebra acquisition, ${notes[i % 8]}?`),
      );
    }
    row("retrieval, question w/o numbers", prose.map((r) => r.phases.retrieval ?? 0));
    row("overhead, question w/o numbers", prose.map((r) => r.total - (r.phases.llm ?? 0)));
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
    row("reference: retrieval statement alone", statement);
    row("  the same through the relay", viaRelay);
    const overhead = runs.map((r) => r.total - (r.phases.llm ?? 0));
    const medianTrips = pct(trips, 50);
    console.log(
      `database round trips per message (functions' connections, 'Q' + Sync + Flush): p50 ${medianTrips}, ` +
        `min ${Math.min(...trips)}, max ${
          Math.max(...trips)
        }; the retrieval statement: ${searchTrips}`,
    );
    console.log(`ratios (${engine.name}):`);
    for (const p of [50, 95]) {
      printRatio(
        `overhead beyond the LLM / retrieval statement alone, p${p}`,
        pct(overhead, p) / pct(statement, p),
        { op: "≤", bound: 2 },
        `${pct(overhead, p).toFixed(1)} / ${pct(statement, p).toFixed(1)} ms`,
      );
    }
    console.log(
      `  ${"round trips per message besides retrieval (p50)".padEnd(58)} ${
        medianTrips - searchTrips
      } (goal ≤ 4) ${medianTrips - searchTrips <= 4 ? "met" : "NOT met"}`,
    );
  } finally {
    await stack.stop();
    await groq.stop();
    await wire.stop();
  }
}

const done = benchStart("chat");
try {
  await forEachEngine(benchChat);
} finally {
  done();
}
