/**
 * The wallet under real concurrency: 50 simultaneous spends, grants, chat inferences and payment
 * applications against one wallet, and 20 member adds against a company's seat limit, on a native
 * multi-connection PostgreSQL (PGlite serialises connections, so it cannot show races), with every
 * migration applied (tests/helpers/postgres.ts `startMigratedPostgres()`): the functions raced are
 * the ones that ship.
 */
import assert from "node:assert/strict";
import { needsMigratedPostgres, withMigratedPostgres } from "../helpers/postgres.ts";

const ignore = needsMigratedPostgres();

async function settle<T>(n: number, fn: (i: number) => Promise<T>) {
  const results = await Promise.allSettled(Array.from({ length: n }, (_, i) => fn(i)));
  const ok = results.filter((r) => r.status === "fulfilled").length;
  const errors = results.filter((r): r is PromiseRejectedResult => r.status === "rejected")
    .map((r) => (r.reason as { code?: string }).code ?? String(r.reason));
  return { ok, errors };
}

Deno.test({
  name: "wallet RPCs never overspend or lose an update under 50 concurrent calls",
  ignore,
  sanitizeOps: false,
  sanitizeResources: false,
}, async (t) => {
  await withMigratedPostgres(50, async ({ admin, pool }) => {
    const newUser = async (name: string) => {
      const [{ id }] = await admin`insert into auth.users (id, email)
        values (gen_random_uuid(), ${`${name}@example.com`}) returning id`;
      return id as string;
    };
    const balance = async (id: string) =>
      (await admin`select balance from public.wallet where user_id = ${id}`)[0].balance as number;

    await t.step("50 concurrent spends of 1 against 20 credits: exactly 20 succeed", async () => {
      const user = await newUser("spender");
      await admin`select private.grant_credits(${user}, 10, 'grant', 'top-up')`;
      assert.equal(await balance(user), 20);
      const { ok, errors } = await settle(
        50,
        (i) => pool`select private.spend_credits(${user}, 1, 'spend', ${`spend-${i}`})`,
      );
      assert.equal(ok, 20);
      assert.equal(errors.length, 30);
      assert.ok(errors.every((e) => e === "PT402"), `only insufficient_credits errors: ${errors}`);
      assert.equal(await balance(user), 0);
      const [ledger] = await admin`select sum(amount)::int as total, count(*)::int as spends,
          count(distinct balance_after) filter (where reason = 'spend')::int as distinct_after
        from public.wallet_usage where user_id = ${user}`;
      assert.equal(ledger.total, 0, "the ledger adds up to the balance");
      assert.equal(ledger.spends, 22, "signup + top-up + 20 spends");
      assert.equal(ledger.distinct_after, 20, "every spend saw a different balance: none was lost");
    });

    await t.step("50 concurrent grants with distinct keys all land", async () => {
      const user = await newUser("granted");
      const { ok } = await settle(
        50,
        (i) => pool`select private.grant_credits(${user}, 1, 'grant', ${`g-${user}-${i}`})`,
      );
      assert.equal(ok, 50);
      assert.equal(await balance(user), 60);
    });

    await t.step("50 concurrent grants with one key land once", async () => {
      const user = await newUser("once");
      const { ok } = await settle(
        50,
        () => pool`select private.grant_credits(${user}, 7, 'grant', ${`same-${user}`})`,
      );
      assert.equal(ok, 50, "retries succeed without applying again");
      assert.equal(await balance(user), 17);
    });

    await t.step(
      "50 concurrent chat answers with 3 credits: 39 answered, 3 bundles charged",
      async () => {
        const user = await newUser("chatter");
        await admin`select private.spend_credits(${user}, 7, 'spend', ${`down-${user}`})`;
        const { ok, errors } = await settle(
          50,
          (i) => pool`select private.record_chat_inference(${user}, ${`msg-${user}-${i}`})`,
        );
        assert.equal(ok, 39, "three full bundles plus nine answers of the fourth");
        assert.ok(errors.every((e) => e === "PT402"));
        assert.equal(await balance(user), 0);
        const [c] = await admin`select chat_inference_counter as n from public.wallet_counters
        where user_id = ${user}`;
        assert.equal(c.n, 9);
        const [b] = await admin`select count(*)::int as n from public.wallet_usage
        where user_id = ${user} and reason = 'chat_bundle'`;
        assert.equal(b.n, 3);
        const [counted] = await admin`select count(*)::int as n from private.chat_inferences
        where user_id = ${user}`;
        assert.equal(counted.n, 39, "refused answers are not counted");
      },
    );

    await t.step("the same payment applied 20 times concurrently credits once", async () => {
      const user = await newUser("payer");
      await admin`insert into public.plans (id, name, price_paise, credits, seats)
        values ('lite', 'Lite', 49900, 100, 0) on conflict do nothing`;
      await admin`insert into public.payments (user_id, plan_id, razorpay_order_id, amount_paise)
        values (${user}, 'lite', 'order_conc', 49900)`;
      const { ok } = await settle(
        20,
        () => pool`select private.apply_payment('order_conc', 'pay_conc')`,
      );
      assert.equal(ok, 20);
      assert.equal(await balance(user), 110);
      const [p] =
        await admin`select status from public.payments where razorpay_order_id = 'order_conc'`;
      assert.equal(p.status, "paid");
    });

    await t.step(
      "20 concurrent member adds to a company with 3 seats: the company ends at 3 members",
      async () => {
        const owner = await newUser("seat-owner");
        const [{ id: company }] = await admin`insert into public.company (name, created_by)
          values ('Seats', ${owner}) returning id`;
        await admin`update public.wallet set custom_limits = '{"seats": 3}'
          where company_id = ${company}`;
        const people: string[] = [];
        for (let i = 0; i < 20; i++) people.push(await newUser(`seat-${i}`));
        const { ok, errors } = await settle(
          20,
          (i) =>
            pool`insert into public.company_members (company_id, user_id, role)
                 values (${company}, ${people[i]}, 'member')`,
        );
        assert.equal(ok, 2, "the owner holds one seat; two more fit");
        assert.ok(errors.every((e) => e === "PT403"), `only plan_limit_reached: ${errors}`);
        const [{ n }] = await admin`select count(*)::int as n from public.company_members
          where company_id = ${company}`;
        assert.equal(n, 3);
      },
    );
  });
});
