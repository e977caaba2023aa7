/**
 * Chat end to end without GROQ_API_KEY (the extractive answer, the local default), through
 * supabase-js against the local stack: real-format files uploaded and indexed, answers that cite
 * the right file first, table rows holding the asked-for number, preflight warnings, nothing to
 * search, history pages, the extract streamed as SSE.
 */
import assert from "node:assert/strict";
import { CELLS_LABEL, EXTRACT_LABEL, NO_CELL } from "../../shared/chat/mod.ts";
import { getDb } from "../../shared/db.ts";
import { makeEncryptedPdf } from "../fixtures/documents.ts";
import { chatDocuments } from "../fixtures/chat_documents.ts";
import {
  ask,
  askStream,
  call,
  type Json,
  newWorkbench,
  openSession,
  parsed,
  uploadAndWait,
} from "../helpers/chat.ts";
import { signUpUser, startTestStack } from "../helpers/stack.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };

Deno.test("chat with extractive answers end to end", opts, async (t) => {
  const stack = await startTestStack();
  try {
    const alice = await signUpUser(stack, "alice");
    const wb = await newWorkbench(alice, "Books");
    const files = await uploadAndWait(alice, wb, [
      ...chatDocuments(),
      { name: "locked.pdf", bytes: makeEncryptedPdf() },
    ]);
    assert.equal(files["locked.pdf"].status, "error");
    for (const f of chatDocuments()) assert.equal(files[f.name].status, "indexed", f.name);
    const session = await openSession(alice, wb);

    await t.step("a question answered by one document cites that file first", async () => {
      const res = await ask(
        alice,
        session,
        "What did the board approve about the zebra acquisition?",
      );
      assert.equal(res.status, 200, JSON.stringify(res.body));
      const { message, sources, usage } = res.body;
      assert.ok(message.content.startsWith(EXTRACT_LABEL));
      assert.match(message.content, /zebra acquisition for 42 million dollars/);
      assert.match(message.content, /\[1\]/);
      assert.equal(sources[0].file_name, "memo.docx");
      assert.equal(sources[0].file_id, files["memo.docx"].id);
      assert.equal(sources[0].number, 1);
      assert.ok(sources[0].chunk_id && sources[0].snippet && sources[0].score > 0);
      assert.equal(message.model, "extractive");
      assert.deepEqual([usage.prompt_tokens, usage.completion_tokens], [0, 0]);
    });

    await t.step("a numeric question about a CSV returns the row holding the number", async () => {
      const res = await ask(alice, session, "Which account had an amount of 98765?");
      assert.equal(res.status, 200);
      const csv = res.body.sources.find((s: Json) => s.file_name === "ledger.csv");
      assert.ok(csv, JSON.stringify(res.body.sources));
      assert.match(
        csv.snippet,
        /^date \| account \| amount\n(.*\n)*2026-02-14 \| escrow \| 98765/m,
      );
      assert.ok(csv.row_start <= 235 && csv.row_end >= 235, `${csv.row_start}-${csv.row_end}`);
      assert.match(res.body.message.content, /> 2026-02-14 \| escrow \| 98765/);
    });

    await t.step(
      "a numeric question about an XLSX returns the row holding the number",
      async () => {
        const res = await ask(
          alice,
          session,
          "What was the amount of the satellite uplink in budget.xlsx?",
        );
        assert.equal(res.status, 200);
        const xlsx = res.body.sources.find((s: Json) => s.file_name === "budget.xlsx");
        assert.ok(xlsx, JSON.stringify(res.body.sources));
        assert.equal(xlsx.sheet, "Opex");
        assert.match(
          xlsx.snippet,
          /^Item \| Amount \| Quarter\n(.*\n)*Satellite uplink \| 7315 \| Q3/m,
        );
        assert.match(res.body.message.content, /> Satellite uplink \| 7315 \| Q3/);
        const codes = res.body.warnings.map((w: Json) => w.code);
        assert.ok(!codes.includes("file_not_found"), "budget.xlsx is in the workbench");
      },
    );

    await t.step("warnings name failed files and named files that are missing", async () => {
      const res = await ask(alice, session, "What does forecast.xlsx say about revenue?");
      assert.equal(res.status, 200);
      const byCode = Object.fromEntries(res.body.warnings.map((w: Json) => [w.code, w]));
      assert.equal(byCode.file_error.file_name, "locked.pdf");
      assert.match(byCode.file_error.message, /encrypted/i);
      assert.equal(byCode.file_not_found.file_name, "forecast.xlsx");
      assert.match(res.body.message.content, /forecast\.xlsx, which is not in this workbench/);
    });

    await t.step("a workbench with nothing indexed answers so, counts nothing", async () => {
      const empty = await newWorkbench(alice, "Empty");
      const s = await openSession(alice, empty);
      const before = (await call(alice.client, "wallet")).body;
      const res = await ask(alice, s, "What is our revenue?");
      assert.equal(res.status, 200);
      assert.match(res.body.message.content, /nothing to search/);
      assert.deepEqual(res.body.warnings.map((w: Json) => w.code), ["no_indexed_files"]);
      assert.deepEqual(res.body.sources, []);
      assert.equal(res.body.message.model, null);
      assert.equal(res.body.wallet.counted, false);
      const after = (await call(alice.client, "wallet")).body;
      assert.equal(after.chat_inference_counter, before.chat_inference_counter);
      assert.equal(after.balance, before.balance);
    });

    await t.step("history pages back with sources and warnings", async () => {
      const all = await call(alice.client, `chat/sessions/${session}/messages?limit=100`);
      assert.equal(all.status, 200);
      const msgs = all.body.messages as Json[];
      assert.equal(msgs.length, 8);
      assert.deepEqual(msgs.map((m) => m.role).slice(0, 2), ["user", "assistant"]);
      assert.equal(msgs[1].sources[0].file_name, "memo.docx");
      assert.equal(all.body.next_before, null);
      const page1 = await call(alice.client, `chat/sessions/${session}/messages?limit=3`);
      assert.deepEqual(page1.body.messages.map((m: Json) => m.id), msgs.slice(5).map((m) => m.id));
      const page2 = await call(
        alice.client,
        `chat/sessions/${session}/messages?limit=3&before=${page1.body.next_before}`,
      );
      assert.deepEqual(
        page2.body.messages.map((m: Json) => m.id),
        msgs.slice(2, 5).map((m) => m.id),
      );
      const bad = await call(alice.client, `chat/sessions/${session}/messages?limit=0`);
      assert.equal(bad.status, 400);
    });

    await t.step("an extract and its snippet keep decimals and abbreviations whole", async () => {
      const res = await ask(alice, session, "By how much did the canteen subsidy rise?");
      assert.equal(res.status, 200);
      const notes = res.body.sources.find((s: Json) => s.file_name === "notes.txt");
      assert.ok(notes, JSON.stringify(res.body.sources));
      const sentence =
        "The canteen subsidy rose 11.5% to Rs. 1,200 per head, e.g. for the staff of No. 5 block, approx. 40 people.";
      assert.ok(notes.snippet.includes(sentence), notes.snippet);
      assert.ok(res.body.message.content.includes(sentence), res.body.message.content);
      assert.doesNotMatch(res.body.message.content + notes.snippet, /11\. 5%/);
    });

    await t.step(
      "a figure is looked up in the cells and stated first, citing the row",
      async () => {
        const res = await ask(alice, session, "What was revenue from operations in FY2025?");
        assert.equal(res.status, 200);
        const { message, sources } = res.body;
        const body = message.content.slice(EXTRACT_LABEL.length);
        assert.ok(body.trimStart().startsWith(CELLS_LABEL), body);
        assert.match(
          body,
          /- Revenue from operations, FY 2024-25: 96600 \(pnl\.xlsx, P&L, row 4, column FY 2024-25 \(C\)\)/,
        );
        assert.equal(sources[0].file_name, "pnl.xlsx");
        assert.equal(sources[0].sheet, "P&L");
        assert.ok(sources[0].row_start <= 4 && sources[0].row_end >= 4);
      },
    );

    await t.step("a growth question is computed from two cells", async () => {
      const res = await ask(alice, session, "What was revenue growth from FY24 to FY25?");
      assert.equal(res.status, 200);
      assert.match(
        res.body.message.content,
        /Revenue from operations growth from FY 2023-24 to FY 2024-25: 15\.0% = \(96600 − 84000\) \/ 84000/,
      );
    });

    await t.step("a figure no cell holds is said, then the passages", async () => {
      const res = await ask(alice, session, "What was the freight cost in FY2025?");
      assert.equal(res.status, 200);
      assert.ok(res.body.message.content.includes(NO_CELL), res.body.message.content);
    });

    await t.step("sessions: one active per workbench, listed, validated", async () => {
      const again = await call(alice.client, "chat/sessions", { body: { workbench_id: wb } });
      assert.equal(again.status, 200);
      assert.equal(again.body.id, session);
      assert.equal(again.body.created, false);
      const list = await call(alice.client, `chat/sessions?workbenchId=${wb}`);
      assert.deepEqual(list.body.sessions.map((s: Json) => s.id), [session]);
      const mine = await call(alice.client, "chat/sessions?limit=1");
      assert.equal(mine.body.sessions.length, 1);
      assert.notEqual(mine.body.next_offset, null);
      const tooLong = await ask(alice, session, "x".repeat(4001));
      assert.equal(tooLong.status, 400);
      assert.equal(tooLong.body.error.code, "validation_failed");
      const empty = await ask(alice, session, "");
      assert.equal(empty.status, 400);
    });
    await t.step("SSE without a model: meta, the extract as deltas, done", async () => {
      const { status, events } = await askStream(alice, session, "Which account had 98765?");
      assert.equal(status, 200);
      assert.deepEqual(
        [events[0]!.event, events.at(-1)!.event],
        ["meta", "done"],
      );
      const deltas = events.slice(1, -1);
      assert.ok(deltas.length >= 2 && deltas.every((e) => e.event === "delta"));
      const done = parsed(events.at(-1)!);
      assert.equal(deltas.map((e) => parsed(e).text).join("").trim(), done.message.content);
      assert.ok(done.message.content.startsWith(EXTRACT_LABEL));
      assert.ok(done.sources.some((s: Json) => /escrow \| 98765/.test(s.snippet)));
    });

    await t.step("a named indexed file is found behind more than 50 failed files", async () => {
      const sql = getDb();
      // Older than every real file, so a preflight listing 50 files oldest first sees only these.
      await sql`insert into public.workbench_files (workbench_id, file_name, file_type, size_bytes,
                                                    content_hash, status, error_message, created_at)
                select ${wb}, 'broken-' || i || '.pdf', 'pdf', 1, 'broken-' || i, 'error', 'bad',
                       now() - interval '1 day'
                  from generate_series(1, 55) i`;
      try {
        const res = await ask(alice, session, "What is the satellite uplink in budget.xlsx?");
        assert.equal(res.status, 200);
        const codes = res.body.warnings.map((w: Json) => w.code);
        assert.ok(codes.includes("file_error"));
        assert.ok(!codes.includes("file_not_found"), JSON.stringify(res.body.warnings));
      } finally {
        await sql`delete from public.workbench_files
                   where workbench_id = ${wb} and content_hash like 'broken-%'`;
      }
    });

    await t.step(
      "a deleted file leaves the stored extracts: marker, no name, no quote",
      async () => {
        const memo = files["memo.docx"].id;
        const page = async () =>
          (await call(alice.client, `chat/sessions/${session}/messages?limit=100`)).body
            .messages as Json[];
        const cited = (await page()).filter((m) =>
          (m.sources as Json[]).some((s) => s.file_id === memo)
        );
        assert.ok(cited.length > 0 && cited.some((m) => /42 million dollars/.test(m.content)));
        const del = await call(alice.client, `workbenches/${wb}/files/${memo}`, {
          method: "DELETE",
        });
        assert.equal(del.status, 204);
        const history = await page();
        for (const m of history.filter((m) => m.role === "assistant")) {
          const stored = JSON.stringify(m);
          assert.ok(!stored.includes(memo), stored);
          assert.ok(!stored.includes("memo.docx"), stored);
          assert.ok(
            !/zebra acquisition for 42 million|Integration of the zebra/.test(stored),
            stored,
          );
        }
        for (const before of cited) {
          const after = history.find((m) => m.id === before.id)!;
          const n = (before.sources as Json[]).find((s) => s.file_id === memo).number;
          assert.deepEqual((after.sources as Json[]).find((s) => s.number === n), {
            number: n,
            deleted: true,
          });
          assert.match(after.content, new RegExp(`\\[${n}\\] \\(quoted passage removed`));
          assert.ok((after.warnings as Json[]).some((w) => w.code === "source_deleted"));
          const kept = (before.sources as Json[]).filter((s) => s.file_id !== memo);
          assert.deepEqual((after.sources as Json[]).filter((s) => !s.deleted), kept);
        }
      },
    );

    await t.step(
      "a suspended or deactivated account is refused a message, and nothing is saved",
      async () => {
        // The message route leaves these to private.start_chat_turn (no lookup of its own).
        const sql = getDb();
        const count = async () =>
          (await sql`select count(*)::int as n from public.message
                      where session_id = ${session}`)[0]!.n;
        const before = await count();
        await sql`insert into private.tenant_suspensions (tenant_id, tenant_kind, reason)
                  values (${alice.id}, 'user', 'test')`;
        const suspended = await ask(alice, session, "What was the total amount?");
        assert.equal(suspended.status, 403, JSON.stringify(suspended.body));
        assert.equal(suspended.body.error.code, "tenant_suspended");
        await sql`delete from private.tenant_suspensions where tenant_id = ${alice.id}`;
        await sql`insert into private.account_erasures (user_id, due_at, restore_token_hash)
                  values (${alice.id}, now() + interval '30 days', 'h')`;
        const deactivated = await ask(alice, session, "What was the total amount?");
        assert.equal(deactivated.status, 401, JSON.stringify(deactivated.body));
        assert.equal(deactivated.body.error.code, "account_deactivated");
        await sql`delete from private.account_erasures where user_id = ${alice.id}`;
        assert.equal(await count(), before);
      },
    );
  } finally {
    await stack.stop();
  }
});
