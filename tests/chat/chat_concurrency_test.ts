/**
 * private.start_chat_turn under real concurrency, on a native multi-connection PostgreSQL (PGlite
 * serialises connections, so it cannot show races): a user's concurrent starts on different
 * workbenches take the wallet row's lock one after the other and count the answers already in
 * flight, so exactly as many start as the wallet covers (and as the plan's chat_answers_month
 * allows); concurrent starts on one session give one answering marker, the others the 409
 * condition. And a file deleted while private.finish_chat_turn saves an answer citing it is
 * redacted from that answer whichever commits first.
 *
 * Runs against a native PostgreSQL with every migration applied (tests/helpers/postgres.ts
 * `startMigratedPostgres()`), so the functions raced are the ones that ship.
 */
import assert from "node:assert/strict";
import type postgres from "postgres";
import { needsMigratedPostgres, withMigratedPostgres } from "../helpers/postgres.ts";

const ignore = needsMigratedPostgres();

interface StartResult {
  r: { status: string; token: string | null };
}

Deno.test({
  name:
    "chat turns under concurrency: starts reserve answers and markers, saves redact files deleted meanwhile",
  ignore,
  sanitizeOps: false,
  sanitizeResources: false,
}, async (t) => {
  await withMigratedPostgres(30, async ({ admin, pool }) => {
    /** A user with `balance` credits, `counter` answers into the bundle, and `n` sessions. */
    const newUser = async (name: string, balance: number, counter: number, n: number) => {
      const [{ id }] = await admin`insert into auth.users (id, email)
        values (gen_random_uuid(), ${`${name}@example.com`}) returning id`;
      await admin`update public.wallet set balance = ${balance} where user_id = ${id}`;
      await admin`insert into public.wallet_counters (user_id, chat_inference_counter)
        values (${id}, ${counter})
        on conflict (user_id) do update set chat_inference_counter = excluded.chat_inference_counter`;
      const sessions: string[] = [];
      for (let i = 0; i < n; i++) {
        const [{ wb }] = await admin`insert into public.workbench (name, owner_user_id)
          values (${`${name}-${i}`}, ${id}) returning id as wb`;
        await admin`insert into public.workbench_files
            (workbench_id, file_name, file_type, size_bytes, content_hash, status)
          values (${wb}, 'pl.csv', 'csv', 1, 'pl', 'indexed')`;
        const [{ s }] = await admin`insert into public.chat_session (workbench_id, user_id)
          values (${wb}, ${id}) returning id as s`;
        sessions.push(s as string);
      }
      return { id: id as string, sessions };
    };
    const start = (userId: string, sessionId: string, i: number) =>
      pool<StartResult[]>`select private.start_chat_turn(${userId}, ${sessionId}, 'q?',
                                                         ${`10.0.${i}.1`}) as r`
        .then((rows) => rows[0]!.r);
    const statuses = (rs: { status: string }[]) =>
      Object.fromEntries(
        [...new Set(rs.map((r) => r.status))].sort().map((s) => [
          s,
          rs.filter((r) => r.status === s).length,
        ]),
      );
    const inFlight = async (userId: string) =>
      (await admin`select count(*)::int as n from private.chat_answering
                    where user_id = ${userId}`)[0]!.n;

    await t.step("12 concurrent starts, no credits, counter 5: exactly 4 start", async () => {
      // Answers 6, 7, 8 and 9 of the bundle are free; the 10th needs a credit.
      const user = await newUser("free", 0, 5, 12);
      const rs = await Promise.all(user.sessions.map((s, i) => start(user.id, s, i)));
      assert.deepEqual(statuses(rs), { insufficient_credits: 8, ok: 4 });
      assert.equal(await inFlight(user.id), 4);
      const [q] = await admin`select count(*)::int as n from public.message m
        join public.chat_session s on s.id = m.session_id where s.user_id = ${user.id}`;
      assert.equal(q!.n, 4, "only the started turns saved their question");
    });

    await t.step("15 concurrent starts, 1 credit, counter 8: exactly 11 start", async () => {
      // Answers 9 and 10 complete the paid bundle; 11 to 19 are the next (free) bundle's.
      const user = await newUser("one-credit", 1, 8, 15);
      const rs = await Promise.all(user.sessions.map((s, i) => start(user.id, s, i)));
      assert.deepEqual(statuses(rs), { insufficient_credits: 4, ok: 11 });
      assert.equal(await inFlight(user.id), 11);
    });

    await t.step(
      "12 concurrent starts with chat_answers_month 3 (2 answered): 1 starts, 11 plan_limit_reached",
      async () => {
        const user = await newUser("limited", 100, 0, 12);
        await admin`update public.wallet set custom_limits = '{"chat_answers_month": 3}'
          where user_id = ${user.id}`;
        await admin`insert into private.chat_inferences (message_id, user_id)
          values (${"done-1-" + user.id}, ${user.id}), (${"done-2-" + user.id}, ${user.id})`;
        const rs = await Promise.allSettled(user.sessions.map((s, i) => start(user.id, s, i)));
        const ok = rs.filter((r) => r.status === "fulfilled" && r.value.status === "ok");
        const refused = rs.filter((r): r is PromiseRejectedResult => r.status === "rejected");
        assert.equal(ok.length, 1, "the in-flight answer counts: never above the limit");
        assert.equal(refused.length, 11);
        assert.ok(refused.every((r) => r.reason.code === "PT403"), String(refused[0]?.reason));
        assert.equal(await inFlight(user.id), 1);
        const [q] = await admin`select count(*)::int as n from public.message m
          join public.chat_session s on s.id = m.session_id where s.user_id = ${user.id}`;
        assert.equal(q!.n, 1, "a refused start saved no question");
      },
    );

    await t.step("10 concurrent starts on one session: one marker, nine 409s", async () => {
      const user = await newUser("one-session", 10, 0, 1);
      const session = user.sessions[0]!;
      const rs = await Promise.all(
        Array.from({ length: 10 }, (_, i) => start(user.id, session, i)),
      );
      assert.deepEqual(statuses(rs), { answer_in_progress: 9, ok: 1 });
      const [m] = await admin`select token from private.chat_answering
        where session_id = ${session}`;
      assert.equal(m!.token, rs.find((r) => r.status === "ok")!.token);
    });

    await t.step(
      "a file deleted while an answer citing it is saved: redacted whichever commits first",
      async () => {
        const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
        /** An answer turn started on a fresh workbench whose one file it cites. */
        const turn = async (name: string) => {
          const user = await newUser(name, 10, 0, 1);
          const session = user.sessions[0]!;
          const [{ file }] = await admin`select f.id as file from public.workbench_files f
            join public.chat_session s on s.workbench_id = f.workbench_id where s.id = ${session}`;
          const { token } = await start(user.id, session, 0);
          const source = { number: 1, file_id: file, file_name: "pl.csv", snippet: "Rent | 1200" };
          const finish = (sql: postgres.Sql | postgres.TransactionSql, id: string) =>
            sql`select private.finish_chat_turn(${user.id}, ${session}, ${id}, ${token},
                  'Rent was 1200 [1], per pl.csv.', ${sql.json([source])}, '[]', 'llama', 1, 1)`;
          const remove = (sql: postgres.Sql | postgres.TransactionSql) =>
            sql`delete from public.workbench_files where id = ${file}`;
          return { finish, remove };
        };
        const stored = async (id: string) =>
          (await admin`select content, sources from public.message where id = ${id}`)[0]!;
        const redacted = {
          content: "Rent was 1200 [1], per [deleted file].",
          sources: [{ number: 1, deleted: true }],
        };

        // The answer's transaction first: the delete waits for it, then redacts it.
        const a = await turn("saved-first");
        const aId = crypto.randomUUID();
        let deleting: Promise<unknown> | undefined;
        await pool.begin(async (tx) => {
          await a.finish(tx, aId);
          deleting = a.remove(pool).execute();
          await sleep(300);
        });
        await deleting;
        assert.deepEqual({ ...(await stored(aId)) }, redacted);

        // The delete's transaction first: the save waits for it, then sees the file gone.
        const b = await turn("deleted-first");
        const bId = crypto.randomUUID();
        let saving: Promise<postgres.RowList<postgres.Row[]>> | undefined;
        await pool.begin(async (tx) => {
          await b.remove(tx);
          saving = b.finish(pool, bId).execute();
          await sleep(300);
        });
        const [{ finish_chat_turn: r }] = await saving!;
        assert.deepEqual(r.message.sources, redacted.sources);
        assert.deepEqual({ ...(await stored(bId)) }, redacted);
      },
    );
  });
});
