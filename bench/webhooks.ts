/**
 * `deno task bench webhooks`: how fast `POST /webhooks/razorpay` acknowledges signed Razorpay
 * events on the local stack (gateway, the function's isolate, PGlite behind the pooler). 1,000
 * `payment.captured` events for distinct orders (each credits a wallet: the heaviest path),
 * delivered one after another, then 1,000 more 20 at a time; latency is from sending the request
 * to reading the whole answer. Then the reference, in the same run on the same engine: 1,000 more
 * events applied by calling the same SQL the function calls (`private.handle_razorpay_event`)
 * directly, 20 at a time over 20 postgres.js connections (no HTTP, no function). Goals (ratios,
 * bench/calibration.ts): throughput at 20 concurrent ≥ 0.5× the direct SQL's, and p99 ≤ 3× p50.
 * Runs on PGlite and native PostgreSQL (`--engine`, `--db-url`: bench/engines.ts); `--quick`
 * sends 200 events per phase; `--pool-max N` sets the functions' DB_POOL_MAX (default 1).
 * Then the same for `POST /webhooks/stripe` in the same run: N signed `checkout.session.completed`
 * events of token packs (each credits a wallet through the same ledger), sequential and 20 at a
 * time, and the ratio of Stripe's p50/p99 to Razorpay's (goal: ≤ 1.5, the Stripe path verifies
 * the `t.payload` signature and records its event the same way).
 *
 * Each phase also prints where the CPU went, per event, from /proc: this process's threads (the
 * main thread runs the HTTP side: this client, the API server and the functions gateway; the
 * database thread runs PGlite and its pooler; V8's helper threads GC and compile) and the
 * `webhooks` isolate (a process of its own). The machine has few cores, so these show what limits
 * throughput when wall-clock numbers are disturbed by other work.
 */
import { startStack } from "../local/stack.ts";
import { createDb, getDb } from "../shared/db.ts";
import { type SignedWebhook, startFakeRazorpay } from "../local/fakes/razorpay.ts";
import { type SignedStripeEvent, startFakeStripe } from "../tests/fakes/stripe.ts";
import { benchStart, isQuick, percentile, printRatio } from "./calibration.ts";
import { type Engine, forEachEngine } from "./engines.ts";

Deno.env.set("LOG_LEVEL", "warn");

const N = isQuick() ? 200 : 1000;
/** `--pool-max N`: the functions' DB_POOL_MAX (default: theirs, 1 connection per isolate). */
const poolMaxAt = Deno.args.indexOf("--pool-max");
const POOL_MAX = poolMaxAt >= 0 ? Deno.args[poolMaxAt + 1] : undefined;
const CONCURRENCY = 20;
const WARMUP = 20;
const USERS = 100;

/** CPU time (ms) of each thread of this process and of the isolate, from /proc. */
function cpuSnapshot(isolatePid: number | undefined): Map<string, number> {
  const ticks = (statPath: string) => {
    const stat = Deno.readTextFileSync(statPath);
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return {
      name: stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")")),
      ms: (Number(fields[11]) + Number(fields[12])) * 10,
    };
  };
  const out = new Map<string, number>();
  for (const task of Deno.readDirSync(`/proc/${Deno.pid}/task`)) {
    try {
      const { name, ms } = ticks(`/proc/${Deno.pid}/task/${task.name}/stat`);
      const label = task.name === String(Deno.pid)
        ? "main thread (client, API, gateway)"
        : name.startsWith("worker")
        ? "database thread (PGlite, pooler)"
        : "V8 helper threads";
      out.set(label, (out.get(label) ?? 0) + ms);
    } catch {
      // the thread ended
    }
  }
  if (isolatePid) out.set("webhooks isolate", ticks(`/proc/${isolatePid}/stat`).ms);
  return out;
}

function reportCpu(before: Map<string, number>, after: Map<string, number>, events: number) {
  const parts = [...after].map(([k, v]) =>
    `${k} ${((v - (before.get(k) ?? 0)) / events).toFixed(2)}`
  );
  console.log(`  CPU ms per event: ${parts.join(", ")}`);
}

interface Phase {
  p50: number;
  p99: number;
  perSecond: number;
}

function report(name: string, latencies: number[], wallMs: number): Phase {
  const s = [...latencies].sort((a, b) => a - b);
  const f = (n: number) => n.toFixed(1).padStart(7);
  console.log(
    `${name.padEnd(34)} n=${s.length}  p50 ${f(percentile(s, 50))} ms  p90 ${
      f(percentile(s, 90))
    } ms  p99 ${f(percentile(s, 99))} ms  max ${f(s[s.length - 1]!)} ms  ${
      (s.length / (wallMs / 1000)).toFixed(0)
    } events/s`,
  );
  return { p50: percentile(s, 50), p99: percentile(s, 99), perSecond: s.length / (wallMs / 1000) };
}

async function benchWebhooks(engine: Engine): Promise<void> {
  const fake = startFakeRazorpay();
  const stripeFake = startFakeStripe();
  const stack = await startStack({
    apiPort: 0,
    dbPort: 0,
    dbUrl: engine.dbUrl,
    autoWorker: false,
    functionEnv: {
      RAZORPAY_WEBHOOK_SECRET: fake.webhookSecret,
      STRIPE_WEBHOOK_SECRET: stripeFake.webhookSecret,
      ...(POOL_MAX ? { DB_POOL_MAX: POOL_MAX } : {}),
    },
  });
  const sql = getDb();
  const url = `${stack.apiUrl}/functions/v1/webhooks/razorpay`;
  const direct = createDb(stack.dbUrl, { max: CONCURRENCY });

  try {
    // Setup (not measured): users with wallets, and one `created` order per event.
    const users = await sql<{ id: string }[]>`
    insert into auth.users (id, email)
    select gen_random_uuid(), 'bench-' || g || '-' || extract(epoch from now()) || '@example.com'
      from generate_series(1, ${USERS}) g
    returning id`;
    const total = WARMUP + 3 * N;
    const events: SignedWebhook[] = [];
    const rows = [];
    for (let i = 0; i < total; i++) {
      const orderId = `order_Bench${String(i).padStart(9, "0")}`;
      rows.push({
        user_id: users[i % USERS]!.id,
        plan_id: "lite",
        razorpay_order_id: orderId,
        amount_paise: 49900,
        receipt: `rcpt_bench_${i}_${Date.now()}`,
      });
      const payment = {
        id: `pay_Bench${String(i).padStart(11, "0")}`,
        entity: "payment" as const,
        amount: 49900,
        currency: "INR",
        status: "captured" as const,
        order_id: orderId,
        method: "upi",
        amount_refunded: 0,
        captured: true,
        email: "bench@example.com",
        contact: "+919000090000",
        notes: {},
        created_at: Math.floor(Date.now() / 1000),
      };
      events.push(await fake.webhook("payment.captured", { payment }));
    }
    for (let i = 0; i < rows.length; i += 500) {
      await sql`insert into public.payments ${sql(rows.slice(i, i + 500))}`;
    }

    const outcomes = new Map<string, number>();
    const deliver = async (wh: SignedWebhook): Promise<number> => {
      const t = performance.now();
      const res = await fetch(url, { method: "POST", headers: wh.headers, body: wh.body });
      const body = await res.json();
      const ms = performance.now() - t;
      const key = res.status === 200 ? body.outcome : `HTTP ${res.status}`;
      outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
      return ms;
    };

    for (const wh of events.slice(0, WARMUP)) await deliver(wh);
    outcomes.clear();

    const isolate = () => stack.gateway.pidOf("webhooks");
    const sequential: number[] = [];
    let cpu = cpuSnapshot(isolate());
    let t = performance.now();
    for (const wh of events.slice(WARMUP, WARMUP + N)) sequential.push(await deliver(wh));
    const viaHttpSeq = report("webhook ack, sequential", sequential, performance.now() - t);
    reportCpu(cpu, cpuSnapshot(isolate()), N);

    const concurrent: number[] = [];
    const queue = events.slice(WARMUP + N, WARMUP + 2 * N);
    cpu = cpuSnapshot(isolate());
    t = performance.now();
    await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
      for (let wh = queue.shift(); wh; wh = queue.shift()) concurrent.push(await deliver(wh));
    }));
    const viaHttp = report(
      `webhook ack, ${CONCURRENCY} concurrent`,
      concurrent,
      performance.now() - t,
    );
    reportCpu(cpu, cpuSnapshot(isolate()), N);

    // The reference: the function's one statement, straight to the database (same pooler URL the
    // functions use), 20 connections, no HTTP, no signature check, no function.
    const applyDirect = async (wh: SignedWebhook): Promise<number> => {
      const t = performance.now();
      const event = JSON.parse(wh.body) as { event: string };
      const [{ result }] = await direct<{ result: { outcome: string } }[]>`
      select private.handle_razorpay_event(${wh.eventId}, ${event.event}, ${wh.body}::text::jsonb)
        as result`;
      const ms = performance.now() - t;
      outcomes.set(`direct ${result.outcome}`, (outcomes.get(`direct ${result.outcome}`) ?? 0) + 1);
      return ms;
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, () => direct`select 1`));
    const sqlLatencies: number[] = [];
    const sqlQueue = events.slice(WARMUP + 2 * N);
    t = performance.now();
    await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
      for (let wh = sqlQueue.shift(); wh; wh = sqlQueue.shift()) {
        sqlLatencies.push(await applyDirect(wh));
      }
    }));
    const viaSql = report(
      `same SQL direct, ${CONCURRENCY} connections`,
      sqlLatencies,
      performance.now() - t,
    );
    console.log("outcomes:", Object.fromEntries(outcomes));
    console.log(`ratios (${engine.name}):`);
    printRatio(
      `throughput 20 concurrent webhooks / same SQL direct`,
      viaHttp.perSecond / viaSql.perSecond,
      { op: "≥", bound: 0.5 },
      `${viaHttp.perSecond.toFixed(0)} / ${viaSql.perSecond.toFixed(0)} events/s`,
    );
    printRatio(
      `p99 / p50 of 20 concurrent webhooks`,
      viaHttp.p99 / viaHttp.p50,
      { op: "≤", bound: 3 },
      `${viaHttp.p99.toFixed(1)} / ${viaHttp.p50.toFixed(1)} ms`,
    );
    const [{ n }] = await sql<{ n: number }[]>`select count(*)::int as n from public.wallet_usage
    where reason = 'purchase' and reference_id like 'pay_Bench%'`;
    console.log(`purchases credited: ${n} of ${total} events (warm-up included)`);

    // Stripe: one customer per user; one pack payment per event (signed just before sending, as the
    // signature's timestamp must be within 5 minutes).
    await sql`insert into public.billing_customers ${
      sql(
        users.map((u, i) => ({ provider: "stripe", customer_id: `cus_bench_${i}`, user_id: u.id })),
      )
    }`;
    const stripeUrl = `${stack.apiUrl}/functions/v1/webhooks/stripe`;
    const packEvent = (i: number) =>
      stripeFake.sign("checkout.session.completed", {
        id: `cs_bench_${i}`,
        object: "checkout.session",
        mode: "payment",
        customer: `cus_bench_${i % USERS}`,
        payment_intent: `pi_bench_${i}_${Date.now()}`,
        payment_status: "paid",
        status: "complete",
        amount_total: 1000,
        currency: "usd",
        metadata: { price_id: "pack-100-stripe-usd" },
      });
    const stripeEvents: SignedStripeEvent[] = [];
    for (let i = 0; i < total; i++) stripeEvents.push(await packEvent(i));
    const stripeOutcomes = new Map<string, number>();
    const deliverStripe = async (e: SignedStripeEvent): Promise<number> => {
      const t0 = performance.now();
      const res = await fetch(stripeUrl, { method: "POST", headers: e.headers, body: e.body });
      const body = await res.json();
      const ms = performance.now() - t0;
      const key = res.status === 200 ? body.outcome : `HTTP ${res.status}`;
      stripeOutcomes.set(key, (stripeOutcomes.get(key) ?? 0) + 1);
      return ms;
    };
    for (const e of stripeEvents.slice(0, WARMUP)) await deliverStripe(e);
    stripeOutcomes.clear();
    const stripeSeq: number[] = [];
    t = performance.now();
    for (const e of stripeEvents.slice(WARMUP, WARMUP + N)) stripeSeq.push(await deliverStripe(e));
    const stripeSeqPhase = report(
      "stripe webhook ack, sequential",
      stripeSeq,
      performance.now() - t,
    );
    const stripeConc: number[] = [];
    const stripeQueue = stripeEvents.slice(WARMUP + N, WARMUP + 2 * N);
    t = performance.now();
    await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
      for (let e = stripeQueue.shift(); e; e = stripeQueue.shift()) {
        stripeConc.push(await deliverStripe(e));
      }
    }));
    const stripeConcPhase = report(
      `stripe webhook ack, ${CONCURRENCY} concurrent`,
      stripeConc,
      performance.now() - t,
    );
    console.log("stripe outcomes:", Object.fromEntries(stripeOutcomes));
    for (
      const [mode, r, st] of [
        ["sequential", viaHttpSeq, stripeSeqPhase],
        [`${CONCURRENCY} concurrent`, viaHttp, stripeConcPhase],
      ] as const
    ) {
      printRatio(`stripe / razorpay p50, ${mode}`, st.p50 / r.p50, { op: "≤", bound: 1.5 });
      printRatio(`stripe / razorpay p99, ${mode}`, st.p99 / r.p99, { op: "≤", bound: 1.5 });
    }
  } finally {
    await direct.end({ timeout: 5 });
    await stack.stop();
    await fake.stop();
    await stripeFake.close();
  }
}

const done = benchStart("webhooks");
try {
  await forEachEngine(benchWebhooks);
} finally {
  done();
}
