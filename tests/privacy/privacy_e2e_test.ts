/**
 * Privacy end to end through supabase-js (issue 23): the audit trail of a company (actor and
 * request id, admins only), the export of an account (its own data and files, nothing of another
 * user), and the erasure: deactivated at once (tokens and sign-in refused), restored within the
 * window, erased after it (personal data and stored objects gone, company data and the ledger
 * kept without the email).
 */
import assert from "node:assert/strict";
import { unzipSync } from "fflate";
import { getDb } from "../../shared/db.ts";
import {
  anonClient,
  eventuallyDispatched,
  serviceClient,
  signUpUser,
  startTestStack,
  type TestUser,
} from "../helpers/stack.ts";
import { documentedCall } from "../api/documented.ts";

/** Every answer of me and companies (audit) is checked against docs/openapi.json. */
const call = documentedCall("me", "companies");

const opts = { sanitizeOps: false, sanitizeResources: false };
// deno-lint-ignore no-explicit-any
type Json = any;

async function upload(user: TestUser, workbenchId: string, name: string, text: string) {
  const fd = new FormData();
  fd.append("file", new Blob([text]), name);
  const res = await call(user.client, `workbenches/${workbenchId}/files`, { body: fd });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body.files[0].id as string;
}

Deno.test("privacy: audit trail, export and erasure end to end", opts, async (t) => {
  const stack = await startTestStack();
  const sql = getDb();
  try {
    const alice = await signUpUser(stack, "alice");
    const bob = await signUpUser(stack, "bob");
    const carol = await signUpUser(stack, "carol");

    let companyId = "";
    await t.step(
      "`GET /companies/{id}/audit` lists the company's rows with actor and request id",
      async () => {
        const created = await call(alice.client, "companies", {
          body: { name: "Alice Co" },
          headers: { "x-request-id": "req-privacy-e2e-1" },
        });
        assert.equal(created.status, 201, JSON.stringify(created.body));
        companyId = created.body.id;
        const res = await call(alice.client, `companies/${companyId}/audit?action=company.created`);
        assert.equal(res.status, 200, JSON.stringify(res.body));
        assert.equal(res.body.items.length, 1);
        assert.equal(res.body.items[0].actor, alice.id);
        assert.equal(res.body.items[0].request_id, "req-privacy-e2e-1");
        assert.equal(res.body.next_offset, null);
        const all = await call(alice.client, `companies/${companyId}/audit?limit=1`);
        assert.equal(all.body.items.length, 1);
        assert.equal(all.body.next_offset, 1, "the owner's member row is a second row");
        const other = await call(bob.client, `companies/${companyId}/audit`);
        assert.equal(other.status, 404, "another tenant's audit trail is not found");
        const signIns = await sql`select 1 from private.audit_log
        where action = 'auth.sign_in' and actor = ${alice.id}`;
        assert.equal(signIns.length, 1, "the API sign-in is recorded once for the session");
      },
    );

    await t.step("`GET /me/export` builds a ZIP of the caller's own data and files", async () => {
      const wb = (await call(alice.client, "workbenches", { body: { name: "Alice books" } })).body;
      await upload(alice, wb.id, "alice-notes.txt", "alice's own words");
      const bobWb = (await call(bob.client, "workbenches", { body: { name: "Bob secret" } })).body;
      await upload(bob, bobWb.id, "bob-notes.txt", "bob's private words");

      // Bob is a member of Alice's company (set up directly; joining is the tenancy suites'
      // business) and chats in its workbench: Alice sees the workbench, not Bob's chat.
      const shared = (await call(alice.client, "workbenches", {
        body: { name: "Company shared", company_id: companyId },
      })).body;
      await sql`insert into public.company_members (company_id, user_id, role)
                values (${companyId}, ${bob.id}, 'member')`;
      await sql`with s as (insert into public.chat_session (workbench_id, user_id)
                           values (${shared.id}, ${bob.id}) returning id)
                insert into public.message (session_id, role, content)
                select id, 'user', 'bob asks the company workbench' from s`;

      // A Stripe invoice each, and a WhatsApp channel of Alice's company with one message.
      await sql`insert into public.billing_invoices (provider, reference, user_id, amount_minor,
                                                    currency, hosted_invoice_url)
                values ('stripe', 'in_alice_export', ${alice.id}, 1000, 'usd', 'https://inv/alice'),
                       ('stripe', 'in_bob_export', ${bob.id}, 2000, 'usd', 'https://inv/bob')`;
      await sql`with c as (
                  insert into public.channels (company_id, workbench_id, created_by, name, secret_hash)
                  values (${companyId}, ${shared.id}, ${alice.id}, 'WhatsApp desk',
                          sha256('export test'::bytea)) returning id),
                s as (insert into public.channel_subscribers (channel_id, subscriber_id, phone)
                      select id, 'sub-export', '+919812345678' from c returning id, channel_id)
                insert into public.channel_messages (channel_id, subscriber_ref, direction,
                                                     dedupe_key, text, status)
                select channel_id, id, 'inbound', 'mc:export-1', 'what is our runway?', 'answered'
                  from s`;

      const started = await call(alice.client, "me/export");
      assert.equal(started.status, 202, JSON.stringify(started.body));
      const again = await call(alice.client, "me/export");
      assert.equal(again.body.id, started.body.id, "the export under way is answered again");
      const foreign = await call(bob.client, `me/exports/${started.body.id}`);
      assert.equal(foreign.status, 404, "another user's export is not found");

      const ready = await eventuallyDispatched(
        async () => {
          const r = await call(alice.client, `me/exports/${started.body.id}`);
          return r.body.status === "ready" || r.body.status === "failed" ? r.body : undefined;
        },
        "export ready",
        60_000,
      );
      assert.equal(ready.status, "ready", JSON.stringify(ready));
      assert.ok(ready.expires_in > 0);
      const zip = new Uint8Array(await (await fetch(ready.download_url)).arrayBuffer());
      const files = unzipSync(zip);
      const text = (name: string) => new TextDecoder().decode(files[name]);
      const names = Object.keys(files);
      for (
        const f of [
          "profile.json",
          "companies.json",
          "workbenches.json",
          "files.json",
          "chat_sessions.json",
          "reports.json",
          "wallet.json",
          "payments.json",
          "invitations.json",
          "invoices.json",
          "channel_messages.json",
        ]
      ) assert.ok(names.includes(f), `${f} is in the export`);
      const invoices = JSON.parse(text("invoices.json")).stripe_invoices;
      assert.deepEqual(invoices.map((i: { reference: string }) => i.reference), [
        "in_alice_export",
      ]);
      const [channel] = JSON.parse(text("channel_messages.json"));
      assert.equal(channel.name, "WhatsApp desk");
      assert.equal(channel.messages[0].text, "what is our runway?");
      assert.equal(
        channel.messages[0].subscriber_phone,
        "•".repeat(9) + "5678",
        "phones stay masked",
      );
      assert.equal(JSON.parse(text("profile.json"))[0].email, alice.email);
      assert.equal(JSON.parse(text("companies.json"))[0].role, "owner");
      const own = names.find((n) => n.startsWith("files/") && n.endsWith("alice-notes.txt"));
      assert.ok(own, names.join(", "));
      assert.equal(text(own), "alice's own words");
      assert.ok(JSON.parse(text("wallet.json")).ledger.length >= 1, "the ledger is exported");
      const everything = names.map(text).join("\n");
      assert.ok(!everything.includes("Bob secret") && !everything.includes(bob.id));
      assert.ok(!everything.includes("bob's private words"));
      assert.ok(!everything.includes("bob asks the company workbench"), "no chat of Bob's");
      assert.ok(!everything.includes("in_bob_export") && !everything.includes("+919812345678"));
      assert.ok(everything.includes("Company shared"), "the company workbench Alice made is in");
      const audited = await sql`select action from private.audit_log
        where entity = 'export' and entity_id = ${started.body.id} order by id`;
      assert.deepEqual(audited.map((r) => r.action), [
        "account.export_requested",
        "account.exported",
        "account.export_downloaded",
      ]);
    });

    await t.step("`DELETE /me` by a company's last owner is 409 last_owner", async () => {
      const res = await call(alice.client, "me", { method: "DELETE" });
      assert.equal(res.status, 409, JSON.stringify(res.body));
      assert.equal(res.body.error.code, "last_owner");
    });

    await t.step(
      "`DELETE /me` deactivates at once, restore undoes it, the job erases",
      async () => {
        await sql`update private.settings set value = '2' where key = 'erasure_retention_seconds'`;
        const wb = (await call(carol.client, "workbenches", { body: { name: "Carol's" } })).body;
        const fileId = await upload(carol, wb.id, "carol.txt", "carol's words");
        const [{ storage_path }] = await sql`select storage_path from public.workbench_files
        where id = ${fileId}`;

        const first = await call(carol.client, "me", { method: "DELETE" });
        assert.equal(first.status, 202, JSON.stringify(first.body));
        const wrong = await call(carol.client, "me", {
          method: "DELETE",
          body: { confirmation_token: "x".repeat(43) },
        });
        assert.equal(wrong.status, 400);
        const done = await call(carol.client, "me", {
          method: "DELETE",
          body: { confirmation_token: first.body.confirmation_token },
        });
        assert.equal(done.status, 200, JSON.stringify(done.body));
        assert.equal(done.body.status, "deactivated");

        const refused = await call(carol.client, "workbenches");
        assert.equal(refused.status, 401);
        assert.equal(refused.body.error.code, "account_deactivated");
        const [before] = await sql`select balance from public.wallet where user_id = ${carol.id}`;
        const charge = await call(carol.client, "reports", {
          body: { workbench_id: wb.id, report_type: "financial_summary", title: "After" },
          headers: { "Idempotency-Key": "after-deactivation" },
        });
        assert.equal(charge.status, 401, "no report (and no charge) for a deactivated account");
        const [after] = await sql`select balance from public.wallet where user_id = ${carol.id}`;
        assert.equal(after.balance, before.balance, "nothing charged");
        // Checkout runs on the service connection, not asUser: the token check refuses it too.
        const checkout = await call(carol.client, "checkout/session", { body: { plan_id: "pro" } });
        assert.equal(checkout.status, 401, JSON.stringify(checkout.body));
        assert.equal(checkout.body.error.code, "account_deactivated");
        const signIn = await anonClient(stack).auth.signInWithPassword({
          email: carol.email,
          password: "correct-horse-battery",
        });
        assert.ok(signIn.error, "sign-in is refused");

        const restored = await call(anonClient(stack), "me/restore", {
          body: { restore_token: done.body.restore_token },
        });
        assert.equal(restored.status, 200, JSON.stringify(restored.body));
        assert.equal((await call(carol.client, "workbenches")).status, 200, "served again");

        const first2 = await call(carol.client, "me", { method: "DELETE" });
        const done2 = await call(carol.client, "me", {
          method: "DELETE",
          body: { confirmation_token: first2.body.confirmation_token },
        });
        assert.equal(done2.status, 200);
        await new Promise((r) => setTimeout(r, 2100));
        const late = await call(anonClient(stack), "me/restore", {
          body: { restore_token: done2.body.restore_token },
        });
        assert.equal(late.status, 404, "no restore after the window");

        await sql`select private.run_due_erasures()`;
        const [state] = await sql`select state from private.account_erasures
        where user_id = ${carol.id}`;
        assert.equal(state.state, "erased");
        assert.equal((await sql`select 1 from public.workbench where id = ${wb.id}`).length, 0);
        const [user] = await sql`select email, raw_user_meta_data from auth.users
        where id = ${carol.id}`;
        assert.equal(user.email, null);
        const ledger = await sql`select 1 from public.wallet_usage where user_id = ${carol.id}`;
        assert.ok(ledger.length >= 1, "the ledger is kept");
        await eventuallyDispatched(
          async () => {
            const { error } = await serviceClient(stack).storage.from("workbench").download(
              storage_path,
            );
            return error ? true : undefined;
          },
          "carol's object removed",
          30_000,
        );
      },
    );
  } finally {
    await stack.stop();
  }
});
