/**
 * The channel under real concurrency, on a native multi-connection PostgreSQL with every migration
 * applied (tests/helpers/postgres.ts): the same inbound message received on many connections at
 * once is stored and queued once; two workers kicked at once answer a message once; and a worker
 * stopped after sendContent and before recording it sends no second answer when the message comes
 * back. The worker runs in-process (`processQueue`) against a fake ManyChat and a counting model.
 */
import assert from "node:assert/strict";
import { createLocalEmbedder } from "../../shared/embeddings.ts";
import type { LlmClient } from "../../shared/llm/mod.ts";
import type { ManyChatClient } from "../../shared/manychat.ts";
import type { JwtVerifier } from "../../shared/auth.ts";
import {
  type ChannelWorkerDeps,
  DEFAULT_CHANNEL_WORKER_CONFIG,
} from "../../functions/channel-worker/deps.ts";
import { processQueue } from "../../functions/channel-worker/worker.ts";
import { createManyChatClient } from "../../shared/manychat.ts";
import { startFakeManyChat } from "../fakes/manychat.ts";
import { needsMigratedPostgres, withMigratedPostgres } from "../helpers/postgres.ts";

const ignore = needsMigratedPostgres();
const TOKEN = "mc-race-token-0001";

function countingLlm(): LlmClient & { calls: number } {
  const llm = {
    calls: 0,
    model: "fake-model",
    complete() {
      llm.calls++;
      return Promise.resolve({
        text: "Refunds within 30 days [1].",
        model: "fake-model",
        usage: { prompt_tokens: 1, completion_tokens: 1 },
      });
    },
    stream() {
      throw new Error("not used");
    },
  };
  return llm as unknown as LlmClient & { calls: number };
}

Deno.test({
  name: "channel messages under concurrency: stored once, answered once, never sent twice",
  ignore,
  sanitizeOps: false,
  sanitizeResources: false,
}, async (t) => {
  const manychat = startFakeManyChat(TOKEN);
  try {
    await withMigratedPostgres(20, async ({ admin, pool }) => {
      const [{ id: owner }] = await admin`insert into auth.users (id, email)
        values (gen_random_uuid(), 'owner@example.com') returning id`;
      const [{ id: company }] = await admin`insert into public.company (name, created_by)
        values ('Acme', ${owner}) returning id`;
      const [{ id: wb }] = await admin`insert into public.workbench (name, owner_user_id,
        company_id) values ('Docs', ${owner}, ${company}) returning id`;
      const [{ id: channel }] = await admin`select private.create_channel(${owner}, ${company},
        ${wb}, 'WA', ${TOKEN}, sha256('s'::bytea)) as id`;
      const receive = (subscriber: string, text: string, messageId: string | null) =>
        pool`select private.receive_channel_message(${channel}, ${subscriber}, ${text},
          ${messageId}) ->> 'status' as status`.then((r) => r[0]!.status as string);
      const llm = countingLlm();
      const deps = (client: ManyChatClient): ChannelWorkerDeps => ({
        sql: () => pool,
        verifier: {} as JwtVerifier,
        embedder: createLocalEmbedder(),
        llm,
        manychat: client,
        config: { ...DEFAULT_CHANNEL_WORKER_CONFIG, retryBaseSec: 0 },
      });
      const real = createManyChatClient(manychat.url);

      await t.step("one message received 12 times at once is stored and queued once", async () => {
        const got = await Promise.all(
          Array.from({ length: 12 }, () => receive("s1", "Refund policy?", "wamid-1")),
        );
        assert.deepEqual(got.filter((s) => s === "queued").length, 1, got.join());
        assert.deepEqual(got.filter((s) => s === "duplicate").length, 11);
        const hashed = await Promise.all(
          Array.from({ length: 12 }, () => receive("s1", "Without an id", null)),
        );
        assert.equal(hashed.filter((s) => s === "queued").length, 1, hashed.join());
        const [{ n }] = await admin`select count(*)::int as n from pgmq.q_channel_inbound`;
        assert.equal(n, 2);
      });

      await t.step("two workers kicked at once answer each message once", async () => {
        await Promise.all([processQueue(deps(real)), processQueue(deps(real))]);
        assert.equal(manychat.sent.filter((s) => s.subscriberId === "s1").length, 2);
        assert.equal(llm.calls, 2);
        const [{ n }] = await admin`select count(*)::int as n from public.channel_messages
          where direction = 'inbound' and status = 'answered'`;
        assert.equal(n, 2);
      });

      await t.step("a worker stopped after sendContent sends nothing more on restart", async () => {
        let sent!: () => void;
        const wasSent = new Promise<void>((r) => (sent = r));
        // Sends, then never returns: the worker "dies" before it records the send.
        const dying: ManyChatClient = {
          async sendContent(token, subscriber, block) {
            await real.sendContent(token, subscriber, block);
            sent();
            return await new Promise<never>(() => {});
          },
        };
        assert.equal(await receive("s2", "Opening hours?", "wamid-2"), "queued");
        void processQueue(deps(dying));
        await wasSent;
        assert.equal(manychat.sent.filter((s) => s.subscriberId === "s2").length, 1);
        // The message comes back (its visibility timeout passed) to a fresh worker.
        await admin`update pgmq.q_channel_inbound set vt = clock_timestamp()`;
        const calls = llm.calls;
        const step = await processQueue(deps(real));
        assert.equal(step.handled, 1);
        assert.equal(manychat.sent.filter((s) => s.subscriberId === "s2").length, 1, "not resent");
        assert.equal(llm.calls, calls, "the recorded answer is reused, no second model call");
        const rows = await admin`select m.direction, m.status from public.channel_messages m
          join public.channel_subscribers s on s.id = m.subscriber_ref
          where s.subscriber_id = 's2' order by m.direction`;
        assert.deepEqual(rows.map((r) => [r.direction, r.status]), [
          ["inbound", "answered"],
          ["outbound", "unconfirmed"],
        ]);
        const [{ counter }] = await admin`select chat_inference_counter as counter
          from public.wallet_counters where user_id = ${company}`;
        assert.equal(counter, 3, "three answers counted, once each, on the company's wallet");
      });

      const statusOf = async (subscriber: string) =>
        (await admin`select m.direction, m.status, m.attempts, m.error
           from public.channel_messages m
           join public.channel_subscribers s on s.id = m.subscriber_ref
          where s.subscriber_id = ${subscriber} order by m.direction`).map((r) => ({ ...r }));
      const comeBack = () => admin`update pgmq.q_channel_inbound set vt = clock_timestamp()`;

      await t.step("a ManyChat 500 is retried, and the part is sent once it recovers", async () => {
        manychat.setMode("fail");
        assert.equal(await receive("s3", "Opening hours?", "wamid-3"), "queued");
        assert.deepEqual((await processQueue(deps(real))).outcomes, ["retry"]);
        const [inn, out] = await statusOf("s3");
        assert.deepEqual([inn!.status, out!.status], ["queued", "sending"]);
        assert.match(String(out!.error), /ManyChat: Internal server error/);
        manychat.setMode("ok");
        await comeBack();
        assert.deepEqual((await processQueue(deps(real))).outcomes, ["answered"]);
        assert.equal(manychat.sent.filter((s) => s.subscriberId === "s3").length, 1);
        const [, sent] = await statusOf("s3");
        assert.deepEqual([sent!.status, sent!.attempts], ["sent", 2]);
      });

      await t.step(
        "after the last attempt the message is failed with a readable reason",
        async () => {
          manychat.setMode("fail");
          assert.equal(await receive("s4", "Opening hours?", "wamid-4"), "queued");
          const twice = { ...deps(real), config: { ...deps(real).config, maxAttempts: 2 } };
          assert.deepEqual((await processQueue(twice)).outcomes, ["retry"]);
          await comeBack();
          assert.deepEqual((await processQueue(twice)).outcomes, ["failed"]);
          manychat.setMode("ok");
          const [inn, out] = await statusOf("s4");
          assert.deepEqual([inn!.status, out!.status], ["failed", "failed"]);
          assert.match(String(inn!.error), /ManyChat: Internal server error/);
          const [{ n }] = await admin`select count(*)::int as n from pgmq.q_channel_inbound`;
          assert.equal(n, 0, "nothing is left queued");
        },
      );
    });
  } finally {
    await manychat.stop();
  }
});
