/**
 * What a frontend developer met trying the API from a browser app (issue 22), end to end on the
 * local platform: CORS on local Auth and Storage as hosted Supabase answers it, the functions
 * gateway's own errors in the error envelope with CORS and a request id, stored report PDFs that
 * keep their type and download name, the one list envelope `{items, next_offset}` (with the old key
 * for one release), query parameters in snake_case and camelCase, and paging of every list.
 */
import assert from "node:assert/strict";
import type { Stack } from "../../local/stack.ts";
import { createObjectStore, REPORTS_BUCKET } from "../../shared/storage.ts";
import { assertDocumented } from "./documented.ts";
import { apiCall } from "../../openapi/client.ts";
import {
  call,
  mailedInvitation,
  signUpUser,
  startTestStack,
  type TestUser,
} from "../helpers/stack.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };
const ORIGIN = "http://localhost:5173";

Deno.test("the local platform answers a browser app on another origin", opts, async (t) => {
  const stack: Stack = await startTestStack();
  try {
    await t.step("Auth and Storage answer a CORS preflight without an API key", async () => {
      for (const path of ["/auth/v1/signup", "/auth/v1/token", "/storage/v1/object/reports/x"]) {
        const res = await fetch(`${stack.apiUrl}${path}`, {
          method: "OPTIONS",
          headers: {
            origin: ORIGIN,
            "access-control-request-method": "POST",
            "access-control-request-headers": "apikey, authorization, content-type, x-client-info",
          },
        });
        await res.body?.cancel();
        assert.equal(res.status, 200, path);
        assert.equal(res.headers.get("access-control-allow-origin"), ORIGIN, path);
        assert.match(res.headers.get("access-control-allow-methods") ?? "", /POST/);
        assert.match(
          res.headers.get("access-control-allow-headers") ?? "",
          /apikey, authorization, content-type, x-client-info/,
        );
      }
    });

    await t.step("Auth answers carry Access-Control-Allow-Origin, refusals too", async () => {
      const refused = await fetch(`${stack.apiUrl}/auth/v1/signup`, {
        method: "POST",
        headers: { origin: ORIGIN, "content-type": "application/json" },
        body: "{}",
      });
      await refused.body?.cancel();
      assert.equal(refused.status, 401);
      assert.equal(refused.headers.get("access-control-allow-origin"), ORIGIN);
      const signedUp = await fetch(`${stack.apiUrl}/auth/v1/signup`, {
        method: "POST",
        headers: { origin: ORIGIN, apikey: stack.anonKey, "content-type": "application/json" },
        body: JSON.stringify({
          email: `cors-${Date.now()}@example.com`,
          password: "correct-horse",
        }),
      });
      await signedUp.body?.cancel();
      assert.equal(signedUp.status, 200);
      assert.equal(signedUp.headers.get("access-control-allow-origin"), ORIGIN);
    });

    await t.step(
      "a mistyped function name is a 404 envelope with CORS and a request id",
      async () => {
        const res = await fetch(`${stack.apiUrl}/functions/v1/workbenchez`, {
          headers: { origin: ORIGIN, "x-request-id": "trial-request-0001" },
        });
        const body = await res.json();
        assert.equal(res.status, 404);
        assert.equal(res.headers.get("access-control-allow-origin"), "*");
        assert.equal(res.headers.get("x-request-id"), "trial-request-0001");
        assert.equal(body.error.code, "function_not_found");
        assert.equal(body.error.request_id, "trial-request-0001");
        assert.equal(body.code, "NOT_FOUND", "Supabase's own code is kept");
        const preflight = await fetch(`${stack.apiUrl}/functions/v1/workbenchez`, {
          method: "OPTIONS",
          headers: { origin: ORIGIN, "access-control-request-method": "GET" },
        });
        await preflight.body?.cancel();
        assert.equal(preflight.status, 204);
        assert.equal(preflight.headers.get("access-control-allow-origin"), "*");
      },
    );

    await t.step("the API reference is served as JSON and rendered at /api-docs", async () => {
      const res = await fetch(`${stack.apiUrl}/functions/v1/openapi`, {
        headers: { origin: ORIGIN },
      });
      const doc = await res.json();
      assert.equal(res.status, 200);
      assert.equal(res.headers.get("access-control-allow-origin"), "*");
      assert.equal(doc.openapi, "3.1.0");
      assert.ok(doc.paths["/workbenches/{id}/files"].post);
      const page = await fetch(`${stack.apiUrl}/api-docs`);
      assert.equal(page.status, 200);
      assert.match(page.headers.get("content-type") ?? "", /^text\/html/);
      assert.match(await page.text(), /\/functions\/v1\/openapi/);
    });

    await t.step("a stored PDF keeps its type and downloads under its name", async () => {
      const store = createObjectStore(stack.apiUrl, stack.serviceRoleKey);
      const path = `api-test/${crypto.randomUUID()}.pdf`;
      await store.upload(
        REPORTS_BUCKET,
        path,
        new TextEncoder().encode("%PDF-1.7\n"),
        "application/pdf",
      );
      const url = await store.signedUrl(REPORTS_BUCKET, path, 60, "cash-flow-2026-12-07.pdf");
      const res = await fetch(url);
      await res.body?.cancel();
      assert.equal(res.status, 200);
      assert.equal(res.headers.get("content-type"), "application/pdf");
      assert.match(
        res.headers.get("content-disposition") ?? "",
        /^attachment; filename="cash-flow-2026-12-07\.pdf"/,
      );
    });
  } finally {
    await stack.stop();
  }
});

Deno.test("every list answers {items, next_offset} and pages", opts, async (t) => {
  const stack: Stack = await startTestStack();
  try {
    const alice: TestUser = await signUpUser(stack, "alice");
    const bob: TestUser = await signUpUser(stack, "bob");
    const company = await call(alice.client, "companies", { body: { name: "Acme" } });
    assert.equal(company.status, 201, JSON.stringify(company.body));
    const companyId: string = company.body.id;
    const workbenchIds: string[] = [];
    for (const name of ["one", "two"]) {
      const w = await call(alice.client, "workbenches", {
        body: { name, company_id: companyId },
      });
      assert.equal(w.status, 201, JSON.stringify(w.body));
      workbenchIds.push(w.body.id);
    }
    await call(alice.client, "workbenches", { body: { name: "personal" } });

    await t.step(
      "lists answer items and next_offset, and the old key for one release",
      async () => {
        const cases: [string, string][] = [
          ["companies", "companies"],
          ["workbenches", "workbenches"],
          [`workbenches/${workbenchIds[0]}/files`, "files"],
          [`workbenches/${workbenchIds[0]}/members`, "members"],
          [`companies/${companyId}/members`, "members"],
          [`companies/${companyId}/invitations`, "invitations"],
          ["invitations", "invitations"],
          ["plans", "plans"],
          ["chat/sessions", "sessions"],
          [`reports?workbench_id=${workbenchIds[0]}`, "items"],
        ];
        for (const [path, legacy] of cases) {
          const res = await call(alice.client, path);
          assert.equal(res.status, 200, `${path}: ${JSON.stringify(res.body)}`);
          assert.ok(Array.isArray(res.body.items), `${path} answers items`);
          assert.ok("next_offset" in res.body, `${path} answers next_offset`);
          assert.deepEqual(res.body[legacy], res.body.items, `${path} keeps ${legacy}`);
        }
      },
    );

    await t.step("query parameters are snake_case, camelCase is accepted too", async () => {
      for (const key of ["company_id", "companyId"]) {
        const res = await call(alice.client, `workbenches?${key}=${companyId}`);
        assert.equal(res.status, 200, JSON.stringify(res.body));
        assert.deepEqual(
          res.body.items.map((w: { id: string }) => w.id).sort(),
          [...workbenchIds].sort(),
          key,
        );
      }
      for (const key of ["workbench_id", "workbenchId"]) {
        const sessions = await call(alice.client, `chat/sessions?${key}=${workbenchIds[0]}`);
        assert.equal(sessions.status, 200, `${key}: ${JSON.stringify(sessions.body)}`);
        const reports = await call(alice.client, `reports?${key}=${workbenchIds[0]}`);
        assert.equal(reports.status, 200, `${key}: ${JSON.stringify(reports.body)}`);
      }
      const wrong = await call(alice.client, "workbenches?company_id=nope&companyId=nope");
      assert.equal(wrong.status, 400);
      assert.equal(wrong.body.error.code, "validation_failed");
      assert.equal(wrong.body.error.details[0].path, "company_id");
    });

    await t.step("members and invitations page with limit and offset", async () => {
      for (const email of [bob.email, `carol-${Date.now()}@example.com`]) {
        const invited = await call(alice.client, `companies/${companyId}/invitations`, {
          body: { email, role: "member" },
        });
        assert.equal(invited.status, 201, JSON.stringify(invited.body));
      }
      const first = await call(alice.client, `companies/${companyId}/invitations?limit=1`);
      assert.equal(first.body.items.length, 1);
      assert.equal(first.body.next_offset, 1);
      const second = await call(
        alice.client,
        `companies/${companyId}/invitations?limit=1&offset=1`,
      );
      assert.equal(second.body.items.length, 1);
      assert.equal(second.body.next_offset, null);
      assert.notEqual(second.body.items[0].id, first.body.items[0].id);

      const mailed = await mailedInvitation(stack, bob.email);
      assert.ok(mailed);
      const mine = await call(bob.client, "invitations?limit=1");
      assert.equal(mine.body.items.length, 1);
      const accepted = await call(bob.client, `invitations/${mailed.invitation}/accept`, {
        body: { token: mailed.token },
      });
      assert.equal(accepted.status, 200, JSON.stringify(accepted.body));

      const members = await call(alice.client, `companies/${companyId}/members?limit=1`);
      assert.equal(members.body.items.length, 1);
      assert.equal(members.body.next_offset, 1);
      const rest = await call(alice.client, `companies/${companyId}/members?limit=1&offset=1`);
      assert.deepEqual(
        [members.body.items[0].user_id, rest.body.items[0].user_id].sort(),
        [alice.id, bob.id].sort(),
      );
      assert.equal(rest.body.next_offset, null);

      const wbMembers = await call(alice.client, `workbenches/${workbenchIds[0]}/members?limit=1`);
      assert.equal(wbMembers.body.items.length, 1);
      assert.equal(wbMembers.body.next_offset, 1, "alice and bob both see the company workbench");
      const bad = await call(alice.client, `companies/${companyId}/members?limit=0`);
      assert.equal(bad.status, 400);
    });

    await t.step("the typed client calls the API with the document's types", async () => {
      const listed = await apiCall(alice.client, "GET /workbenches", {
        query: { company_id: companyId, limit: 1 },
      });
      assert.equal(listed.status, 200);
      assert.equal(listed.data?.items.length, 1);
      assert.equal(listed.data?.next_offset, 1);
      const made = await apiCall(alice.client, "POST /workbenches", { body: { name: "typed" } });
      assert.equal(made.status, 201);
      const id = made.data!.id;
      const files = await apiCall(alice.client, "GET /workbenches/{id}/files", {
        params: { id },
        query: { status: "indexed" },
      });
      assert.deepEqual(files.data?.items, []);
      const missing = await apiCall(alice.client, "GET /workbenches/{id}", {
        params: { id: crypto.randomUUID() },
      });
      assert.equal(missing.status, 404);
      assert.equal(missing.error?.code, "not_found");
      assert.ok(missing.error?.request_id);
    });

    await t.step("real answers match the documented schemas and error codes", async () => {
      const gets = [
        "companies",
        `companies/${companyId}/members`,
        `companies/${companyId}/invitations`,
        "invitations",
        "workbenches",
        `workbenches/${workbenchIds[0]}`,
        `workbenches/${workbenchIds[0]}/files`,
        `workbenches/${workbenchIds[0]}/members`,
        `workbenches/${workbenchIds[0]}/status`,
        `reports?workbench_id=${workbenchIds[0]}`,
        "plans",
        "wallet",
        "healthz",
        "readyz",
        "openapi",
        `workbenches/${crypto.randomUUID()}`,
        "workbenches?limit=1000",
        `reports/${crypto.randomUUID()}`,
      ];
      for (const path of gets) {
        await assertDocumented("GET", path, await call(alice.client, path));
      }
      const session = await call(alice.client, "chat/sessions", {
        body: { workbench_id: workbenchIds[0] },
      });
      await assertDocumented("POST", "chat/sessions", session);
      await assertDocumented("GET", "chat/sessions", await call(alice.client, "chat/sessions"));
      const history = `chat/sessions/${session.body.id}/messages`;
      await assertDocumented("GET", history, await call(alice.client, history));
      const renamed = await call(alice.client, `companies/${companyId}`, {
        method: "PATCH",
        body: { name: "Acme Two" },
      });
      await assertDocumented("PATCH", `companies/${companyId}`, renamed);
      const notAdmin = await call(bob.client, `companies/${companyId}`, {
        method: "PATCH",
        body: { name: "Mine" },
      });
      assert.equal(notAdmin.status, 403);
      await assertDocumented("PATCH", `companies/${companyId}`, notAdmin);
      const noPlan = await call(alice.client, "checkout/session", { body: { plan_id: "nope" } });
      await assertDocumented("POST", "checkout/session", noPlan);
      const noToken = await call(bob.client, `invitations/${crypto.randomUUID()}/accept`, {
        body: {},
      });
      assert.equal(noToken.status, 400);
      await assertDocumented("POST", "invitations/x/accept", noToken);
    });
  } finally {
    await stack.stop();
  }
});
