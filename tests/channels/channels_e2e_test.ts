/**
 * The WhatsApp channel end to end on the local stack: ManyChat's External Request reaches
 * `POST /channels/manychat/{id}` through the gateway, the acknowledgement comes back as a Dynamic
 * Block, the database kicks `channel-worker` through pg_net, and the answer goes to a fake ManyChat
 * API on loopback (tests/fakes/manychat.ts) with the model behind a fake Groq
 * (local/fakes/groq.ts). Secrets, sizes, duplicates, follow-ups, opt-out, an empty wallet and the
 * 24-hour window.
 */
import assert from "node:assert/strict";
import { getDb } from "../../shared/db.ts";
import { startFakeGroq } from "../../local/fakes/groq.ts";
import { startFakeManyChat } from "../fakes/manychat.ts";
import { type Json, newWorkbench, text, uploadAndWait } from "../helpers/chat.ts";
import { documentedCall } from "../api/documented.ts";
import { eventuallyDispatched, signUpUser, startTestStack } from "../helpers/stack.ts";

/** Every answer of the channels routes is checked against docs/openapi.json. */
const call = documentedCall("channels");

const opts = { sanitizeOps: false, sanitizeResources: false };
const TOKEN = "mc-page-token-9876";

Deno.test("WhatsApp channel through ManyChat end to end", opts, async (t) => {
  const groq = startFakeGroq();
  const manychat = startFakeManyChat(TOKEN);
  const stack = await startTestStack({
    functionEnv: {
      GROQ_API_KEY: "gsk_test_key",
      GROQ_BASE_URL: groq.url,
      GROQ_MAX_RETRIES: "0",
      MANYCHAT_API_URL: manychat.url,
      CHANNEL_RETRY_BASE_SEC: "0",
      CHANNEL_MAX_ATTEMPTS: "2",
    },
  });
  const sql = getDb();
  const inbound = (channelId: string, secret: string | null, body: unknown) =>
    fetch(`${stack.apiUrl}/functions/v1/channels/manychat/${channelId}`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        ...(secret === null ? {} : { "x-channel-secret": secret }),
      },
      body: typeof body === "string" ? body : JSON.stringify(body),
    });
  const stored = async () =>
    (await sql<{ n: number }[]>`select count(*)::int as n from public.channel_messages`)[0]!.n;
  const sentTo = (subscriber: string) => manychat.sent.filter((s) => s.subscriberId === subscriber);
  const waitSends = (subscriber: string, n: number) =>
    eventuallyDispatched(
      () => Promise.resolve(sentTo(subscriber).length >= n ? sentTo(subscriber) : undefined),
      `${n} send(s) to ${subscriber}`,
      20_000,
    );
  const settle = async () => {
    // Nothing queued or being answered for any channel.
    await eventuallyDispatched(
      async () => {
        const [{ n }] = await sql<{ n: number }[]>`select count(*)::int as n
        from public.channel_messages where status in ('queued', 'sending')`;
        return n === 0 ? true : undefined;
      },
      "the channel queue to drain",
      20_000,
    );
  };
  try {
    const alice = await signUpUser(stack, "alice");
    const bob = await signUpUser(stack, "bob");
    const company = (await call(alice.client, "companies", { body: { name: "Acme" } })).body.id;
    const other = (await call(bob.client, "companies", { body: { name: "Bobco" } })).body.id;
    const wb = await newWorkbench(alice, "Acme docs", company);
    await uploadAndWait(alice, wb, [
      { name: "policy.txt", bytes: text("Refunds are accepted within 30 days of purchase.") },
      { name: "hours.txt", bytes: text("The shop opens at 9 am and closes at 6 pm.") },
    ]);
    const bobWb = await newWorkbench(bob, "Bob docs", other);

    let channel: Json;
    let secret: string;
    let bobChannel: string;
    await t.step("a company admin creates a channel; the secret is shown once", async () => {
      const res = await call(alice.client, "channels", {
        body: { company_id: company, workbench_id: wb, name: "WhatsApp", manychat_token: TOKEN },
      });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      channel = res.body;
      secret = res.body.inbound_secret;
      assert.match(secret, /^mcs_[0-9a-f]{64}$/);
      assert.equal(res.body.token_last4, "9876");
      assert.equal(res.body.ack_text, "OK, bien reçu");
      assert.equal(JSON.stringify(res.body).includes(TOKEN), false, "the token is not returned");
      const list = await call(alice.client, `channels?company_id=${company}`);
      assert.equal(list.body.items.length, 1);
      assert.equal(list.body.next_offset, null);
      assert.equal(list.body.items[0].inbound_secret, undefined);
      assert.equal(JSON.stringify(list.body).includes(TOKEN), false);
      const bobs = await call(bob.client, "channels", {
        body: { company_id: other, workbench_id: bobWb, name: "Bob WA", manychat_token: TOKEN },
      });
      bobChannel = bobs.body.id;
      const stolen = await call(bob.client, "channels", {
        body: { company_id: company, workbench_id: wb, name: "Nope", manychat_token: TOKEN },
      });
      assert.equal(stolen.status, 403);
    });

    await t.step(
      "a wrong, missing or other channel's secret is 401 and stores nothing",
      async () => {
        const before = await stored();
        const msg = { subscriber_id: "111", text: "Hello?" };
        for (
          const res of [
            await inbound(channel.id, "mcs_wrong", msg),
            await inbound(channel.id, null, msg),
            await inbound(bobChannel, secret, msg),
            await inbound("not-a-uuid", secret, msg),
          ]
        ) {
          assert.equal(res.status, 401);
          assert.equal((await res.json()).error.code, "invalid_channel_secret");
        }
        assert.equal(await stored(), before);
      },
    );

    await t.step("a body over 64 KB is 413, a malformed one 400", async () => {
      const huge = await inbound(channel.id, secret, {
        subscriber_id: "111",
        text: "x".repeat(70 * 1024),
      });
      assert.equal(huge.status, 413);
      await huge.body?.cancel();
      const bad = await inbound(channel.id, secret, { text: "no subscriber" });
      assert.equal(bad.status, 400);
      assert.equal((await bad.json()).error.code, "validation_failed");
      const notJson = await inbound(channel.id, secret, "{");
      assert.equal(notJson.status, 400);
      await notJson.body?.cancel();
    });

    await t.step("the acknowledgement comes at once; the cited answer follows", async () => {
      groq.setMode("cite");
      const res = await inbound(channel.id, secret, {
        subscriber_id: 111,
        text: "Within how many days are refunds accepted?",
        message_id: "wamid-1",
        phone: "+33612345678",
      });
      assert.equal(res.status, 200);
      assert.deepEqual(await res.json(), {
        version: "v2",
        content: { type: "whatsapp", messages: [{ type: "text", text: "OK, bien reçu" }] },
      });
      const [sent] = await waitSends("111", 1);
      assert.match(sent!.texts[0]!, /30 days/);
      assert.match(sent!.texts[0]!, /\n\[1\] policy\.txt/);
      await settle();
      const list = await call(alice.client, `channels/${channel.id}/messages?limit=2`);
      assert.deepEqual(list.body.items.map((m: Json) => [m.direction, m.status]), [
        ["outbound", "sent"],
        ["inbound", "answered"],
      ]);
      assert.equal(list.body.items[1].phone_masked, "••••••••5678");
      assert.equal(JSON.stringify(list.body).includes("+336"), false);
      assert.equal(list.body.next_offset, null);
      const first = await call(alice.client, `channels/${channel.id}/messages?limit=1`);
      assert.equal(first.body.next_offset, 1);
    });

    await t.step("the same message three times, at once and in turn, gets one answer", async () => {
      const msg = { subscriber_id: "222", text: "When does the shop open?", message_id: "wamid-2" };
      const acks = await Promise.all([1, 2, 3].map(() => inbound(channel.id, secret, msg)));
      for (const a of acks) {
        assert.equal((await a.json()).content.messages[0].text, "OK, bien reçu");
      }
      for (let i = 0; i < 3; i++) await (await inbound(channel.id, secret, msg)).body?.cancel();
      // Without ManyChat's id: the same text in the same minute is the same message.
      const noId = { subscriber_id: "222", text: "And on Sundays?" };
      await Promise.all([1, 2, 3].map(async () => {
        await (await inbound(channel.id, secret, noId)).body?.cancel();
      }));
      await waitSends("222", 2);
      await settle();
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(sentTo("222").length, 2, "one answer per distinct message");
    });

    await t.step("a follow-up question sees the previous turn", async () => {
      const before = groq.requests.length;
      await (await inbound(channel.id, secret, {
        subscriber_id: "333",
        text: "What is the refund policy?",
        message_id: "wamid-3",
      })).body?.cancel();
      await waitSends("333", 1);
      await settle();
      await (await inbound(channel.id, secret, {
        subscriber_id: "333",
        text: "and for opened items?",
        message_id: "wamid-4",
      })).body?.cancel();
      await waitSends("333", 2);
      assert.equal(groq.requests.length, before + 2);
      const messages = groq.requests.at(-1)!.messages;
      assert.ok(
        messages.some((m) => m.role === "user" && m.content === "What is the refund policy?"),
        JSON.stringify(messages.map((m) => m.role)),
      );
      assert.ok(messages.some((m) => m.role === "assistant"));
    });

    await t.step("STOP opts out (no answer) until START", async () => {
      const stopMessage = { subscriber_id: "444", text: "STOP", message_id: "mc-stop-1" };
      const stop = await inbound(channel.id, secret, stopMessage);
      assert.match((await stop.json()).content.messages[0].text, /START/);
      const retried = await inbound(channel.id, secret, stopMessage);
      assert.match(
        (await retried.json()).content.messages[0].text,
        /START/,
        "ManyChat's retry of STOP gets the opt-out text again, not the acknowledgement",
      );
      const quietMessage = {
        subscriber_id: "444",
        text: "When does the shop open?",
        message_id: "mc-quiet-1",
      };
      const quiet = await inbound(channel.id, secret, quietMessage);
      assert.deepEqual((await quiet.json()).content.messages, []);
      const quietAgain = await inbound(channel.id, secret, quietMessage);
      assert.deepEqual((await quietAgain.json()).content.messages, [], "nor is its retry answered");
      await settle();
      assert.equal(sentTo("444").length, 0);
      await (await inbound(channel.id, secret, { subscriber_id: "444", text: "START" })).body
        ?.cancel();
      await (await inbound(channel.id, secret, {
        subscriber_id: "444",
        text: "When does the shop close?",
      })).body?.cancel();
      const [sent] = await waitSends("444", 1);
      assert.match(sent!.texts[0]!, /6 pm|9 am/);
    });

    await t.step("the 24-hour window refusal is a failure the tenant sees", async () => {
      manychat.closeWindow("555");
      await (await inbound(channel.id, secret, {
        subscriber_id: "555",
        text: "Do you open at 9 am?",
      })).body?.cancel();
      await settle();
      const list = await call(alice.client, `channels/${channel.id}/messages?limit=2`);
      const [out, inn] = list.body.items;
      assert.deepEqual([out.status, inn.status], ["failed", "failed"]);
      assert.match(inn.error, /24 hour/);
      const status = await call(alice.client, `channels/${channel.id}/status`);
      assert.equal(status.status, 200);
      assert.equal(status.body.failures_last_day, 1);
      assert.equal(status.body.queue_depth, 0);
    });

    await t.step(
      "a figure is looked up in the cells, as chat does, and given to the model",
      async () => {
        await uploadAndWait(alice, wb, [{
          name: "plans.csv",
          bytes: text("Plan,FY2024,FY2025\nBasic,1200,1500\nDeluxe,4800,5400\n"),
        }]);
        const before = groq.requests.length;
        await (await inbound(channel.id, secret, {
          subscriber_id: "888",
          text: "What was the Deluxe plan's price in FY2025?",
          message_id: "wamid-figure",
        })).body?.cancel();
        await waitSends("888", 1);
        assert.equal(groq.requests.length, before + 1);
        const prompt = groq.requests.at(-1)!.messages.map((m) => m.content).join("\n");
        assert.match(prompt, /FIGURES FROM THE CELLS/);
        assert.match(prompt, /Deluxe, FY2025: 5400 \(plans\.csv, row 3, column FY2025 \(C\)\)/);
      },
    );

    await t.step("an empty company wallet gets the polite text and no model call", async () => {
      // The company's wallet pays for its channel's answers (it starts empty; nothing to drain).
      assert.equal(
        (await sql`select balance from public.wallet where user_id = ${company}`)[0].balance,
        0,
      );
      // Nine answers into the bundle: the tenth would need a credit.
      await sql`select private.record_chat_inference(${company}, 'warmup-' || g)
                  from generate_series(1, 9 - (select coalesce(max(chat_inference_counter), 0)
                    from public.wallet_counters where user_id = ${company})) g`;
      const [{ ok }] = await sql`select private.can_afford_chat(${company}) as ok`;
      assert.equal(ok, false);
      const before = groq.requests.length;
      await (await inbound(channel.id, secret, {
        subscriber_id: "666",
        text: "When does the shop open?",
      })).body?.cancel();
      const [sent] = await waitSends("666", 1);
      assert.equal(sent!.texts[0], channel.unavailable_text);
      assert.equal(groq.requests.length, before, "the model got no request");
      const status = await call(alice.client, `channels/${channel.id}/status`);
      assert.equal(status.body.unavailable_last_day, 1);
      assert.equal(status.body.wallet_can_pay, false);
    });

    await t.step("an admin erases one subscriber and their messages", async () => {
      const before = await call(alice.client, `channels/${channel.id}/messages?limit=100`);
      const ref = before.body.items.find((m: Json) => m.subscriber_id === "111").subscriber_ref;
      const other = await call(bob.client, `channels/${channel.id}/subscribers/${ref}`, {
        method: "DELETE",
      });
      assert.equal(other.status, 404);
      const res = await call(alice.client, `channels/${channel.id}/subscribers/${ref}`, {
        method: "DELETE",
      });
      assert.equal(res.status, 204);
      const after = await call(alice.client, `channels/${channel.id}/messages?limit=100`);
      assert.equal(after.body.items.some((m: Json) => m.subscriber_id === "111"), false);
      assert.equal(after.body.items.length, before.body.items.length - 2);
    });

    await t.step("rotating the secret retires the old one", async () => {
      const res = await call(alice.client, `channels/${channel.id}/rotate-secret`, { body: {} });
      assert.equal(res.status, 200);
      const old = await inbound(channel.id, secret, { subscriber_id: "777", text: "Hi" });
      assert.equal(old.status, 401);
      await old.body?.cancel();
      const fresh = await inbound(channel.id, res.body.inbound_secret, {
        subscriber_id: "777",
        text: "Hi",
      });
      assert.equal(fresh.status, 200);
      await fresh.body?.cancel();
      const del = await call(bob.client, `channels/${channel.id}`, { method: "DELETE" });
      assert.equal(del.status, 404, "another tenant cannot see it");
    });
  } finally {
    await stack.stop();
    await groq.stop();
    await manychat.stop();
  }
});
