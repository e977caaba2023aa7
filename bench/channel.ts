/**
 * `deno task bench channel`: the WhatsApp channel on the local stack, beside the chat endpoint in
 * the same run.
 *
 * 1. Acknowledgement latency of `POST /channels/manychat/{id}` (from sending to reading the Dynamic
 *    Block), sequential and 50 at once, while the fake model (local/fakes/groq.ts) takes 3 s per
 *    answer: the acknowledgement must not wait for it (goal: p99 < 1 s). Beside it, the chat
 *    endpoint's round trip with the same 3 s model (which it waits for, by design).
 * 2. Inbound to answer sent (the fake ManyChat, tests/fakes/manychat.ts, records the send) with an
 *    instant model, sequential; beside it, the chat round trip with the instant model.
 *
 * `CHANNEL_BENCH_N` sets the sequential counts (default 20). Prints baselines (one SQL round trip,
 * GET /healthz), and the calibration line and load average at start and end (bench/calibration.ts),
 * as the other benches do.
 */
import { startStack } from "../local/stack.ts";
import { getDb } from "../shared/db.ts";
import { startFakeGroq } from "../local/fakes/groq.ts";
import { startFakeManyChat } from "../tests/fakes/manychat.ts";
import { newWorkbench, openSession, text, uploadAndWait } from "../tests/helpers/chat.ts";
import { signUpUser } from "../tests/helpers/stack.ts";
import { benchStart, percentile as pct } from "./calibration.ts";

Deno.env.set("LOG_LEVEL", "warn");
const N = Number(Deno.env.get("CHANNEL_BENCH_N") ?? "20");
const CONCURRENT = 50;
const SLOW_LLM_MS = 3000;
const TOKEN = "mc-bench-token-0000";

function row(name: string, values: number[]) {
  console.log(
    `${name.padEnd(46)} n=${String(values.length).padStart(3)}  p50 ${
      pct(values, 50).toFixed(1).padStart(8)
    } ms  p99 ${pct(values, 99).toFixed(1).padStart(8)} ms`,
  );
}

const groq = startFakeGroq();
const manychat = startFakeManyChat(TOKEN);
const stack = await startStack({
  apiPort: 0,
  dbPort: 0,
  workerIntervalMs: 50,
  functionEnv: {
    GROQ_API_KEY: "gsk_bench",
    GROQ_BASE_URL: groq.url,
    GROQ_MAX_RETRIES: "0",
    GROQ_TIMEOUT_MS: "30000",
    MANYCHAT_API_URL: manychat.url,
  },
});
const done = benchStart("channel");
try {
  const sql = getDb();
  await sql`update private.settings
               set value = jsonb_set(value, '{chat}', '{"capacity": 100000, "per_minute": 100000,
                 "ip_capacity": 100000, "ip_per_minute": 100000}')
             where key = 'rate_limits'`;
  const user = await signUpUser(stack, "bench");
  await sql`select private.grant_credits(${user.id}, 1000, 'grant', 'channel-bench')`;
  const company = await (await fetch(`${stack.apiUrl}/functions/v1/companies`, {
    method: "POST",
    headers: {
      authorization: `Bearer ${user.token}`,
      apikey: stack.anonKey,
      "content-type": "application/json",
    },
    body: JSON.stringify({ name: "Bench" }),
  })).json();
  // The company's wallet pays for the chat and channel answers on its workbench.
  await sql`select private.grant_credits(${company.id}, 1000, 'grant', 'channel-bench-company')`;
  const wb = await newWorkbench(user, "Bench", company.id);
  await uploadAndWait(user, wb, [
    { name: "policy.txt", bytes: text("Refunds are accepted within 30 days of purchase.") },
    { name: "hours.txt", bytes: text("The shop opens at 9 am and closes at 6 pm.") },
  ], 120_000);
  const created = await (await fetch(`${stack.apiUrl}/functions/v1/channels`, {
    method: "POST",
    headers: {
      authorization: `Bearer ${user.token}`,
      apikey: stack.anonKey,
      "content-type": "application/json",
    },
    body: JSON.stringify({
      company_id: company.id,
      workbench_id: wb,
      name: "Bench",
      manychat_token: TOKEN,
    }),
  })).json();
  const inboundUrl = `${stack.apiUrl}/functions/v1/channels/manychat/${created.id}`;
  let seq = 0;
  const inbound = async (subscriber: string) => {
    const t = performance.now();
    const res = await fetch(inboundUrl, {
      method: "POST",
      headers: { "content-type": "application/json", "x-channel-secret": created.inbound_secret },
      body: JSON.stringify({
        subscriber_id: subscriber,
        text: "Within how many days are refunds accepted?",
        message_id: `bench-${++seq}`,
      }),
    });
    await res.json();
    if (res.status !== 200) throw new Error(`inbound: ${res.status}`);
    return performance.now() - t;
  };
  const session = await openSession(user, wb);
  const chat = async () => {
    const t = performance.now();
    const res = await fetch(`${stack.apiUrl}/functions/v1/chat/sessions/${session}/messages`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${user.token}`,
        apikey: stack.anonKey,
        "content-type": "application/json",
      },
      body: JSON.stringify({ content: "Within how many days are refunds accepted?" }),
    });
    await res.json();
    if (res.status !== 200) throw new Error(`chat: ${res.status}`);
    return performance.now() - t;
  };
  const drained = async () => {
    const deadline = Date.now() + 300_000;
    while (Date.now() < deadline) {
      const [{ n }] = await sql`select count(*)::int as n from public.channel_messages
        where status in ('queued', 'sending')`;
      if (n === 0) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error("the channel queue did not drain");
  };

  // Warm both isolates (and the worker) with an instant model.
  groq.setMode("cite");
  await inbound("warm");
  await chat();
  await drained();

  groq.setMode("cite", { delayMs: SLOW_LLM_MS });
  console.log(`channel bench: fake model ${SLOW_LLM_MS} ms per answer, then instant`);
  const seqAcks: number[] = [];
  for (let i = 0; i < N; i++) seqAcks.push(await inbound(`seq-${i}`));
  row("channel ack, sequential (model 3 s)", seqAcks);
  const concAcks = await Promise.all(
    Array.from({ length: CONCURRENT }, (_, i) => inbound(`conc-${i}`)),
  );
  row(`channel ack, ${CONCURRENT} concurrent (model 3 s)`, concAcks);
  const chatSlow: number[] = [];
  for (let i = 0; i < Math.min(3, N); i++) chatSlow.push(await chat());
  row("chat round trip, sequential (model 3 s)", chatSlow);

  groq.setMode("cite");
  await drained();
  const toSent: number[] = [];
  for (let i = 0; i < N; i++) {
    const subscriber = `fast-${i}`;
    const t = performance.now();
    await inbound(subscriber);
    while (!manychat.sent.some((s) => s.subscriberId === subscriber)) {
      await new Promise((r) => setTimeout(r, 5));
    }
    toSent.push(performance.now() - t);
  }
  row("channel inbound -> answer sent (instant model)", toSent);
  const chatFast: number[] = [];
  for (let i = 0; i < N; i++) chatFast.push(await chat());
  row("chat round trip (instant model)", chatFast);
  console.log(
    `ratios: ack p99 / chat p99 (3 s model) ${
      (pct(concAcks, 99) / pct(chatSlow, 99)).toFixed(3)
    }; inbound->sent p50 / chat p50 (instant) ${(pct(toSent, 50) / pct(chatFast, 50)).toFixed(2)}`,
  );
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
} finally {
  await stack.stop();
  await groq.stop();
  await manychat.stop();
  done();
}
