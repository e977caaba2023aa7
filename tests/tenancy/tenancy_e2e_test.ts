/**
 * Tenancy end to end through supabase-js: company membership by invitation (the same answer for an
 * email with or without an account; sign up, list, accept with the token mailed to the mail
 * catcher; expired, reused and declined invitations refused; the attack on invitations without
 * their token is invitation_token_e2e_test.ts), owners only by an owner's promotion, the last owner staying, deleting a
 * sole owner through Auth handing the company over; and the workbench member routes (raise-only
 * roles, managers, PATCH and DELETE of a workbench with its stored objects collected).
 */
import assert from "node:assert/strict";
import type { Stack } from "../../local/stack.ts";
import { getDb } from "../../shared/db.ts";
import {
  anonClient,
  call,
  eventuallyDispatched,
  invitationToken,
  serviceClient,
  signUpUser,
  startTestStack,
  type TestUser,
} from "../helpers/stack.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };

// deno-lint-ignore no-explicit-any
type Json = any;

let serial = 0;
const freshEmail = (name: string) => `${name}-${Date.now()}-${++serial}@example.com`;

/** Signs up with a chosen email (an invitation can come before the account). */
async function signUpAs(stack: Stack, email: string): Promise<TestUser> {
  const client = anonClient(stack);
  const { data, error } = await client.auth.signUp({ email, password: "correct-horse-battery" });
  if (error || !data.session || !data.user) throw new Error(`signUp failed: ${error?.message}`);
  return { id: data.user.id, email, token: data.session.access_token, client };
}

/**
 * Deletes an account through Auth's admin API (`DELETE /auth/v1/admin/users/{id}`), as Studio and
 * GDPR erasure do. (supabase-js's `auth.admin.deleteUser` first reads the user with
 * `GET /admin/users/{id}`, which the local Auth does not serve.) Returns the status.
 */
async function deleteAccount(stack: Stack, userId: string): Promise<number> {
  const res = await fetch(`${stack.apiUrl}/auth/v1/admin/users/${userId}`, {
    method: "DELETE",
    headers: { apikey: stack.serviceRoleKey, authorization: `Bearer ${stack.serviceRoleKey}` },
  });
  await res.body?.cancel();
  return res.status;
}

/** `owner` invites `user` into `companyId` with `role`, and `user` accepts with the mailed token. */
async function join(
  stack: Stack,
  owner: TestUser,
  user: TestUser,
  companyId: string,
  role = "member",
) {
  const invited = await call(owner.client, `companies/${companyId}/invitations`, {
    body: { email: user.email, role },
  });
  assert.equal(invited.status, 201, JSON.stringify(invited.body));
  const token = await invitationToken(stack, user.email, invited.body.id);
  const accepted = await call(user.client, `invitations/${invited.body.id}/accept`, {
    body: { token },
  });
  assert.equal(accepted.status, 200, JSON.stringify(accepted.body));
}

Deno.test("company invitations and ownership end to end", opts, async (t) => {
  const stack = await startTestStack();
  const sql = getDb();
  try {
    const olivia = await signUpUser(stack, "olivia");
    const bob = await signUpUser(stack, "bob");
    const dave = await signUpUser(stack, "dave");
    const stranger = await signUpUser(stack, "stranger");
    const carolEmail = freshEmail("carol");
    let carol: TestUser | undefined;
    let companyId = "";
    const invitations: Record<string, Json> = {};

    await t.step(
      "an invitation answers the same whether or not the email has an account",
      async () => {
        const created = await call(olivia.client, "companies", { body: { name: "Acme" } });
        assert.equal(created.status, 201);
        companyId = created.body.id;

        const noAccount = await call(olivia.client, `companies/${companyId}/invitations`, {
          body: { email: carolEmail, role: "member" },
        });
        const withAccount = await call(olivia.client, `companies/${companyId}/invitations`, {
          body: { email: bob.email, role: "member" },
        });
        assert.equal(noAccount.status, 201);
        assert.equal(withAccount.status, 201);
        const shape = (b: Json) => ({
          keys: Object.keys(b).sort(),
          role: b.role,
          status: b.status,
          company_id: b.company_id,
          ttl_days: Math.round((Date.parse(b.expires_at) - Date.parse(b.created_at)) / 86_400_000),
        });
        assert.deepEqual(shape(noAccount.body), shape(withAccount.body));
        assert.deepEqual(shape(noAccount.body).keys, [
          "company_id",
          "created_at",
          "email",
          "expires_at",
          "id",
          "role",
          "status",
        ]);
        assert.equal(shape(noAccount.body).ttl_days, 7);
        assert.ok(!JSON.stringify(withAccount.body).includes(bob.id), "no user id in the answer");
        invitations.carol = noAccount.body;
        invitations.bob = withAccount.body;

        const list = await call(olivia.client, `companies/${companyId}/invitations`);
        assert.deepEqual(
          list.body.invitations.map((i: Json) => i.email).sort(),
          [bob.email, carolEmail].sort(),
        );
      },
    );

    await t.step("inviting as owner, by a stranger, or an existing member is refused", async () => {
      const asOwner = await call(olivia.client, `companies/${companyId}/invitations`, {
        body: { email: dave.email, role: "owner" },
      });
      assert.equal(asOwner.status, 400);
      assert.equal(asOwner.body.error.code, "validation_failed");
      const byStranger = await call(stranger.client, `companies/${companyId}/invitations`, {
        body: { email: dave.email },
      });
      assert.equal(byStranger.status, 404);
      const self = await call(olivia.client, `companies/${companyId}/invitations`, {
        body: { email: olivia.email.toUpperCase() },
      });
      assert.equal(self.status, 409);
      assert.equal(self.body.error.code, "already_member");
      const oldRoute = await call(olivia.client, `companies/${companyId}/members`, {
        body: { email: bob.email, role: "owner" },
      });
      assert.equal(oldRoute.status, 405, "members are no longer added without consent");
      const members = await call(olivia.client, `companies/${companyId}/members`);
      assert.deepEqual(members.body.members.map((m: Json) => m.email), [olivia.email]);
    });

    await t.step(
      "the invitee signs up, lists and accepts; the invitation is single use",
      async () => {
        carol = await signUpAs(stack, carolEmail);
        const mine = await call(carol.client, "invitations");
        assert.equal(mine.status, 200);
        assert.deepEqual(mine.body.invitations.map((i: Json) => [i.id, i.company_name, i.role]), [
          [invitations.carol.id, "Acme", "member"],
        ]);
        const token = await invitationToken(stack, carolEmail, invitations.carol.id);
        // Even with the token (a forwarded mail), someone else's invitation is not found.
        const theirs = await call(stranger.client, `invitations/${invitations.carol.id}/accept`, {
          body: { token },
        });
        const unknown = await call(stranger.client, `invitations/${crypto.randomUUID()}/accept`, {
          body: { token },
        });
        assert.equal(theirs.status, 404, "someone else's invitation is not found");
        assert.deepEqual(
          [theirs.body.error.code, theirs.body.error.message],
          [unknown.body.error.code, unknown.body.error.message],
        );

        const accepted = await call(carol.client, `invitations/${invitations.carol.id}/accept`, {
          body: { token },
        });
        assert.equal(accepted.status, 200);
        assert.deepEqual(accepted.body, {
          company_id: companyId,
          role: "member",
          company_name: "Acme",
        });
        const companies = await call(carol.client, "companies");
        assert.deepEqual(companies.body.companies.map((c: Json) => [c.id, c.role]), [
          [companyId, "member"],
        ]);
        const again = await call(carol.client, `invitations/${invitations.carol.id}/accept`, {
          body: { token },
        });
        assert.equal(again.status, 409);
        assert.equal(again.body.error.code, "invitation_used");
        assert.deepEqual((await call(carol.client, "invitations")).body.invitations, []);
      },
    );

    await t.step("a declined invitation cannot be accepted", async () => {
      const token = await invitationToken(stack, bob.email, invitations.bob.id);
      const declined = await call(bob.client, `invitations/${invitations.bob.id}/decline`, {
        body: { token },
      });
      assert.equal(declined.status, 204);
      const late = await call(bob.client, `invitations/${invitations.bob.id}/accept`, {
        body: { token },
      });
      assert.equal(late.status, 409);
      assert.deepEqual((await call(bob.client, "companies")).body.companies, []);
    });

    await t.step("an expired invitation is refused", async () => {
      const invited = await call(olivia.client, `companies/${companyId}/invitations`, {
        body: { email: dave.email, role: "admin" },
      });
      await sql`update public.company_invitations set expires_at = now() - interval '1 minute'
                 where id = ${invited.body.id}`;
      assert.deepEqual((await call(dave.client, "invitations")).body.invitations, []);
      const expired = await call(dave.client, `invitations/${invited.body.id}/accept`, {
        body: { token: await invitationToken(stack, dave.email, invited.body.id) },
      });
      assert.equal(expired.status, 410);
      assert.equal(expired.body.error.code, "invitation_expired");
      assert.deepEqual((await call(dave.client, "companies")).body.companies, []);
    });

    await t.step("members see each other; outsiders see nothing", async () => {
      const members = await call(carol!.client, `companies/${companyId}/members`);
      assert.deepEqual(members.body.members.map((m: Json) => [m.email, m.role]), [
        [olivia.email, "owner"],
        [carolEmail, "member"],
      ]);
      const outsider = await call(stranger.client, `companies/${companyId}/members`);
      assert.equal(outsider.status, 404);
    });

    await t.step("only an owner makes an owner, by promoting a member", async () => {
      await join(stack, olivia, dave, companyId, "admin");
      const byAdmin = await call(dave.client, `companies/${companyId}/members/${carol!.id}`, {
        method: "PATCH",
        body: { role: "owner" },
      });
      assert.equal(byAdmin.status, 403);
      const selfPromotion = await call(dave.client, `companies/${companyId}/members/${dave.id}`, {
        method: "PATCH",
        body: { role: "owner" },
      });
      assert.equal(selfPromotion.status, 403);
      const byMember = await call(carol!.client, `companies/${companyId}/members/${carol!.id}`, {
        method: "PATCH",
        body: { role: "admin" },
      });
      assert.equal(byMember.status, 403);
      const byOwner = await call(olivia.client, `companies/${companyId}/members/${carol!.id}`, {
        method: "PATCH",
        body: { role: "owner" },
      });
      assert.equal(byOwner.status, 200);
      assert.equal(byOwner.body.role, "owner");
      const outsider = await call(olivia.client, `companies/${companyId}/members/${bob.id}`, {
        method: "PATCH",
        body: { role: "owner" },
      });
      assert.equal(outsider.status, 404, "someone who never accepted cannot be promoted");
    });

    await t.step("the last owner cannot leave", async () => {
      const demoted = await call(carol!.client, `companies/${companyId}/members/${carol!.id}`, {
        method: "PATCH",
        body: { role: "member" },
      });
      assert.equal(demoted.status, 200, "an owner may step down while another owner remains");
      const leave = await call(olivia.client, `companies/${companyId}/members/${olivia.id}`, {
        method: "DELETE",
      });
      assert.equal(leave.status, 409);
      assert.equal(leave.body.error.code, "last_owner");
      const stepDown = await call(olivia.client, `companies/${companyId}/members/${olivia.id}`, {
        method: "PATCH",
        body: { role: "admin" },
      });
      assert.equal(stepDown.status, 409);
    });

    await t.step("deleting the sole owner's account hands the company to an admin", async () => {
      assert.equal(await deleteAccount(stack, olivia.id), 200);
      const members = await call(dave.client, `companies/${companyId}/members`);
      assert.deepEqual(members.body.members.map((m: Json) => [m.email, m.role]), [
        [carolEmail, "member"],
        [dave.email, "owner"],
      ]);
      const companies = await call(dave.client, "companies");
      assert.deepEqual(companies.body.companies.map((c: Json) => c.role), ["owner"]);
    });

    await t.step("deleting the last member deletes the company", async () => {
      const solo = await call(stranger.client, "companies", { body: { name: "Solo" } });
      assert.equal(await deleteAccount(stack, stranger.id), 200);
      const [{ n }] = await sql`select count(*)::int as n from public.company
                                 where id = ${solo.body.id}`;
      assert.equal(n, 0);
    });
  } finally {
    await stack.stop();
  }
});

// These routes live in functions/workbenches/member_routes.ts and are mounted by the workbenches
// handler.
Deno.test("workbench member routes end to end", opts, async (t) => {
  const stack = await startTestStack();
  const sql = getDb();
  try {
    const owner = await signUpUser(stack, "co-owner");
    const member = await signUpUser(stack, "plain-member");
    const other = await signUpUser(stack, "other-member");
    const stranger = await signUpUser(stack, "outsider");
    const company = await call(owner.client, "companies", { body: { name: "Acme" } });
    const companyId = company.body.id;
    await join(stack, owner, member, companyId);
    await join(stack, owner, other, companyId);
    let workbenchId = "";

    await t.step(
      "a plain member cannot lower the company owner on a company workbench",
      async () => {
        const wb = await call(member.client, "workbenches", {
          body: { name: "Trap", company_id: companyId },
        });
        assert.equal(wb.status, 201);
        workbenchId = wb.body.id;
        const added = await call(member.client, `workbenches/${workbenchId}/members`, {
          body: { user_id: owner.id, role: "viewer" },
        });
        assert.equal(added.status, 201, "the creator may add explicit rows");
        const seen = await call(owner.client, `workbenches/${workbenchId}`);
        assert.equal(seen.body.role, "editor", "the explicit viewer row does not lower the owner");
        const removed = await call(owner.client, `workbenches/${workbenchId}/members/${owner.id}`, {
          method: "DELETE",
        });
        assert.equal(removed.status, 204, "the company owner removes the row");
      },
    );

    await t.step("managers add and change explicit roles; others cannot", async () => {
      const byOther = await call(other.client, `workbenches/${workbenchId}/members`, {
        body: { user_id: other.id, role: "owner" },
      });
      assert.equal(byOther.status, 403);
      const byStranger = await call(stranger.client, `workbenches/${workbenchId}/members`);
      assert.equal(byStranger.status, 404);
      const outsider = await call(owner.client, `workbenches/${workbenchId}/members`, {
        body: { user_id: stranger.id, role: "viewer" },
      });
      const unknown = await call(owner.client, `workbenches/${workbenchId}/members`, {
        body: { user_id: crypto.randomUUID(), role: "viewer" },
      });
      assert.equal(outsider.status, 404);
      assert.deepEqual(outsider.body.error.code, unknown.body.error.code);
      const raised = await call(owner.client, `workbenches/${workbenchId}/members`, {
        body: { user_id: other.id, role: "editor" },
      });
      assert.equal(raised.status, 201);
      const twice = await call(owner.client, `workbenches/${workbenchId}/members`, {
        body: { user_id: other.id, role: "editor" },
      });
      assert.equal(twice.status, 409);
      const changed = await call(owner.client, `workbenches/${workbenchId}/members/${other.id}`, {
        method: "PATCH",
        body: { role: "viewer" },
      });
      assert.equal(changed.status, 200);
      const list = await call(other.client, `workbenches/${workbenchId}/members`);
      assert.equal(list.status, 200);
      assert.deepEqual(
        list.body.members.map((m: Json) => [m.email, m.role, m.explicit_role]).sort(),
        [
          [member.email, "owner", null],
          [other.email, "viewer", "viewer"],
          [owner.email, "editor", null],
        ].sort(),
      );
      const left = await call(other.client, `workbenches/${workbenchId}/members`, {
        method: "DELETE",
        body: { user_id: other.id },
      });
      assert.equal(left.status, 204, "a member may drop their own explicit row");
    });

    await t.step("editors rename a workbench; viewers cannot", async () => {
      const byViewer = await call(other.client, `workbenches/${workbenchId}`, {
        method: "PATCH",
        body: { name: "Mine now" },
      });
      assert.equal(byViewer.status, 403);
      const renamed = await call(owner.client, `workbenches/${workbenchId}`, {
        method: "PATCH",
        body: { name: "Acme books", description: "FY26" },
      });
      assert.equal(renamed.status, 200);
      assert.deepEqual([renamed.body.name, renamed.body.description], ["Acme books", "FY26"]);
    });

    await t.step(
      "a company owner deletes the workbench; its stored objects are collected",
      async () => {
        const fd = new FormData();
        fd.append("file", new Blob([new TextEncoder().encode("Revenue was 10.")]), "notes.txt");
        const uploaded = await call(member.client, `workbenches/${workbenchId}/files`, {
          body: fd,
        });
        assert.equal(uploaded.status, 201, JSON.stringify(uploaded.body));
        const [{ storage_path }] = await sql`select storage_path from public.workbench_files
                                            where id = ${uploaded.body.files[0].id}`;
        // Indexed first, so this is about deletion (a file deleted mid-indexing is the worker's case).
        await eventuallyDispatched(
          async () => {
            const [f] = await sql`select status from public.workbench_files
                               where id = ${uploaded.body.files[0].id}`;
            return f.status === "indexed" || f.status === "error" ? true : undefined;
          },
          "the file to be indexed",
          30_000,
        );
        const store = serviceClient(stack).storage.from("workbench");
        assert.equal((await store.download(storage_path)).error, null, "the object is stored");
        const byOther = await call(other.client, `workbenches/${workbenchId}`, {
          method: "DELETE",
        });
        assert.equal(byOther.status, 403);
        const deleted = await call(owner.client, `workbenches/${workbenchId}`, {
          method: "DELETE",
        });
        assert.equal(deleted.status, 204);
        const gone = await call(member.client, `workbenches/${workbenchId}`);
        assert.equal(gone.status, 404);
        await eventuallyDispatched(
          async () => {
            const { error } = await store.download(storage_path);
            return error ? true : undefined;
          },
          "the stored object to be collected",
          30_000,
        );
      },
    );
  } finally {
    await stack.stop();
  }
});
