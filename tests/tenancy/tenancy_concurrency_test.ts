/**
 * Company ownership under real concurrency, on a native multi-connection PostgreSQL at READ
 * COMMITTED (PGlite serialises connections, so it cannot show races): owners leaving at the same
 * moment never empty a company, and deleting a sole owner while their heirs leave always works and
 * never leaves members without an owner. Leaves run as the users themselves (role
 * `authenticated`, RLS on), exactly as the functions run them.
 *
 * Runs against a native PostgreSQL with every migration applied (tests/helpers/postgres.ts
 * `startMigratedPostgres()`), so the rules raced are the ones that ship.
 */
import assert from "node:assert/strict";
import { asUser } from "../../shared/db.ts";
import type { Claims } from "../../shared/auth.ts";
import { needsMigratedPostgres, withMigratedPostgres } from "../helpers/postgres.ts";

const ignore = needsMigratedPostgres();

const claims = (sub: string): Claims => ({ sub, role: "authenticated" });

/** Settles `p` as "ok" or the Postgres error code. */
const outcome = (p: Promise<unknown>): Promise<string> =>
  p.then(() => "ok", (err) => (err as { code?: string }).code ?? String(err));

function tally(outcomes: string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const o of outcomes) counts[o] = (counts[o] ?? 0) + 1;
  return counts;
}

Deno.test({
  name: "the last-owner rule and user deletion hold under concurrent connections",
  ignore,
  sanitizeOps: false,
  sanitizeResources: false,
}, async (t) => {
  await withMigratedPostgres(40, async ({ admin, pool }) => {
    const [{ isolation }] =
      await pool`select current_setting('transaction_isolation') as isolation`;
    assert.equal(isolation, "read committed");

    let serial = 0;
    const newUser = async (name: string) => {
      const [{ id }] = await admin`insert into auth.users (id, email, email_confirmed_at)
        values (gen_random_uuid(), ${`${name}-${++serial}@example.com`}, now()) returning id`;
      return id as string;
    };
    /** A company created by `creator` (its owner), with `others` added as [user, role]. */
    const newCompany = async (creator: string, others: [string, string][]) => {
      const [{ id }] = await admin`insert into public.company (name, created_by)
        values (${`company ${++serial}`}, ${creator}) returning id`;
      let age = others.length;
      for (const [user, role] of others) {
        await admin`insert into public.company_members (company_id, user_id, role, created_at)
          values (${id}, ${user}, ${role}, now() - make_interval(mins => ${age--}))`;
      }
      return id as string;
    };
    const owners = async (companyId: string) =>
      (await admin`select user_id from public.company_members
        where company_id = ${companyId} and role = 'owner'`).map((r) => r.user_id as string);
    const leave = (companyId: string, userId: string) =>
      asUser(
        pool,
        claims(userId),
        (tx) =>
          tx`delete from public.company_members
              where company_id = ${companyId} and user_id = ${userId}`,
      );

    await t.step("a second owner leaving waits for the first, then is refused", async () => {
      const a = await newUser("owner-a");
      const b = await newUser("owner-b");
      const company = await newCompany(a, [[b, "owner"]]);

      let firstDeleted!: () => void;
      const deleted = new Promise<void>((r) => firstDeleted = r);
      let commitFirst!: () => void;
      const gate = new Promise<void>((r) => commitFirst = r);
      const first = outcome(asUser(pool, claims(a), async (tx) => {
        await tx`delete from public.company_members where company_id = ${company}
                   and user_id = ${a}`;
        firstDeleted();
        await gate;
      }));
      await deleted;

      let secondSettled = false;
      const second = outcome(leave(company, b)).finally(() => secondSettled = true);
      // The first transaction is open and holds the company row: the second must wait for it.
      let waiting = false;
      for (let i = 0; i < 400 && !waiting && !secondSettled; i++) {
        const [{ n }] = await admin`select count(*)::int as n from pg_stat_activity
          where pid <> pg_backend_pid() and wait_event_type = 'Lock' and query like '%delete from public.company_members%'`;
        waiting = n > 0;
        if (!waiting) await new Promise((r) => setTimeout(r, 25));
      }
      assert.ok(
        waiting,
        `the second leave did not wait for the first (it ended: ${secondSettled && await second})`,
      );
      commitFirst();
      assert.equal(await first, "ok", "the first owner leaves");
      assert.equal(await second, "23514", "the second sees the first gone and stays");
      assert.deepEqual(await owners(company), [b]);
    });

    await t.step(
      "every owner of 20 companies leaving at once leaves exactly one each",
      async () => {
        const companies: { id: string; members: string[] }[] = [];
        for (let c = 0; c < 20; c++) {
          const members = [];
          for (let i = 0; i < 5; i++) members.push(await newUser(`co-owner-${c}`));
          const id = await newCompany(members[0], members.slice(1).map((m) => [m, "owner"]));
          companies.push({ id, members });
        }
        const results = await Promise.all(
          companies.flatMap((c) => c.members.map((m) => outcome(leave(c.id, m)))),
        );
        assert.deepEqual(tally(results), { ok: 80, "23514": 20 });
        for (const c of companies) {
          assert.equal((await owners(c.id)).length, 1, `company ${c.id} keeps one owner`);
        }
      },
    );

    await t.step(
      "deleting sole owners while their heirs leave always works and never orphans members",
      async () => {
        const cases: { company: string; owner: string; heirs: string[] }[] = [];
        for (let c = 0; c < 10; c++) {
          const owner = await newUser(`sole-owner-${c}`);
          const heirs = [];
          for (let i = 0; i < 4; i++) heirs.push(await newUser(`heir-${c}`));
          // Two admins and two members; c % 3 == 0 keeps one heir out of the leaving crowd.
          const company = await newCompany(owner, [
            [heirs[0], "member"],
            [heirs[1], "admin"],
            [heirs[2], "admin"],
            [heirs[3], "member"],
          ]);
          cases.push({ company, owner, heirs });
        }
        const deletions = cases.map((c) =>
          outcome(pool`delete from auth.users where id = ${c.owner}`)
        );
        const leaves = cases.flatMap((c, n) =>
          c.heirs.slice(n % 3 === 0 ? 1 : 0).map((h) => outcome(leave(c.company, h)))
        );
        assert.deepEqual(tally(await Promise.all(deletions)), { ok: 10 }, "every deletion works");
        const left = await Promise.all(leaves);
        assert.ok(
          left.every((o) => o === "ok" || o === "23514"),
          `a leave either works or is refused as the last owner: ${JSON.stringify(tally(left))}`,
        );
        for (const c of cases) {
          const [{ members, owners }] = await admin`
            select count(*)::int as members, count(*) filter (where role = 'owner')::int as owners
              from public.company_members where company_id = ${c.company}`;
          const [{ exists }] = await admin`select exists (select 1 from public.company
            where id = ${c.company}) as exists`;
          if (members === 0) {
            assert.equal(exists, false, "a company whose last member went is deleted");
          } else {
            assert.ok(owners >= 1, `company ${c.company} has ${members} members and an owner`);
          }
        }
      },
    );
  });
});
