/**
 * private.start_chat_turn under real concurrency, on a native multi-connection PostgreSQL (PGlite
 * serialises connections, so it cannot show races): a user's concurrent starts on different
 * workbenches take the wallet row's lock one after the other and count the answers already in
 * flight, so exactly as many start as the wallet covers; concurrent starts on one session give one
 * answering marker, the others the 409 condition.
 *
 * Applies the platform baseline and the migrations the chat needs except files and chunks (its
 * chunk table needs pgvector, which Debian's plain PostgreSQL lacks); the one column of
 * public.workbench_files the chat reads (status) is a small stand-in table here.
 */
import assert from "node:assert/strict";
import postgres from "postgres";
import type { Sql } from "../shared/db.ts";
import { applyPlatformBaseline } from "../local/platform_sql.ts";
import { defaultPaths, listMigrations } from "../local/migrate.ts";
import { findPostgresBin, startTempPostgres } from "./helpers/postgres.ts";

/** Platform, wallet, tenancy; then (after the stand-in files table) chat, ops, roles, rate limits. */
const BEFORE_FILES = ["20261125000000", "20261125000100", "20261125000200"];
const AFTER_FILES = [
  "20261125000400",
  "20261125000500",
  "20261126000300",
  "20261126000500",
  "20261126001100",
  "20261126001200",
];

const bin = findPostgresBin();
if (!bin) {
  console.log(
    "SKIPPED chat concurrency tests: no PostgreSQL server binaries in /usr/lib/postgresql " +
      "(install Debian's `postgresql` package; .ci/run does).",
  );
}

async function apply(sql: Sql, version: string) {
  const m = (await listMigrations(defaultPaths().migrationsDir)).find((x) => x.version === version);
  if (!m) throw new Error(`no migration ${version}`);
  const text = await Deno.readTextFile(m.file);
  await sql.begin((tx) => tx.unsafe(text));
}

interface StartResult {
  r: { status: string; token: string | null };
}

Deno.test({
  name: "private.start_chat_turn reserves answers and markers under concurrent starts",
  ignore: !bin,
  sanitizeOps: false,
  sanitizeResources: false,
}, async (t) => {
  const pg = await startTempPostgres(bin!);
  const admin = postgres(pg.url, { max: 1, onnotice: () => {} });
  const pool = postgres(pg.url, { max: 30, onnotice: () => {}, prepare: false });
  try {
    await applyPlatformBaseline(admin);
    for (const v of BEFORE_FILES) await apply(admin, v);
    await admin`create table public.workbench_files (
      id uuid primary key default gen_random_uuid(),
      workbench_id uuid not null references public.workbench (id) on delete cascade,
      file_name text not null,
      status text not null)`;
    for (const v of AFTER_FILES) await apply(admin, v);

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
        await admin`insert into public.workbench_files (workbench_id, file_name, status)
          values (${wb}, 'pl.csv', 'indexed')`;
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
  } finally {
    await pool.end();
    await admin.end();
    await pg.stop();
  }
});
