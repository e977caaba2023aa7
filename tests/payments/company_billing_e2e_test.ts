/**
 * Company billing end to end on the local stack, with the fake Stripe on loopback: a company
 * admin buys a token pack for the company and the company's own wallet is credited (not the
 * admin's); a member's chat answer on a company workbench is paid by the company wallet, one on
 * their personal workbench by their own; members read the company wallet at
 * `GET /wallet?company_id=`, others get 404; the seat past the company plan's `seats` is refused
 * at the invitation accept; the chat answer past `chat_answers_month` is refused (403) before any
 * answer is made or charged; `GET /billing/usage?company_id=` counts the company's workbenches,
 * members and ledger.
 */
import assert from "node:assert/strict";
import type { Stack } from "../../local/stack.ts";
import { getDb } from "../../shared/db.ts";
import { startFakeStripe } from "../fakes/stripe.ts";
import { ask, newWorkbench, openSession, text, uploadAndWait } from "../helpers/chat.ts";
import {
  call,
  invitationToken,
  signUpUser,
  startTestStack,
  type TestUser,
} from "../helpers/stack.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };

Deno.test(
  "company billing: the company wallet buys and pays for its workbenches",
  opts,
  async (t) => {
    const fake = startFakeStripe();
    const stack: Stack = await startTestStack({
      functionEnv: {
        STRIPE_SECRET_KEY: fake.secretKey,
        STRIPE_WEBHOOK_SECRET: fake.webhookSecret,
        STRIPE_API_URL: fake.url,
        STRIPE_TIMEOUT_MS: "2000",
      },
    });
    const sql = getDb();
    const balance = async (walletId: string) =>
      (await sql<{ balance: number }[]>`
      select balance from public.wallet where user_id = ${walletId}`)[0].balance;
    /** `user` accepts an invitation into `companyId` sent by `admin`; the accept's response. */
    const join = async (admin: TestUser, user: TestUser, companyId: string) => {
      const invited = await call(admin.client, `companies/${companyId}/invitations`, {
        body: { email: user.email, role: "member" },
      });
      assert.equal(invited.status, 201, JSON.stringify(invited.body));
      const token = await invitationToken(stack, user.email, invited.body.id);
      return await call(user.client, `invitations/${invited.body.id}/accept`, { body: { token } });
    };

    try {
      // Every answer costs one credit, so each debit shows; 2 seats on the free plan.
      await sql`update private.settings set value = '1' where key = 'chat_answers_per_credit'`;
      await sql`update private.settings set value = value || '{"seats": 2}'::jsonb
               where key = 'free_plan_limits'`;
      const admin = await signUpUser(stack, "co-admin");
      const member = await signUpUser(stack, "co-member");
      const created = await call(admin.client, "companies", { body: { name: "Acme" } });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      const companyId: string = created.body.id;
      const adminStart = await balance(admin.id);
      const memberStart = await balance(member.id);

      await t.step("a company admin buys a pack: the company wallet is credited", async () => {
        assert.equal(await balance(companyId), 0, "a new company's wallet starts empty");
        const s = await call(admin.client, "checkout/session", {
          body: { provider: "stripe", pack_id: "pack-100", company_id: companyId },
        });
        assert.equal(s.status, 201, JSON.stringify(s.body));
        const [completed] = await fake.complete(s.body.session_id);
        const res = await fetch(`${stack.apiUrl}/functions/v1/webhooks/stripe`, {
          method: "POST",
          headers: completed.headers as Record<string, string>,
          body: completed.body,
        });
        assert.equal(res.status, 200, await res.text());
        assert.equal(await balance(companyId), 100);
        assert.equal(await balance(admin.id), adminStart, "not the buying admin's wallet");
      });

      await t.step(
        "a member joins within the seats; the company wallet is theirs to read",
        async () => {
          const accepted = await join(admin, member, companyId);
          assert.equal(accepted.status, 200, JSON.stringify(accepted.body));
          const w = await call(member.client, `wallet?company_id=${companyId}`);
          assert.equal(w.status, 200, JSON.stringify(w.body));
          assert.equal(w.body.balance, 100);
          assert.equal(w.body.usage[0].reason, "purchase");
          const outsider = await signUpUser(stack, "co-outsider");
          assert.equal((await call(outsider.client, `wallet?company_id=${companyId}`)).status, 404);
        },
      );

      await t.step("the seat past the company plan's seats is refused at the accept", async () => {
        const third = await signUpUser(stack, "co-third");
        const r = await join(admin, third, companyId);
        assert.equal(r.status, 403, JSON.stringify(r.body));
        assert.equal(r.body.error.code, "plan_limit_reached");
        assert.equal(r.body.error.details.limit, "seats");
        const [{ n }] = await sql<{ n: number }[]>`select count(*)::int as n
        from public.company_members where company_id = ${companyId}`;
        assert.equal(n, 2, "nobody was added");
      });

      await t.step(
        "a member's answer on a company workbench debits the company, on their own workbench them",
        async () => {
          const file = {
            name: "notes.txt",
            bytes: text("The zebra project budget is 42 dollars."),
          };
          const companyWb = await newWorkbench(admin, "Company books", companyId);
          await uploadAndWait(admin, companyWb, [file]);
          const ownWb = await newWorkbench(member, "My books");
          await uploadAndWait(member, ownWb, [file]);

          const onCompany = await ask(
            member,
            await openSession(member, companyWb),
            "zebra budget?",
          );
          assert.equal(onCompany.status, 200, JSON.stringify(onCompany.body));
          assert.equal(await balance(companyId), 99);
          assert.equal(await balance(member.id), memberStart, "not the member's wallet");

          const onOwn = await ask(member, await openSession(member, ownWb), "zebra budget?");
          assert.equal(onOwn.status, 200, JSON.stringify(onOwn.body));
          assert.equal(await balance(member.id), memberStart - 1);
          assert.equal(await balance(companyId), 99, "not the company's");

          // The company's plan allows the answers it has had this month and no more.
          await sql`update private.settings set value = value || '{"chat_answers_month": 1}'::jsonb
                   where key = 'free_plan_limits'`;
          const session = await openSession(member, companyWb);
          const before = await sql<{ n: number }[]>`select count(*)::int as n from public.message
          where session_id = ${session}`;
          const refused = await ask(member, session, "zebra budget?");
          assert.equal(refused.status, 403, JSON.stringify(refused.body));
          assert.equal(refused.body.error.code, "plan_limit_reached");
          assert.equal(refused.body.error.details.limit, "chat_answers_month");
          assert.equal(await balance(companyId), 99, "nothing charged");
          const after = await sql<{ n: number }[]>`select count(*)::int as n from public.message
          where session_id = ${session}`;
          assert.equal(after[0].n, before[0].n, "no message was written");
        },
      );

      await t.step("GET /billing/usage?company_id= is the company wallet's usage", async () => {
        const r = await call(member.client, `billing/usage?company_id=${companyId}`);
        assert.equal(r.status, 200, JSON.stringify(r.body));
        const usage = Object.fromEntries(
          (r.body.limits as { limit: string; usage: number; max: number }[])
            .map((l) => [l.limit, [l.usage, l.max]]),
        );
        assert.deepEqual(usage.seats, [2, 2], "two members of two seats");
        assert.deepEqual(usage.chat_answers_month, [1, 1]);
        assert.equal(usage.workbenches[0], 1, "the company's workbench, not the member's own");
        assert.equal(r.body.spent, 1, "one answer's credit, from the company's ledger");
        const own = await call(member.client, "billing/usage");
        assert.equal(own.body.spent, 1, "the member's own answer on their own ledger");
        const outsider = await signUpUser(stack, "co-usage-outsider");
        assert.equal(
          (await call(outsider.client, `billing/usage?company_id=${companyId}`)).status,
          404,
        );
      });
    } finally {
      await stack.stop();
      await fake.close();
    }
  },
);
