/**
 * private.create_report under real concurrency, on a native multi-connection PostgreSQL (PGlite
 * serialises connections, so it cannot show races): 30 simultaneous requests with one
 * Idempotency-Key make one report and one charge; 30 with distinct keys against 10 credits make
 * exactly 10 reports, the rest refused with PT402 and nothing kept for their keys.
 *
 * Runs against a native PostgreSQL with every migration applied (tests/helpers/postgres.ts
 * `startMigratedPostgres()`), so the function raced is the one that ships. Vault holds no worker
 * secrets here, so the worker kick only warns (pg_net is not what this test is about).
 */
import assert from "node:assert/strict";
import { needsMigratedPostgres, withMigratedPostgres } from "../helpers/postgres.ts";

const ignore = needsMigratedPostgres();

const outcome = (p: Promise<unknown>): Promise<string> =>
  p.then(() => "ok", (err) => (err as { code?: string }).code ?? String(err));

Deno.test({
  name: "private.create_report charges once per key under concurrent requests",
  ignore,
  sanitizeOps: false,
  sanitizeResources: false,
}, async (t) => {
  await withMigratedPostgres(30, async ({ admin, pool }) => {
    const newOwner = async (name: string) => {
      const [{ id }] = await admin`insert into auth.users (id, email)
        values (gen_random_uuid(), ${`${name}@example.com`}) returning id`;
      const [{ wb }] = await admin`insert into public.workbench (name, owner_user_id)
        values (${name}, ${id}) returning id as wb`;
      return { id: id as string, wb: wb as string };
    };
    const create = (user: { id: string; wb: string }, key: string, hash = "h") =>
      pool`select private.create_report(${user.id}, ${user.wb}, 'financial_summary', 'H1', null,
                                        ${key}, ${hash}) as r`;

    await t.step("30 concurrent requests with one key: one report, one charge", async () => {
      const user = await newOwner("dup");
      const results = await Promise.all(Array.from({ length: 30 }, () => create(user, "same")));
      const ids = new Set(results.map((r) => r[0]!.r.report_id));
      assert.equal(ids.size, 1);
      assert.equal(results.filter((r) => r[0]!.r.replayed === false).length, 1);
      const [w] = await admin`select balance from public.wallet where user_id = ${user.id}`;
      assert.equal(w!.balance, 9);
      const [c] = await admin`select
          (select count(*)::int from public.reports where user_id = ${user.id}) as reports,
          (select count(*)::int from public.wallet_usage
            where user_id = ${user.id} and reason = 'report') as charges,
          (select count(*)::int from pgmq.q_report_jobs
            where message ->> 'report_id' = ${[...ids][0]!}) as jobs`;
      assert.deepEqual({ ...c }, { reports: 1, charges: 1, jobs: 1 });
    });

    await t.step("30 concurrent keys against 10 credits: exactly 10 reports", async () => {
      const user = await newOwner("many");
      const outcomes = await Promise.all(
        Array.from({ length: 30 }, (_, i) => outcome(create(user, `k-${i}`))),
      );
      assert.equal(outcomes.filter((o) => o === "ok").length, 10);
      assert.ok(outcomes.every((o) => o === "ok" || o === "PT402"), outcomes.join(","));
      const [c] = await admin`select
          (select balance from public.wallet where user_id = ${user.id}) as balance,
          (select count(*)::int from public.reports where user_id = ${user.id}) as reports,
          (select count(*)::int from private.idempotency_keys where user_id = ${user.id}) as keys`;
      assert.deepEqual({ ...c }, { balance: 0, reports: 10, keys: 10 });
    });
  });
});
