/**
 * Taking an invitation needs its mailed token (issue 24, item 1), end to end through supabase-js
 * and the mail catcher. With email confirmation off (config.toml's default), anyone can sign up
 * with the invitee's address and so "own" that confirmed email: Mallory does, sees Alice's
 * invitation, and is refused without the token and with a wrong one. The invitee who reads the
 * mailbox accepts with the token; the token works once and not after the invitation expires; the
 * inviting admin never gets the token, and the database keeps only its SHA-256. Without a mail
 * provider an invitation is refused (503) unless `INVITATION_LINK_IN_RESPONSE=true` returns the
 * link to the admin. With confirmation on, local Auth mails a confirmation link to the catcher, an
 * unconfirmed account gets no session, and the confirmed invitee still needs the token.
 */
import assert from "node:assert/strict";
import type { Stack } from "../../local/stack.ts";
import { companiesDepsFromEnv } from "../../functions/companies/deps.ts";
import { createCompaniesHandler } from "../../functions/companies/handler.ts";
import { getDb } from "../../shared/db.ts";
import { loadEnv } from "../../shared/env.ts";
import { serve } from "../../shared/http.ts";
import {
  anonClient,
  call,
  invitationToken,
  mailedInvitation,
  signUpUser,
  startTestStack,
  type TestUser,
} from "../helpers/stack.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };

async function signUpAs(stack: Stack, email: string): Promise<TestUser> {
  const client = anonClient(stack);
  const { data, error } = await client.auth.signUp({ email, password: "correct-horse-battery" });
  if (error || !data.session || !data.user) throw new Error(`signUp failed: ${error?.message}`);
  return { id: data.user.id, email, token: data.session.access_token, client };
}

/** The companies function in this process, on the stack's database, with `env`. */
function inProcess(env: Record<string, string>): (req: Request) => Promise<Response> {
  return serve("companies", createCompaniesHandler(companiesDepsFromEnv(loadEnv(env), getDb)));
}

async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

Deno.test(
  "`POST /invitations/{id}/accept` needs the mailed token, not just the email",
  opts,
  async (t) => {
    const stack = await startTestStack();
    const sql = getDb();
    try {
      const alice = await signUpUser(stack, "alice");
      const company = await call(alice.client, "companies", { body: { name: "Acme" } });
      const companyId = company.body.id;
      const newhire = "newhire@example.com";
      let invitationId = "";

      await t.step(
        "the invitation goes to the invited address; the admin never sees the token",
        async () => {
          const invited = await call(alice.client, `companies/${companyId}/invitations`, {
            body: { email: newhire, role: "admin" },
          });
          assert.equal(invited.status, 201, JSON.stringify(invited.body));
          invitationId = invited.body.id;
          const mailed = await mailedInvitation(stack, newhire, invitationId);
          assert.ok(mailed, "the catcher holds the invitation mail");
          assert.ok(mailed.link.startsWith("http://127.0.0.1:3000/invitations/accept#"));
          assert.ok(mailed.token.length >= 22, "at least 128 bits, base64url");
          assert.ok(!JSON.stringify(invited.body).includes(mailed.token), "not in the 201 answer");
          const listed = await call(alice.client, `companies/${companyId}/invitations`);
          assert.ok(!JSON.stringify(listed.body).includes(mailed.token), "not in the admin's list");
          const [stored] = await sql`select encode(token_hash, 'hex') as hash
                                   from private.company_invitation_tokens
                                  where invitation_id = ${invitationId}`;
          assert.equal(stored.hash, await sha256Hex(mailed.token), "only the SHA-256 is stored");
          const [{ n }] = await sql`select count(*)::int as n from public.company_invitations i
                                 where i::text like ${"%" + mailed.token + "%"}`;
          assert.equal(n, 0);
        },
      );

      await t.step(
        "Mallory signs up with the invitee's address and cannot take the invitation",
        async () => {
          const mallory = await signUpAs(stack, newhire);
          const seen = await call(mallory.client, "invitations");
          assert.deepEqual(seen.body.invitations.map((i: { id: string }) => i.id), [invitationId]);

          const noToken = await call(mallory.client, `invitations/${invitationId}/accept`, {
            body: {},
          });
          assert.equal(noToken.status, 400, JSON.stringify(noToken.body));
          assert.equal(noToken.body.error.code, "validation_failed");
          const empty = await call(mallory.client, `invitations/${invitationId}/accept`, {
            body: { token: "" },
          });
          assert.equal(empty.status, 400);
          const guessed = await call(mallory.client, `invitations/${invitationId}/accept`, {
            body: { token: "A".repeat(43) },
          });
          assert.equal(guessed.status, 403, JSON.stringify(guessed.body));
          assert.equal(guessed.body.error.code, "invitation_token_invalid");
          const declined = await call(mallory.client, `invitations/${invitationId}/decline`, {
            body: { token: "A".repeat(43) },
          });
          assert.equal(declined.status, 403, "nor can she turn it down for the invitee");

          assert.deepEqual((await call(mallory.client, "companies")).body.companies, []);
          assert.equal((await call(mallory.client, `companies/${companyId}/members`)).status, 404);
          const [row] = await sql`select status from public.company_invitations
                               where id = ${invitationId}`;
          assert.equal(row.status, "pending", "the invitation is still open");
        },
      );

      await t.step("the invitee accepts with the mailed token, once", async () => {
        const email = "real-invitee@example.com";
        const invitee = await signUpAs(stack, email);
        const invited = await call(alice.client, `companies/${companyId}/invitations`, {
          body: { email, role: "member" },
        });
        const token = await invitationToken(stack, email, invited.body.id);
        const otherToken = await invitationToken(stack, newhire, invitationId);
        const crossed = await call(invitee.client, `invitations/${invited.body.id}/accept`, {
          body: { token: otherToken },
        });
        assert.equal(crossed.status, 403, "another invitation's token does not open this one");

        const accepted = await call(invitee.client, `invitations/${invited.body.id}/accept`, {
          body: { token },
        });
        assert.equal(accepted.status, 200, JSON.stringify(accepted.body));
        assert.deepEqual(accepted.body, {
          company_id: companyId,
          role: "member",
          company_name: "Acme",
        });
        const reused = await call(invitee.client, `invitations/${invited.body.id}/accept`, {
          body: { token },
        });
        assert.equal(reused.status, 409);
        assert.equal(reused.body.error.code, "invitation_used");
      });

      await t.step(
        "inviting again replaces the token; an expired invitation is refused",
        async () => {
          const email = "late@example.com";
          const late = await signUpAs(stack, email);
          const first = await call(alice.client, `companies/${companyId}/invitations`, {
            body: { email },
          });
          const oldToken = await invitationToken(stack, email, first.body.id);
          const again = await call(alice.client, `companies/${companyId}/invitations`, {
            body: { email },
          });
          assert.equal(again.body.id, first.body.id, "the open invitation is refreshed");
          const newToken = await invitationToken(stack, email, first.body.id);
          assert.notEqual(newToken, oldToken);
          const stale = await call(late.client, `invitations/${first.body.id}/accept`, {
            body: { token: oldToken },
          });
          assert.equal(stale.status, 403, "the older link no longer works");

          await sql`update public.company_invitations set expires_at = now() - interval '1 minute'
                 where id = ${first.body.id}`;
          const expired = await call(late.client, `invitations/${first.body.id}/accept`, {
            body: { token: newToken },
          });
          assert.equal(expired.status, 410);
          assert.equal(expired.body.error.code, "invitation_expired");
          assert.deepEqual((await call(late.client, "companies")).body.companies, []);
        },
      );

      await t.step(
        "without a mail provider: 503, or the link for the admin when allowed",
        async () => {
          const request = (body: unknown) =>
            new Request(`${stack.apiUrl}/functions/v1/companies/${companyId}/invitations`, {
              method: "POST",
              headers: {
                authorization: `Bearer ${alice.token}`,
                "content-type": "application/json",
              },
              body: JSON.stringify(body),
            });
          const env = { ...stack.functionEnv, MAIL_API_KEY: "" };
          const noMail = inProcess(env);
          const refused = await noMail(request({ email: "nomail@example.com" }));
          assert.equal(refused.status, 503);
          assert.equal((await refused.json()).error.code, "mail_not_configured");
          const [{ n }] = await sql`select count(*)::int as n from public.company_invitations
                                 where email = 'nomail@example.com'`;
          assert.equal(n, 0, "nothing saved");

          const linkEnv = { ...env, INVITATION_LINK_IN_RESPONSE: "true" };
          const created = await inProcess(linkEnv)(request({ email: "nomail@example.com" }));
          assert.equal(created.status, 201);
          const body = await created.json();
          const fragment = new URLSearchParams(new URL(body.invite_link).hash.slice(1));
          assert.equal(fragment.get("invitation"), body.id);
          assert.equal(await mailedInvitation(stack, "nomail@example.com"), undefined, "no mail");
          const invitee = await signUpAs(stack, "nomail@example.com");
          const accepted = await call(invitee.client, `invitations/${body.id}/accept`, {
            body: { token: fragment.get("token") },
          });
          assert.equal(accepted.status, 200, "the link the admin passed on works");
        },
      );

      await t.step("a mail the provider refuses leaves no invitation (502)", async () => {
        const env = { ...stack.functionEnv, MAIL_API_KEY: "re_wrong_key" };
        const res = await inProcess(env)(
          new Request(`${stack.apiUrl}/functions/v1/companies/${companyId}/invitations`, {
            method: "POST",
            headers: { authorization: `Bearer ${alice.token}`, "content-type": "application/json" },
            body: JSON.stringify({ email: "bounced@example.com" }),
          }),
        );
        assert.equal(res.status, 502);
        assert.equal((await res.json()).error.code, "mail_failed");
        const [{ n }] = await sql`select count(*)::int as n from public.company_invitations
                                 where email = 'bounced@example.com'`;
        assert.equal(n, 0);
      });
    } finally {
      await stack.stop();
    }
  },
);

Deno.test(
  "local Auth with confirmation on mails a link, no session before it; the token is still needed",
  opts,
  async () => {
    const stack = await startTestStack({ emailConfirmations: true });
    try {
      const settings = await fetch(`${stack.apiUrl}/auth/v1/settings`, {
        headers: { apikey: stack.anonKey },
      }).then((r) => r.json());
      assert.equal(settings.autoconfirm, false);

      const email = "confirm-me@example.com";
      const client = anonClient(stack);
      const signedUp = await client.auth.signUp({ email, password: "correct-horse-battery" });
      assert.equal(signedUp.error, null);
      assert.equal(signedUp.data.session, null, "no session before confirming");
      assert.equal(signedUp.data.user?.email_confirmed_at ?? null, null);
      const early = await client.auth.signInWithPassword({
        email,
        password: "correct-horse-battery",
      });
      assert.equal(early.error?.code, "email_not_confirmed");

      const res = await fetch(`${stack.mail.url}/mail?to=${email}`);
      const [mail] = (await res.json()).messages;
      assert.equal(mail.subject, "Confirm your signup");
      const link = /http\S+\/auth\/v1\/verify\?\S+/.exec(mail.text)?.[0];
      assert.ok(link, "the mail holds the confirmation link");
      const wrong = await fetch(link.replace(/token=[^&]+/, "token=nope"), { redirect: "manual" });
      await wrong.body?.cancel();
      assert.match(wrong.headers.get("location") ?? "", /error_code=otp_expired/);

      const opened = await fetch(link, { redirect: "manual" });
      await opened.body?.cancel();
      assert.equal(opened.status, 303);
      const location = new URL(opened.headers.get("location")!);
      assert.equal(location.origin, "http://127.0.0.1:3000", "to config.toml's site_url");
      const session = new URLSearchParams(location.hash.slice(1));
      assert.ok(session.get("access_token"));
      const me = await fetch(`${stack.apiUrl}/auth/v1/user`, {
        headers: { apikey: stack.anonKey, authorization: `Bearer ${session.get("access_token")}` },
      }).then((r) => r.json());
      assert.ok(me.email_confirmed_at, "the session's user is confirmed");
      const again = await fetch(link, { redirect: "manual" });
      await again.body?.cancel();
      assert.match(again.headers.get("location") ?? "", /error_code=otp_expired/, "used once");
      const later = await client.auth.signInWithPassword({
        email,
        password: "correct-horse-battery",
      });
      assert.equal(later.error, null, "signs in once confirmed");

      // The invitation flow is the same with confirmation on: the confirmed invitee still needs
      // the mailed token. The inviting admin is created confirmed through Auth's admin API.
      const adminEmail = "admin-confirmed@example.com";
      const created = await fetch(`${stack.apiUrl}/auth/v1/admin/users`, {
        method: "POST",
        headers: {
          apikey: stack.serviceRoleKey,
          authorization: `Bearer ${stack.serviceRoleKey}`,
          "content-type": "application/json",
        },
        body: JSON.stringify({ email: adminEmail, password: "pw-123456", email_confirm: true }),
      });
      assert.equal(created.status, 200);
      await created.body?.cancel();
      const admin = anonClient(stack);
      assert.equal(
        (await admin.auth.signInWithPassword({ email: adminEmail, password: "pw-123456" })).error,
        null,
      );
      const company = await call(admin, "companies", { body: { name: "Initech" } });
      const invited = await call(admin, `companies/${company.body.id}/invitations`, {
        body: { email },
      });
      assert.equal(invited.status, 201);
      const listed = await call(client, "invitations");
      assert.deepEqual(listed.body.invitations.map((i: { id: string }) => i.id), [invited.body.id]);
      const noToken = await call(client, `invitations/${invited.body.id}/accept`, {
        body: { token: "x".repeat(43) },
      });
      assert.equal(noToken.status, 403, "a confirmed email is still not enough");
      const accepted = await call(client, `invitations/${invited.body.id}/accept`, {
        body: { token: await invitationToken(stack, email, invited.body.id) },
      });
      assert.equal(accepted.status, 200, JSON.stringify(accepted.body));
    } finally {
      await stack.stop();
    }
  },
);
