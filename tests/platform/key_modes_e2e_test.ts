/**
 * The key-mode matrix: a project signing with asymmetric keys (ES256, JWKS) or with the legacy JWT
 * secret (HS256), each with the legacy JWT API keys or with the new `sb_publishable_…` /
 * `sb_secret_…` keys. In every mode, through supabase-js as a frontend calls it: sign-up, user
 * calls checked in code, bad tokens, the service key on worker and readiness routes, and the whole
 * upload → indexed path with the worker reached exactly as the database reaches it (pg_net with
 * the Vault secret).
 */
import assert from "node:assert/strict";
import { getDb } from "../../shared/db.ts";
import { ALL_KEY_MODES, keyModeName } from "../../local/keys.ts";
import {
  errorBody,
  eventually,
  serviceClient,
  signUpUser,
  startTestStack,
} from "../helpers/stack.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };

for (const mode of ALL_KEY_MODES) {
  Deno.test(
    `key mode ${keyModeName(mode)}: users, service key and indexing work end to end`,
    opts,
    async (t) => {
      const stack = await startTestStack({ keyMode: mode });
      const sql = getDb();
      try {
        await t.step("the injected environment matches the mode", () => {
          const env = stack.functionEnv;
          if (mode.apiKeys === "new") {
            assert.match(stack.anonKey, /^sb_publishable_/);
            assert.match(stack.serviceRoleKey, /^sb_secret_/);
            assert.equal(JSON.parse(env.SUPABASE_SECRET_KEYS!).default, stack.serviceRoleKey);
            assert.equal(env.SUPABASE_SERVICE_ROLE_KEY, undefined);
          } else {
            assert.equal(env.SUPABASE_SERVICE_ROLE_KEY, stack.serviceRoleKey);
            assert.equal(env.SUPABASE_SECRET_KEYS, undefined);
          }
          assert.equal(JSON.parse(env.SUPABASE_JWKS!).keys.length, mode.jwt === "es256" ? 1 : 0);
          assert.equal(env.SUPABASE_JWT_SECRET, undefined, "Supabase never injects the JWT secret");
        });

        const alice = await signUpUser(stack, "alice");

        await t.step("a user's token is accepted in code", async () => {
          const alg = JSON.parse(atob(alice.token.split(".")[0]!)).alg;
          assert.equal(alg, mode.jwt === "es256" ? "ES256" : "HS256");
          const { data, error } = await alice.client.functions.invoke("companies", {
            body: { name: "Acme" },
          });
          assert.equal(error, null);
          assert.equal(data.name, "Acme");
        });

        await t.step("an expired token is 401 token_expired, with CORS", async () => {
          const expired = await stack.keys.sign({
            sub: alice.id,
            role: "authenticated",
            aud: "authenticated",
            iss: `${stack.apiUrl}/auth/v1`,
          }, -60);
          const res = await fetch(`${stack.apiUrl}/functions/v1/companies`, {
            headers: { authorization: `Bearer ${expired}`, apikey: stack.anonKey },
          });
          const { status, body, headers } = await errorBody(res);
          assert.equal(status, 401);
          assert.equal(body.error.code, "token_expired");
          assert.equal(headers.get("access-control-allow-origin"), "*");
        });

        await t.step(
          "the worker takes the service key and refuses users and public keys",
          async () => {
            const worker = (authorization: string) =>
              fetch(`${stack.apiUrl}/functions/v1/index-worker`, {
                method: "POST",
                headers: { authorization, "content-type": "application/json" },
                body: "{}",
              }).then(async (r) => ({ status: r.status, body: await r.json() }));
            assert.equal((await worker(`Bearer ${stack.serviceRoleKey}`)).status, 200);
            assert.equal((await worker(`Bearer ${alice.token}`)).status, 403);
            assert.equal((await worker(`Bearer ${stack.anonKey}`)).status, 403);
            if (mode.apiKeys === "new") {
              // Disabled legacy keys are no service key, however well signed.
              const legacy = await stack.keys.signRaw({
                role: "service_role",
                iss: "supabase",
                exp: Math.floor(Date.now() / 1000) + 600,
              });
              assert.equal((await worker(`Bearer ${legacy}`)).status, 403);
            }
          },
        );

        await t.step("readyz shows details to the service key only", async () => {
          const open = await fetch(`${stack.apiUrl}/functions/v1/readyz`).then((r) => r.json());
          assert.deepEqual(open, { status: "ready" });
          const { data } = await serviceClient(stack).functions.invoke("readyz", { method: "GET" });
          assert.equal(data.status, "ready");
          assert.equal(data.config.embedder.provider, "local");
        });

        await t.step("upload → indexed, the worker kicked by the database", async () => {
          const { data: wb, error } = await alice.client.functions.invoke("workbenches", {
            body: { name: "Close" },
          });
          assert.equal(error, null);
          const form = new FormData();
          form.append(
            "file",
            new Blob(["Revenue grew 12% in Q3 on strong enterprise sales."]),
            "q3.txt",
          );
          const up = await alice.client.functions.invoke(`workbenches/${wb.id}/files`, {
            body: form,
          });
          assert.equal(up.error, null);
          const fileId = up.data.files[0].id;
          const file = await eventually(
            async () => {
              const { data } = await alice.client.functions.invoke(
                `workbenches/${wb.id}/files/${fileId}`,
                { method: "GET" },
              );
              return data?.status === "indexed" || data?.status === "error" ? data : undefined;
            },
            "the file to be indexed",
            30_000,
          );
          assert.equal(file.status, "indexed", file.error_message);
          // The worker answers the kick after its step commits: the response lands a moment later.
          const codes = await eventually(async () => {
            const rows = await sql`select status_code from net._http_response`;
            return rows.length > 0 ? rows.map((r) => r.status_code) : undefined;
          }, "the pg_net kick's response");
          assert.ok(codes.includes(200), `a pg_net kick reached the worker (${codes})`);
          assert.ok(codes.every((c) => c === 200), `no kick was refused (${codes})`);
        });
      } finally {
        await stack.stop();
      }
    },
  );
}
