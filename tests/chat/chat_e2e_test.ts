/**
 * Chat end to end with the language model: a fake Groq server on loopback (the OpenAI-compatible
 * wire format, streaming included) behind `GROQ_BASE_URL`, through supabase-js against the local
 * stack. Citations, SSE, injected instructions, failures that count nothing, one answer at a time,
 * tenants and viewers, deleted files, 402 before any model call, bundles of 10 answers, and the
 * per-user rate limit.
 */
import assert from "node:assert/strict";
import { SYSTEM_PROMPT } from "../../shared/chat/mod.ts";
import { getDb } from "../../shared/db.ts";
import { DEFAULT_GROQ_MODEL } from "../../shared/runtime_config.ts";
import { startFakeGroq } from "../../local/fakes/groq.ts";
import { injectedDocument, INJECTION } from "../fixtures/chat_documents.ts";
import { makeDocx } from "../fixtures/documents.ts";
import {
  ask,
  askStream,
  call,
  type Json,
  newWorkbench,
  openSession,
  parsed,
  text,
  uploadAndWait,
} from "../helpers/chat.ts";
import {
  eventually,
  invitationToken,
  signUpUser,
  startTestStack,
  type TestUser,
} from "../helpers/stack.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };
const ZEBRA = "What did the board approve about the zebra acquisition?";

Deno.test("chat with a language model end to end", opts, async (t) => {
  const groq = startFakeGroq();
  const stack = await startTestStack({
    functionEnv: {
      GROQ_API_KEY: "gsk_test_key",
      GROQ_BASE_URL: groq.url,
      GROQ_TIMEOUT_MS: "2500",
      GROQ_MAX_RETRIES: "0",
    },
  });
  const sql = getDb();
  /** The caller's wallet, or with `companyId` the company's (which pays on its workbenches). */
  const wallet = async (u: TestUser, companyId?: string) =>
    (await call(u.client, companyId ? `wallet?company_id=${companyId}` : "wallet")).body;
  const smallWorkbench = async (u: TestUser, fact: string) => {
    const wb = await newWorkbench(u, "Mine");
    await uploadAndWait(u, wb, [{ name: "facts.txt", bytes: text(fact) }]);
    return await openSession(u, wb);
  };
  try {
    const alice = await signUpUser(stack, "alice");
    const bob = await signUpUser(stack, "bob");
    const dave = await signUpUser(stack, "dave");
    const company = (await call(alice.client, "companies", { body: { name: "Acme" } })).body.id;
    // Answers on the company's workbench are paid by the company's wallet (docs/billing.md).
    await sql`select public.admin_grant_credits(${company}, 10, 'chat-e2e', 'the company pays')`;
    const invite = await call(alice.client, `companies/${company}/invitations`, {
      body: { email: dave.email, role: "member" },
    });
    assert.equal(
      (await call(dave.client, `invitations/${invite.body.id}/accept`, {
        body: { token: await invitationToken(stack, dave.email, invite.body.id) },
      })).status,
      200,
    );
    const wb = await newWorkbench(alice, "Acme books", company);
    const files = await uploadAndWait(alice, wb, [
      {
        name: "memo.docx",
        bytes: makeDocx([
          { heading: "Board memo", level: 1 },
          { paragraph: "The board approved the zebra acquisition for 42 million dollars." },
        ]),
      },
      { name: "notes.txt", bytes: text("Staff notes. The offsite will be in Lisbon in May.") },
      {
        name: "ledger.csv",
        bytes: text("date,account,amount\n2026-01-02,cash,120\n2026-02-14,escrow,98765\n"),
      },
      injectedDocument(),
    ]);
    for (const f of Object.values(files)) assert.equal(f.status, "indexed", f.file_name);
    const session = await openSession(alice, wb);

    await t.step("the model's answer cites the one file that holds it first", async () => {
      groq.setMode("cite");
      const res = await ask(alice, session, ZEBRA);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      const { message, sources, usage, wallet: w } = res.body;
      assert.equal(sources[0].file_name, "memo.docx");
      assert.equal(sources[0].number, 1);
      assert.match(message.content, /zebra acquisition for 42 million dollars.*\[1\]/);
      assert.equal(message.model, DEFAULT_GROQ_MODEL);
      assert.ok(usage.prompt_tokens > 0 && usage.completion_tokens > 0);
      assert.deepEqual([w.counted, w.chat_inference_counter], [true, 1]);
      const req = groq.requests.at(-1)!;
      assert.equal(req.model, DEFAULT_GROQ_MODEL);
      assert.equal(req.messages[0]!.content, SYSTEM_PROMPT);
    });

    await t.step("a follow-up searches with the previous turn and the model sees it", async () => {
      groq.setMode("cite");
      const fy = await newWorkbench(alice, "Years");
      await uploadAndWait(alice, fy, [
        { name: "fy2024.txt", bytes: text("Revenue for 2024 reached 10.2 million.") },
        { name: "fy2025.txt", bytes: text("Revenue for 2025 reached 12.9 million.") },
        { name: "hiring.txt", bytes: text("In 2025 we plan to hire 40 engineers in Pune.") },
      ]);
      const s = await openSession(alice, fy);
      const first = await ask(alice, s, "What was revenue in 2024?");
      assert.equal(first.body.sources[0].file_name, "fy2024.txt");
      const next = await ask(alice, s, "and in 2025?");
      assert.equal(next.status, 200);
      // Ranking within the passages is retrieval's (shared/retrieval); here: the 2025 figure is
      // found and comes before 2024's, and the model sees the earlier turn.
      const req = groq.requests.at(-1)!;
      const prompt = req.messages.at(-1)!.content;
      assert.ok(prompt.indexOf("File: fy2025.txt") >= 0, prompt);
      assert.ok(
        prompt.indexOf("File: fy2025.txt") < prompt.indexOf("File: fy2024.txt") ||
          prompt.indexOf("File: fy2024.txt") < 0,
      );
      assert.ok(next.body.sources.some((x: Json) => x.file_name === "fy2025.txt"));
      assert.deepEqual(req.messages.slice(1, 3).map((m) => m.role), ["user", "assistant"]);
      assert.equal(req.messages[1]!.content, "What was revenue in 2024?");
      assert.ok(req.messages.at(-1)!.content.endsWith("QUESTION: and in 2025?"));
    });

    await t.step("citations that match no passage are removed", async () => {
      groq.setMode("invent");
      const res = await ask(alice, session, "What was revenue?");
      assert.equal(res.status, 200);
      assert.equal(
        res.body.message.content,
        "Revenue was 999 million. Per the files, see [1] and also.",
      );
      assert.deepEqual(res.body.sources.map((s: Json) => s.number), [1]);
      const flagged = res.body.warnings.filter((w: Json) => w.code === "unverified_figure");
      assert.deepEqual(flagged.map((w: Json) => w.number), ["999 million"]);
      assert.match(flagged[0].message, /999 million/);
      const history = await call(alice.client, `chat/sessions/${session}/messages?limit=1`);
      assert.deepEqual(history.body.messages[0].warnings, res.body.warnings);
    });

    await t.step(
      "a figure quoted from a cited passage is not flagged, in JSON and SSE",
      async () => {
        groq.setMode("figure");
        const res = await ask(alice, session, "Which account had an amount of 98765?");
        assert.equal(res.status, 200);
        assert.match(res.body.message.content, /^The figure is ₹[\d,.]+ \[1\]\.$/);
        assert.deepEqual(res.body.warnings.filter((w: Json) => w.code === "unverified_figure"), []);
        groq.setMode("invent");
        const { events } = await askStream(alice, session, "What was revenue?");
        const done = parsed(events.at(-1)!);
        assert.equal(events.at(-1)!.event, "done");
        assert.deepEqual(
          done.warnings.filter((w: Json) => w.code === "unverified_figure").map((w: Json) =>
            w.number
          ),
          ["999 million"],
        );
        groq.setMode("figure");
        const ok = parsed(
          (await askStream(alice, session, "What was the escrow amount?")).events.at(-1)!,
        );
        assert.deepEqual(ok.warnings.filter((w: Json) => w.code === "unverified_figure"), []);
        // The figure from the cells reaches the model inside a fence, before the sources.
        const prompt = groq.requests.at(-1)!.messages.at(-1)!.content;
        assert.match(
          prompt,
          /FIGURES FROM THE CELLS[^\n]*\n(`{3,})text\n- escrow, amount: 98765 \(ledger\.csv, row 3, column amount \(C\)\)[^\n]*\n\1\n/,
        );
        assert.ok(prompt.indexOf("FIGURES FROM THE CELLS") < prompt.indexOf("SOURCES:"));
      },
    );

    await t.step("SSE: meta, then deltas, then done with the JSON body", async () => {
      groq.setMode("cite");
      const { status, events } = await askStream(alice, session, ZEBRA);
      assert.equal(status, 200);
      assert.equal(events[0]!.event, "meta");
      const meta = parsed(events[0]!);
      assert.equal(meta.session_id, session);
      const deltas = events.slice(1, -1);
      assert.ok(deltas.length > 3 && deltas.every((e) => e.event === "delta"));
      const done = events.at(-1)!;
      assert.equal(done.event, "done");
      const body = parsed(done);
      assert.equal(deltas.map((e) => parsed(e).text).join(""), body.message.content);
      assert.equal(body.message.id, meta.assistant_message_id);
      assert.equal(body.message.user_message_id, meta.user_message_id);
      assert.equal(body.sources[0].file_name, "memo.docx");
      assert.deepEqual(Object.keys(body).sort(), [
        "message",
        "sources",
        "usage",
        "wallet",
        "warnings",
      ]);
      const history = await call(alice.client, `chat/sessions/${session}/messages?limit=1`);
      assert.equal(history.body.messages[0].id, meta.assistant_message_id);
      assert.equal(history.body.messages[0].sources[0].file_name, "memo.docx");
    });

    await t.step(
      "an SSE client that goes away mid-answer: the model call aborted, the answer saved as interrupted, nothing counted",
      async () => {
        const before = await wallet(alice, company);
        groq.setMode("cite", { chunkDelayMs: 40 });
        const sent = groq.requests.length;
        const { events } = await askStream(alice, session, ZEBRA, { abortAfterDeltas: 3 });
        assert.ok(!events.some((e) => e.event === "done"));
        const meta = parsed(events[0]!);
        const shown = events.filter((e) => e.event === "delta").map((e) => parsed(e).text).join("");
        assert.equal(groq.requests.length, sent + 1);
        await eventually(
          () => Promise.resolve(groq.requests.at(-1)!.aborted || undefined),
          "the model request to be aborted",
        );
        const saved = await eventually(async () => {
          const page = await call(alice.client, `chat/sessions/${session}/messages?limit=1`);
          const last = page.body.messages[0];
          return last?.id === meta.assistant_message_id ? last : undefined;
        }, "the interrupted answer to be saved");
        assert.equal(saved.status, "interrupted");
        assert.ok(
          saved.content.length > 0 && saved.content.startsWith(shown.trim()),
          saved.content,
        );
        const after = await wallet(alice, company);
        assert.deepEqual(
          [after.chat_inference_counter, after.balance],
          [before.chat_inference_counter, before.balance],
        );
        groq.setMode("cite");
        const next = await ask(alice, session, ZEBRA);
        assert.equal(next.status, 200, "the session answers again");
        assert.equal(next.body.message.status, "complete");
        assert.ok(saved.content.length < next.body.message.content.length, "the text is partial");
        assert.equal(next.body.wallet.chat_inference_counter, before.chat_inference_counter + 1);
      },
    );

    await t.step(
      "a JSON client that goes away before the answer: the model call aborted, interrupted, nothing counted",
      async () => {
        const before = await wallet(alice, company);
        const interrupted = async () =>
          (await sql`select count(*)::int as n from public.message
                      where session_id = ${session} and status = 'interrupted'`)[0]!.n;
        const already = await interrupted();
        groq.setMode("cite", { delayMs: 1500 });
        const sent = groq.requests.length;
        const client = new AbortController();
        const pending = alice.client.functions.invoke(`chat/sessions/${session}/messages`, {
          body: { content: ZEBRA },
          signal: client.signal,
        }).catch(() => undefined);
        await eventually(
          () => Promise.resolve(groq.requests.length > sent || undefined),
          "the model request",
        );
        client.abort();
        await pending;
        await eventually(
          () => Promise.resolve(groq.requests.at(-1)!.aborted || undefined),
          "the model request to be aborted",
        );
        await eventually(
          async () => (await interrupted()) === already + 1 || undefined,
          "the answer saved as interrupted",
        );
        const after = await wallet(alice, company);
        assert.deepEqual(
          [after.chat_inference_counter, after.balance],
          [before.chat_inference_counter, before.balance],
        );
        groq.setMode("cite");
        assert.equal((await ask(alice, session, ZEBRA)).status, 200, "the session answers again");
      },
    );

    await t.step("instructions inside a document stay quoted; the rules stay", async () => {
      groq.setMode("echo");
      const res = await ask(alice, session, "What are the walrus vendor contract terms?");
      assert.equal(res.status, 200);
      const req = groq.requests.at(-1)!;
      assert.equal(req.messages.filter((m) => m.role === "system").length, 1);
      assert.equal(req.messages[0]!.content, SYSTEM_PROMPT);
      const user = req.messages.at(-1)!.content;
      const fenced = /\n(`{3,})text\nFile: vendor_terms\.md\n[\s\S]*?\n\1\n/.exec(user);
      assert.ok(fenced, user);
      assert.ok(fenced[0].includes(INJECTION), "the injection is inside the fence");
      assert.equal(user.split(INJECTION).length, 2, "and nowhere else");
      assert.ok(user.indexOf("SOURCES:") < user.indexOf(INJECTION));
      assert.ok(user.indexOf(INJECTION) < user.indexOf("QUESTION:"));
      assert.ok(res.body.sources.some((s: Json) => s.file_name === "vendor_terms.md"));
    });

    await t.step(
      "a failing or silent model: 502/503, the question saved, nothing counted",
      async () => {
        const before = await wallet(alice, company);
        const historyBefore =
          (await call(alice.client, `chat/sessions/${session}/messages?limit=100`))
            .body.messages.length;
        groq.setMode("fail");
        const failed = await ask(alice, session, "Q1?");
        assert.equal(failed.status, 502);
        assert.equal(failed.body.error.code, "llm_unavailable");
        assert.ok(failed.body.error.request_id);
        assert.match(failed.body.error.details.upstream_request_id, /^req_/);
        groq.setMode("rate_limit", { retryAfter: 7 });
        const limited = await ask(alice, session, "Q2?");
        assert.equal(limited.status, 503);
        assert.equal(limited.headers.get("retry-after"), "7");
        groq.setMode("hang");
        const slow = await ask(alice, session, "Q3?");
        assert.equal(slow.status, 502);
        assert.match(slow.body.error.message, /in time/);
        groq.setMode("fail_midstream");
        const { status, events } = await askStream(alice, session, "Tell me about the zebra memo");
        assert.equal(status, 200);
        assert.equal(events[0]!.event, "meta");
        assert.equal(events.at(-1)!.event, "error");
        assert.ok(!events.some((e) => e.event === "done"));
        const envelope = parsed(events.at(-1)!);
        assert.equal(envelope.error.code, "llm_unavailable");
        assert.ok(envelope.error.request_id);
        const after = await wallet(alice, company);
        assert.equal(after.chat_inference_counter, before.chat_inference_counter);
        assert.equal(after.balance, before.balance);
        const history = (await call(alice.client, `chat/sessions/${session}/messages?limit=100`))
          .body
          .messages as Json[];
        assert.equal(history.length, historyBefore + 4);
        assert.deepEqual(history.slice(-4).map((m) => [m.role, m.content]), [
          ["user", "Q1?"],
          ["user", "Q2?"],
          ["user", "Q3?"],
          ["user", "Tell me about the zebra memo"],
        ]);
        groq.setMode("cite");
        assert.equal((await ask(alice, session, ZEBRA)).status, 200, "the session answers again");
      },
    );

    await t.step(
      "one answer at a time per session: a concurrent second message gets 409",
      async () => {
        groq.setMode("cite", { delayMs: 1800 });
        const [a, b] = await Promise.all([
          ask(alice, session, ZEBRA),
          new Promise((r) => setTimeout(r, 200)).then(() => ask(alice, session, "And Lisbon?")),
        ]);
        assert.equal(a.status, 200);
        assert.equal(b.status, 409);
        assert.equal(b.body.error.code, "answer_in_progress");
        groq.setMode("cite");
      },
    );

    await t.step("another tenant's session or workbench is 404; a viewer can chat", async () => {
      assert.equal((await call(bob.client, `chat/sessions/${session}/messages`)).status, 404);
      assert.equal((await ask(bob, session, "hi")).status, 404);
      const foreign = await call(bob.client, "chat/sessions", { body: { workbench_id: wb } });
      assert.equal(foreign.status, 404);
      const listed = await call(bob.client, `chat/sessions?workbenchId=${wb}`);
      assert.deepEqual(listed.body.sessions, []);
      const daveSession = await openSession(dave, wb);
      assert.notEqual(daveSession, session);
      const res = await ask(dave, daveSession, ZEBRA);
      assert.equal(res.status, 200);
      assert.equal(res.body.sources[0].file_name, "memo.docx");
      assert.equal((await call(dave.client, `chat/sessions/${session}/messages`)).status, 404);
    });

    await t.step(
      "a member removed from the company cannot write to their old session",
      async () => {
        const daveSession = await openSession(dave, wb);
        const count = async () =>
          (await sql`select count(*)::int as n from public.message where session_id = ${daveSession}`)[
            0
          ]!
            .n;
        const before = await count();
        const removed = await call(alice.client, `companies/${company}/members/${dave.id}`, {
          method: "DELETE",
        });
        assert.equal(removed.status, 204);
        const res = await ask(dave, daveSession, ZEBRA);
        assert.equal(res.status, 404);
        assert.equal(res.body.error.code, "not_found");
        assert.equal(await count(), before, "the question is not saved");
        const [marker] = await sql`select 1 from private.chat_answering
                                  where session_id = ${daveSession}`;
        assert.equal(marker, undefined, "no answering marker is taken");
      },
    );

    await t.step("a file deleted while an answer streams is not cited in its done", async () => {
      const heron = await newWorkbench(alice, "Heron");
      const up = await uploadAndWait(alice, heron, [
        { name: "heron-costs.txt", bytes: text("The heron project costs 5 million rupees.") },
      ]);
      const fileId = up["heron-costs.txt"].id;
      const s = await openSession(alice, heron);
      groq.setMode("cite", { chunkDelayMs: 80 });
      let deleted = 0;
      const { events } = await askStream(alice, s, "What does the heron project cost?", {
        onFirstDelta: async () => {
          deleted = (await call(alice.client, `workbenches/${heron}/files/${fileId}`, {
            method: "DELETE",
          })).status;
        },
      });
      groq.setMode("cite");
      assert.equal(deleted, 204);
      const done = events.at(-1)!;
      assert.equal(done.event, "done");
      const body = parsed(done);
      assert.ok(!JSON.stringify(body).includes(fileId), JSON.stringify(body));
      assert.ok(!JSON.stringify(body).includes("heron-costs.txt"), JSON.stringify(body));
      assert.deepEqual(body.sources, [{ number: 1, deleted: true }]);
      assert.ok(body.warnings.some((w: Json) => w.code === "source_deleted"));
      const history = await call(alice.client, `chat/sessions/${s}/messages?limit=1`);
      assert.deepEqual(history.body.messages[0].sources, [{ number: 1, deleted: true }]);
    });

    await t.step("a deleted file is never cited again", async () => {
      const memo = files["memo.docx"].id;
      const page = async () =>
        (await call(alice.client, `chat/sessions/${session}/messages?limit=100`)).body
          .messages as Json[];
      const cited = (await page()).filter((m) =>
        (m.sources as Json[]).some((s) => s.file_id === memo)
      );
      assert.ok(cited.length > 0);
      const del = await call(alice.client, `workbenches/${wb}/files/${memo}`, { method: "DELETE" });
      assert.equal(del.status, 204);
      // The history keeps a deleted marker in place of each of its citations, and flags answers.
      const history = await page();
      for (const m of history) {
        assert.ok(!JSON.stringify(m.sources).includes(memo));
        assert.ok(!JSON.stringify(m.sources).includes("memo.docx"));
        assert.ok(!m.content.includes("memo.docx") || m.role === "user", m.content);
      }
      for (const before of cited) {
        const after = history.find((m) => m.id === before.id)!;
        const n = (before.sources as Json[]).find((s) => s.file_id === memo).number;
        assert.deepEqual((after.sources as Json[]).find((s) => s.number === n), {
          number: n,
          deleted: true,
        });
        assert.ok((after.warnings as Json[]).some((w) => w.code === "source_deleted"));
      }
      for (const mode of ["cite", "echo"] as const) {
        groq.setMode(mode);
        const res = await ask(alice, session, ZEBRA);
        assert.equal(res.status, 200);
        assert.ok(!res.body.sources.some((s: Json) => s.file_id === memo), mode);
        assert.ok(!groq.requests.at(-1)!.messages.at(-1)!.content.includes("memo.docx"));
      }
      const streamed = await askStream(alice, session, ZEBRA);
      const done = parsed(streamed.events.at(-1)!);
      assert.ok(!done.sources.some((s: Json) => s.file_id === memo));
    });

    await t.step("402 before any model call when the balance cannot cover the bundle", async () => {
      const erin = await signUpUser(stack, "erin");
      const s = await smallWorkbench(erin, "The heron project costs 5 million.");
      await sql`select private.spend_credits(${erin.id}, 10, 'spend', ${"drain-" + erin.id})`;
      await sql`select private.record_chat_inference(${erin.id}, 'warmup-' || g)
                  from generate_series(1, 9) g`;
      const sent = groq.requests.length;
      const res = await ask(erin, s, "What does the heron project cost?");
      assert.equal(res.status, 402);
      assert.equal(res.body.error.code, "insufficient_credits");
      assert.equal(groq.requests.length, sent, "the model got no request");
      const streamed = await askStream(erin, s, "What does the heron project cost?");
      assert.equal(streamed.status, 402);
      assert.equal(groq.requests.length, sent);
      const w = await wallet(erin);
      assert.deepEqual([w.balance, w.chat_inference_counter], [0, 9]);
    });

    await t.step("10 answers cost 1 credit; 25 cost 2 with the counter at 5", async () => {
      const frank = await signUpUser(stack, "frank");
      const s = await smallWorkbench(frank, "The osprey budget is 3 million.");
      const start = await wallet(frank);
      assert.deepEqual([start.balance, start.chat_inference_counter, start.plan, start.seats], [
        10,
        0,
        null,
        1,
      ]);
      for (let i = 0; i < 25; i++) {
        const res = await ask(frank, s, `What is the osprey budget? (${i})`);
        assert.equal(res.status, 200, JSON.stringify(res.body));
        if (i === 9) {
          assert.deepEqual([res.body.wallet.balance, res.body.wallet.chat_inference_counter], [
            9,
            0,
          ]);
          assert.equal(res.body.wallet.charged, true);
          const w = await wallet(frank);
          assert.deepEqual([w.balance, w.chat_inference_counter], [9, 0]);
        }
      }
      const w = await wallet(frank);
      assert.deepEqual([w.balance, w.chat_inference_counter], [8, 5]);
      const bundles = (w.usage as Json[]).filter((u) => u.reason === "chat_bundle");
      assert.equal(bundles.length, 2);
      assert.deepEqual(bundles.map((b) => b.amount), [-1, -1]);
      const page = await call(frank.client, "wallet?limit=1");
      assert.equal(page.body.usage.length, 1);
      assert.equal(page.body.next_offset, 1);
    });

    await t.step("35 messages in a minute: 429 with Retry-After after 30", async () => {
      const gina = await signUpUser(stack, "gina");
      const s = await openSession(gina, await newWorkbench(gina, "Empty"));
      // All at once: the bucket refills 30 a minute, so a slow sequence would earn new tokens.
      const results = await Promise.all(
        Array.from({ length: 35 }, (_, i) => ask(gina, s, `Anything? ${i}`)),
      );
      const statuses = results.map((r) => r.status);
      const limited = results.filter((r) => r.status === 429);
      assert.ok(statuses.every((x) => x === 200 || x === 429), statuses.join(","));
      assert.ok(statuses.filter((x) => x === 200).length >= 30, statuses.join(","));
      assert.ok(limited.length >= 1, statuses.join(","));
      assert.equal(limited[0]!.body.error.code, "rate_limited");
      const retryAfter = limited[0]!.headers.get("retry-after");
      assert.ok(Number(retryAfter) >= 1);
    });
  } finally {
    await stack.stop();
    await groq.stop();
  }
});
