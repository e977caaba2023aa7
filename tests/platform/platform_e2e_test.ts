/**
 * End-to-end tests of the local platform through supabase-js: health endpoints, the gateway's
 * verify_jwt, Auth, Storage, RLS through `asUser`, the pgmq stand-in, and pg_net / pg_cron work.
 */
import assert from "node:assert/strict";
import { FunctionsHttpError } from "@supabase/supabase-js";
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import { asUser, getDb } from "../../shared/db.ts";
import {
  anonClient,
  errorBody,
  eventually,
  serviceClient,
  signUpUser,
  startTestStack,
} from "../helpers/stack.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };

Deno.test("local platform end to end", opts, async (t) => {
  const stack = await startTestStack();
  const sql = getDb();
  try {
    await t.step("healthz answers 200 without a token", async () => {
      const { data, error } = await anonClient(stack).functions.invoke("healthz", {
        method: "GET",
      });
      assert.equal(error, null);
      assert.equal(data.status, "ok");
    });

    const service = { authorization: `Bearer ${stack.serviceRoleKey}` };

    await t.step("readyz tells anyone only its status", async () => {
      const res = await fetch(`${stack.apiUrl}/functions/v1/readyz`);
      assert.equal(res.status, 200);
      assert.match(res.headers.get("x-request-id") ?? "", /^[0-9a-f-]{36}$/);
      assert.equal(res.headers.get("access-control-allow-origin"), "*");
      assert.deepEqual(await res.json(), { status: "ready" });
    });

    await t.step(
      "readyz shows checks, queues and the active configuration to the service key",
      async () => {
        const res = await fetch(`${stack.apiUrl}/functions/v1/readyz`, { headers: service });
        const body = await res.json();
        assert.equal(body.status, "ready");
        assert.deepEqual(body.checks.queues.queues.map((q: { name: string }) => q.name).sort(), [
          "channel_inbound",
          "file_index",
          "report_jobs",
          "storage_gc",
        ]);
        assert.deepEqual(body.config, {
          embedder: { provider: "local", model: "local/hashed-bag-of-words-384-v1" },
          llm: { provider: "extractive", model: null },
          payments: { provider: "none", mode: null, webhooks: false },
        });
        assert.equal(body.checks.kick.kick, "ok", "the Vault key and URL would be accepted");
        assert.doesNotMatch(JSON.stringify(body), new RegExp(stack.serviceRoleKey));
      },
    );

    await t.step("readyz answers 503 in the error envelope when a queue is missing", async () => {
      await sql`select pgmq.drop_queue('report_jobs')`;
      try {
        const { error } = await anonClient(stack).functions.invoke("readyz", { method: "GET" });
        assert.ok(error instanceof FunctionsHttpError);
        const { status, body, headers } = await errorBody(error);
        assert.equal(status, 503);
        assert.equal(headers.get("retry-after"), "5");
        assert.equal(body.error.code, "not_ready");
        assert.equal(body.error.request_id, headers.get("x-request-id"));
        assert.equal(body.error.details, undefined, "no details without the service key");
        const detailed = await fetch(`${stack.apiUrl}/functions/v1/readyz`, { headers: service });
        const details = (await detailed.json()).error.details;
        assert.match(details.checks.queues.error, /missing queues: report_jobs/);
      } finally {
        await sql`select pgmq.create('report_jobs')`;
      }
    });

    await t.step(
      "readyz answers 503 with kick missing, then rejected, when the Vault secrets are wrong",
      async () => {
        const saved = await sql`select name, secret from vault.secrets
        where name in ('project_url', 'service_role_key')`;
        await sql`delete from vault.secrets where name = 'service_role_key'`;
        try {
          const res = await fetch(`${stack.apiUrl}/functions/v1/readyz`, { headers: service });
          const body = await res.json();
          assert.equal(res.status, 503);
          assert.equal(body.error.details.checks.kick.kick, "missing");
          assert.match(body.error.details.checks.kick.error, /service_role_key/);
          await sql`insert into vault.secrets (name, secret)
                    values ('service_role_key', 'sb_secret_rotated_away')`;
          const rejected = await fetch(`${stack.apiUrl}/functions/v1/readyz`, {
            headers: service,
          });
          assert.equal(rejected.status, 503);
          assert.equal((await rejected.json()).error.details.checks.kick.kick, "rejected");
        } finally {
          for (const s of saved) {
            await sql`insert into vault.secrets (name, secret) values (${s.name}, ${s.secret})
                    on conflict (name) do update set secret = excluded.secret`;
          }
        }
      },
    );

    await t.step("OPTIONS preflight gets CORS headers without a token", async () => {
      const res = await fetch(`${stack.apiUrl}/functions/v1/echo`, {
        method: "OPTIONS",
        headers: { origin: "http://localhost:3000", "access-control-request-method": "POST" },
      });
      await res.body?.cancel();
      assert.equal(res.status, 204);
      assert.match(res.headers.get("access-control-allow-headers") ?? "", /authorization/);
      assert.match(res.headers.get("access-control-allow-methods") ?? "", /POST/);
    });

    await t.step("an unknown function is a 404 as Supabase's gateway answers it", async () => {
      const res = await fetch(`${stack.apiUrl}/functions/v1/nope`);
      const body = await res.json();
      assert.equal(res.status, 404);
      assert.equal(body.code, "NOT_FOUND");
    });

    const user = await signUpUser(stack, "alice");

    await t.step("verify_jwt lets a signed-in user's token through", async () => {
      const { data, error } = await user.client.functions.invoke("echo/a/b?x=1", {
        body: { hello: "world" },
      });
      assert.equal(error, null);
      assert.equal(data.method, "POST");
      assert.equal(data.path, "/a/b");
      assert.deepEqual(data.query, { x: "1" });
      assert.deepEqual(JSON.parse(data.body), { hello: "world" });
      assert.equal(data.authorization, `Bearer ${user.token}`);
    });

    await t.step("verify_jwt = true: the gateway answers a bad token itself, bare", async () => {
      // What Supabase's gateway sends: no error envelope, no CORS headers, no request id. This is
      // why every function of ours runs with verify_jwt = false and checks in code.
      const bare = async (authorization: string | undefined, msg: string) => {
        const headers: Record<string, string> = { apikey: stack.anonKey };
        if (authorization !== undefined) headers.authorization = authorization;
        const res = await fetch(`${stack.apiUrl}/functions/v1/echo`, { headers });
        assert.equal(res.status, 401);
        assert.deepEqual(await res.json(), { msg });
        assert.equal(res.headers.get("access-control-allow-origin"), null);
        assert.equal(res.headers.get("x-request-id"), null);
      };
      await bare(undefined, "Error: Missing authorization header");
      await bare("Bearer not-a-jwt", "Invalid JWT");
      const expired = await stack.keys.sign({ sub: user.id, role: "authenticated" }, -60);
      await bare(`Bearer ${expired}`, "Invalid JWT");
    });

    // Functions check tokens in code (shared/auth.ts): errors in the envelope, with CORS.
    const rejects = async (authorization: string | undefined, code: string) => {
      const headers: Record<string, string> = { apikey: stack.anonKey };
      if (authorization !== undefined) headers.authorization = authorization;
      const res = await fetch(`${stack.apiUrl}/functions/v1/companies`, { headers });
      const body = await res.json();
      assert.equal(res.status, 401, `expected 401 for ${code}`);
      assert.equal(body.error.code, code);
      assert.equal(typeof body.error.message, "string");
      assert.equal(body.error.request_id, res.headers.get("x-request-id"));
      assert.equal(res.headers.get("access-control-allow-origin"), "*");
    };

    await t.step("in code: a signed-in user's token is accepted", async () => {
      const { error } = await user.client.functions.invoke("companies", { method: "GET" });
      assert.equal(error, null);
    });

    await t.step("in code: a missing token is 401", () => rejects(undefined, "missing_token"));

    await t.step(
      "in code: the anon key is not a user",
      () => rejects(`Bearer ${stack.anonKey}`, "user_required"),
    );

    await t.step("in code: a forged token is 401", async () => {
      const [h, p] = user.token.split(".");
      const claims = JSON.parse(atob(p.replace(/-/g, "+").replace(/_/g, "/")));
      const forged = btoa(JSON.stringify({ ...claims, email: "x@example.com" })).replace(/=+$/, "")
        .replace(/\+/g, "-").replace(/\//g, "_");
      const signature = user.token.split(".")[2];
      await rejects(`Bearer ${h}.${forged}.${signature}`, "invalid_token");
    });

    await t.step("in code: a token signed with another key is 401", async () => {
      const { privateKey } = await generateKeyPair("ES256");
      const token = await new SignJWT({ sub: user.id, role: "authenticated" })
        .setProtectedHeader({ alg: "ES256", kid: stack.keys.kid })
        .setIssuedAt().setExpirationTime("1h").sign(privateKey);
      await rejects(`Bearer ${token}`, "invalid_token");
    });

    await t.step("in code: alg none and guessed-secret HS256 tokens are 401", async () => {
      const enc = (o: unknown) => btoa(JSON.stringify(o)).replace(/=+$/, "");
      const exp = Math.floor(Date.now() / 1000) + 3600;
      await rejects(
        `Bearer ${enc({ alg: "none", typ: "JWT" })}.${
          enc({ sub: user.id, role: "authenticated", exp })
        }.`,
        "invalid_token",
      );
      const hs = await new SignJWT({ sub: user.id, role: "authenticated" })
        .setProtectedHeader({ alg: "HS256" }).setExpirationTime("1h")
        .sign(new TextEncoder().encode("guessed-secret-guessed-secret-32b"));
      await rejects(`Bearer ${hs}`, "invalid_token");
    });

    await t.step("in code: a correctly signed token without exp is 401", async () => {
      const noExp = await stack.keys.signRaw({
        sub: user.id,
        role: "authenticated",
        aud: "authenticated",
        iss: `${stack.apiUrl}/auth/v1`,
      });
      await rejects(`Bearer ${noExp}`, "invalid_token");
    });

    await t.step("in code: a correctly signed token from another issuer is 401", async () => {
      const foreign = await stack.keys.sign({
        sub: user.id,
        role: "authenticated",
        aud: "authenticated",
        iss: "https://elsewhere.supabase.co/auth/v1",
      }, 600);
      await rejects(`Bearer ${foreign}`, "invalid_token");
    });

    await t.step("in code: an expired token is 401 token_expired", async () => {
      const expired = await stack.keys.sign({
        sub: user.id,
        role: "authenticated",
        aud: "authenticated",
        iss: `${stack.apiUrl}/auth/v1`,
      }, -60);
      await rejects(`Bearer ${expired}`, "token_expired");
    });

    await t.step("the JWKS publishes the signing key without its private part", async () => {
      const jwks = await (await fetch(`${stack.apiUrl}/auth/v1/.well-known/jwks.json`)).json();
      assert.equal(jwks.keys.length, 1);
      assert.equal(jwks.keys[0].kid, stack.keys.kid);
      assert.equal(jwks.keys[0].alg, "ES256");
      assert.equal(jwks.keys[0].d, undefined);
      const own = await exportJWK((await generateKeyPair("ES256")).publicKey);
      assert.notEqual(jwks.keys[0].x, own.x);
    });

    await t.step("Auth: sign in, read the user, reject a wrong password", async () => {
      const client = anonClient(stack);
      const ok = await client.auth.signInWithPassword({
        email: user.email,
        password: "correct-horse-battery",
      });
      assert.equal(ok.error, null);
      assert.equal(ok.data.user?.id, user.id);
      const me = await client.auth.getUser(ok.data.session!.access_token);
      assert.equal(me.data.user?.email, user.email);
      const bad = await anonClient(stack).auth.signInWithPassword({
        email: user.email,
        password: "wrong-pass",
      });
      assert.equal(bad.data.session, null);
      assert.match(bad.error?.message ?? "", /Invalid login credentials/);
      const dup = await anonClient(stack).auth.signUp({
        email: user.email,
        password: "another-pass",
      });
      assert.match(dup.error?.message ?? "", /already registered/);
    });

    await t.step("Auth: a refresh token yields a new session once", async () => {
      const client = anonClient(stack);
      const { data } = await client.auth.signInWithPassword({
        email: user.email,
        password: "correct-horse-battery",
      });
      const refresh = data.session!.refresh_token;
      const again = await client.auth.refreshSession({ refresh_token: refresh });
      assert.equal(again.error, null);
      assert.equal(again.data.user?.id, user.id);
      const reused = await anonClient(stack).auth.refreshSession({ refresh_token: refresh });
      assert.ok(reused.error);
    });

    await t.step("Storage: upload, download, sign, and remove through supabase-js", async () => {
      const storage = serviceClient(stack).storage;
      await sql`insert into storage.buckets (id, name, file_size_limit) values ('t', 't', 1024)`;
      const bucket = storage.from("t");
      const up = await bucket.upload(
        "a/b/hello.txt",
        new Blob(["hello world"], { type: "text/plain" }),
      );
      assert.equal(up.error, null);
      assert.equal(up.data?.fullPath, "t/a/b/hello.txt");
      const dupe = await bucket.upload("a/b/hello.txt", new Blob(["again"]));
      assert.ok(dupe.error, "a second upload without upsert is refused");
      const tooBig = await bucket.upload("big.bin", new Blob([new Uint8Array(2048)]));
      assert.ok(tooBig.error, "the bucket's size limit applies");

      const down = await bucket.download("a/b/hello.txt");
      assert.equal(await down.data?.text(), "hello world");

      const signed = await bucket.createSignedUrl("a/b/hello.txt", 60);
      assert.equal(signed.error, null);
      const viaUrl = await fetch(signed.data!.signedUrl);
      assert.equal(await viaUrl.text(), "hello world");
      const tampered = await fetch(signed.data!.signedUrl.replace("hello.txt", "other.txt"));
      assert.equal(tampered.status, 400);
      await tampered.body?.cancel();

      const escape = await bucket.upload("a/..%2F..%2F..%2Fescaped.txt", new Blob(["x"]));
      assert.ok(escape.error, "an encoded separator cannot climb out of the bucket");
      await assert.rejects(Deno.stat(`${stack.storageDir}/../escaped.txt`));
      await assert.rejects(Deno.stat(`${stack.storageDir}/t/../../escaped.txt`));

      const denied = await user.client.storage.from("t").download("a/b/hello.txt");
      assert.ok(denied.error, "a user token cannot read objects directly");

      const removed = await bucket.remove(["a/b/hello.txt"]);
      assert.equal(removed.data?.length, 1);
      const gone = await bucket.download("a/b/hello.txt");
      assert.ok(gone.error);
      const [{ count }] =
        await sql`select count(*)::int as count from storage.objects where bucket_id = 't'`;
      assert.equal(count, 0);
    });

    await t.step("asUser() applies RLS as the calling user", async () => {
      await sql.unsafe(`
        create table public.rls_probe (
          id serial primary key,
          owner uuid not null default auth.uid(),
          body text not null);
        alter table public.rls_probe enable row level security;
        create policy owner_all on public.rls_probe for all to authenticated
          using (owner = auth.uid()) with check (owner = auth.uid());`);
      const bob = await signUpUser(stack, "bob");
      const claims = (u: { id: string }) => ({ sub: u.id, role: "authenticated" as const });
      await asUser(
        sql,
        claims(user),
        (tx) => tx`insert into public.rls_probe (body) values ('alice note')`,
      );
      const mine = await asUser(
        sql,
        claims(user),
        (tx) => tx`select owner, body from public.rls_probe`,
      );
      assert.deepEqual([...mine], [{ owner: user.id, body: "alice note" }]);
      const theirs = await asUser(sql, claims(bob), (tx) => tx`select * from public.rls_probe`);
      assert.equal(theirs.length, 0);
      const anon = await asUser(sql, { role: "anon" }, (tx) => tx`select * from public.rls_probe`);
      assert.equal(anon.length, 0);
      await assert.rejects(
        asUser(
          sql,
          claims(bob),
          (tx) => tx`insert into public.rls_probe (owner, body) values (${user.id}, 'spoof')`,
        ),
        /row-level security/,
      );
      const changed = await asUser(
        sql,
        claims(bob),
        (tx) => tx`update public.rls_probe set body = 'x' returning id`,
      );
      assert.equal(changed.length, 0);
      const [{ role, claim }] = await sql`select current_user as role,
        current_setting('request.jwt.claims', true) as claim`;
      assert.equal(role, "postgres", "the role does not leak out of the transaction");
      assert.ok(!claim, "the claims do not leak out of the transaction");
    });

    await t.step("pgmq: a read message stays invisible until its visibility timeout", async () => {
      await sql`select pgmq.create('probe')`;
      const [{ send: id }] = await sql`select * from pgmq.send('probe', '{"n": 1}'::jsonb)`;
      const first = await sql`select * from pgmq.read('probe', 1, 10)`;
      assert.equal(first.length, 1);
      assert.equal(first[0].msg_id, id);
      assert.equal(first[0].read_ct, 1);
      assert.deepEqual(first[0].message, { n: 1 });
      const hidden = await sql`select * from pgmq.read('probe', 1, 10)`;
      assert.equal(hidden.length, 0, "invisible during its visibility timeout");
      // Back once its visibility timeout (1 s) has passed: polled, a read that finds nothing
      // changes nothing.
      const again = await eventually(async () => {
        const rows = await sql`select * from pgmq.read('probe', 30, 10)`;
        return rows.length > 0 ? rows : undefined;
      }, "the message visible again");
      assert.equal(again.length, 1);
      assert.equal(again[0].read_ct, 2);
      const [{ delete: deleted }] = await sql`select pgmq.delete('probe', ${id}::bigint)`;
      assert.equal(deleted, true);
      await sql`select pgmq.set_vt('probe', ${id}::bigint, 0)`;
      assert.equal(
        (await sql`select * from pgmq.read('probe', 1, 10)`).length,
        0,
        "deleted for good",
      );
    });

    await t.step("pgmq: batches keep order, archive moves, metrics count", async () => {
      const ids =
        await sql`select * from pgmq.send_batch('probe', array['{"i":1}','{"i":2}','{"i":3}']::jsonb[])`;
      assert.equal(ids.length, 3);
      const read = await sql`select * from pgmq.read('probe', 30, 2)`;
      assert.deepEqual(read.map((r) => r.message.i), [1, 2]);
      await sql`select pgmq.archive('probe', ${read[0].msg_id}::bigint)`;
      const archived = await sql`select message from pgmq.a_probe`;
      assert.deepEqual(archived.map((r) => r.message.i), [1]);
      const [m] = await sql`select * from pgmq.metrics('probe')`;
      assert.equal(Number(m.queue_length), 2);
      assert.equal(Number(m.total_messages), 4);
      const [{ purge_queue }] = await sql`select pgmq.purge_queue('probe')`;
      assert.equal(Number(purge_queue), 2);
      await assert.rejects(sql`select pgmq.send('nope', '{}'::jsonb)`, /does not exist/);
    });

    await t.step(
      "pg_net: net.http_post from SQL reaches a function through the worker",
      async () => {
        const [{ id }] = await sql`
        select net.http_post(
          url := (select decrypted_secret from vault.decrypted_secrets where name = 'project_url')
                 || '/functions/v1/echo/from-db',
          body := '{"job": 42}'::jsonb,
          headers := jsonb_build_object(
            'Content-Type', 'application/json',
            'Authorization', 'Bearer ' || (select decrypted_secret from vault.decrypted_secrets
                                           where name = 'service_role_key'))
        ) as id`;
        const res = await eventually(async () => {
          const rows = await sql`select * from net._http_response where id = ${id}`;
          return rows[0];
        }, "the pg_net response");
        assert.equal(res.status_code, 200);
        assert.equal(res.timed_out, false);
        const echoed = JSON.parse(res.content);
        assert.equal(echoed.path, "/from-db");
        assert.deepEqual(JSON.parse(echoed.body), { job: 42 });
        const [{ pending }] =
          await sql`select count(*)::int as pending from net.http_request_queue`;
        assert.equal(pending, 0);
      },
    );

    await t.step("pg_net: an unreachable URL is recorded as an error", async () => {
      const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
      const closedPort = listener.addr.port;
      listener.close();
      const [{ id }] =
        await sql`select net.http_get(${`http://127.0.0.1:${closedPort}/nothing`}) as id`;
      const res = await eventually(async () => {
        const rows = await sql`select * from net._http_response where id = ${id}`;
        return rows[0];
      }, "the pg_net error");
      assert.equal(res.status_code, null);
      assert.ok(res.error_msg && res.error_msg.length > 0);
    });

    await t.step("pg_net: a request in a rolled-back transaction is never sent", async () => {
      await assert.rejects(sql.begin(async (tx) => {
        await tx`select net.http_get('http://127.0.0.1:9/rolled-back')`;
        throw new Error("roll back");
      }));
      await stack.worker.tick();
      const [{ n }] = await sql`select count(*)::int as n from net.http_request_queue`;
      assert.equal(n, 0);
    });

    await t.step("pg_cron: a '1 seconds' job runs and its runs are recorded", async () => {
      await sql`create table public.cron_probe (at timestamptz default now())`;
      const [{ jobid }] = await sql`
        select cron.schedule('probe', '1 seconds', 'insert into public.cron_probe default values') as jobid`;
      await eventually(async () => {
        const [{ n }] = await sql`select count(*)::int as n from public.cron_probe`;
        return n >= 2 ? n : undefined;
      }, "two cron runs");
      const runs = await sql`select status from cron.job_run_details where jobid = ${jobid}`;
      assert.ok(runs.length >= 2);
      assert.ok(runs.every((r) => r.status === "succeeded"));
      await sql`select cron.unschedule('probe')`;
      await assert.rejects(
        sql`select cron.schedule('bad', 'every tuesday', 'select 1')`,
        /invalid schedule/,
      );
    });
  } finally {
    await stack.stop();
  }
});
