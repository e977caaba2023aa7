/**
 * The erasure job on a native PostgreSQL (issue 23): a run cut off half way (here by
 * `statement_timeout`, as a crash or a cancelled cron run would) is rolled back whole, and the next
 * runs finish the erasure; a run bounded to a few steps keeps what it did, and nothing is done
 * twice. The steps are the migration's; the data is one account with many chat sessions, so the
 * erasure takes many steps.
 */
import assert from "node:assert/strict";
import postgres from "postgres";
import { needsMigratedPostgres, startMigratedPostgres } from "../helpers/postgres.ts";

const SESSIONS = 400;

Deno.test({
  name: "`private.run_due_erasures()` cut off half way loses only its own run; the next finishes",
  ignore: needsMigratedPostgres(),
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const pg = await startMigratedPostgres();
    const sql = postgres(pg.url, { max: 2, onnotice: () => {} });
    try {
      const [{ id: user }] = await sql`insert into auth.users (id, email)
        values (gen_random_uuid(), 'erase-me@example.com') returning id`;
      const [{ id: wb }] = await sql`insert into public.company (name) values ('Keeps')
        returning id`.then(async ([c]) =>
        await sql`insert into public.workbench (name, company_id) values ('Shared', ${c.id})
                    returning id`
      );
      await sql`insert into public.chat_session (workbench_id, user_id, status)
        select ${wb}, ${user}, 'archived' from generate_series(1, ${SESSIONS})`;
      await sql`update private.settings set value = '1' where key = 'erasure_step_rows'`;
      await sql`insert into private.account_erasures (user_id, due_at, restore_token_hash)
        values (${user}, now() - interval '1 second', repeat('a', 64))`;
      const left = async () =>
        (await sql`select count(*)::int as n from public.chat_session
                    where user_id = ${user}`)[0].n;

      // A run bounded to 10 steps keeps them.
      assert.equal((await sql`select private.run_due_erasures(10) as n`)[0].n, 10);
      assert.equal(await left(), SESSIONS - 10);

      // A run cut off half way by the statement timeout is rolled back whole.
      await assert.rejects(
        sql.begin(async (tx) => {
          await tx`set local statement_timeout = '20ms'`;
          await tx`select private.run_due_erasures(100000)`;
        }),
        /statement timeout|canceling statement/,
      );
      assert.equal(await left(), SESSIONS - 10, "the cut-off run changed nothing");
      const [mid] = await sql`select state, steps from private.account_erasures
        where user_id = ${user}`;
      assert.deepEqual([mid.state, mid.steps], ["erasing", 10]);

      // The next runs finish: every session gone, the company workbench kept, the account erased.
      while ((await sql`select private.run_due_erasures() as n`)[0].n > 0) { /* next run */ }
      assert.equal(await left(), 0);
      const [done] = await sql`select e.state, u.email,
          (select count(*)::int from public.workbench where id = ${wb}) as kept
        from private.account_erasures e join auth.users u on u.id = e.user_id
       where e.user_id = ${user}`;
      assert.deepEqual([done.state, done.email, done.kept], ["erased", null, 1]);
      const erased = await sql`select 1 from private.audit_log
        where action = 'account.erased' and entity_id = ${user}::text`;
      assert.equal(erased.length, 1, "erased once");
    } finally {
      await sql.end();
      await pg.stop();
    }
  },
});
