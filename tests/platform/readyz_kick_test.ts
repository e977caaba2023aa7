/**
 * `readyz` with the service key proves that a kick from the database would be accepted: the Vault
 * secrets `project_url` and `service_role_key` are set, the key is one of the function's own
 * service keys (the workers run with the same ones), and `project_url` reaches the functions.
 * The database is a fake answering the route's three statements; the network is a fake fetch.
 */
import assert from "node:assert/strict";
import { createJwtVerifier } from "../../shared/auth.ts";
import type { Sql } from "../../shared/db.ts";
import { serve } from "../../shared/http.ts";
import { REQUIRED_QUEUES } from "../../shared/queues.ts";
import { createReadyzHandler } from "../../functions/readyz/handler.ts";
import { checkKick } from "../../functions/readyz/kick_check.ts";
import { KICK_CHECK_TTL_MS } from "../../functions/readyz/readiness_route.ts";

const SERVICE_KEY = "sb_secret_service";
const PROJECT_URL = "https://abcd.supabase.co";
const verifier = createJwtVerifier({
  supabaseUrl: PROJECT_URL,
  publicKey: "sb_publishable_x",
  serviceKeys: [SERVICE_KEY],
});

/** A database whose Vault holds `secrets` and whose queues all exist. */
function fakeSql(secrets: Record<string, string | null | undefined>): () => Sql {
  const tag = (strings: TemplateStringsArray) => {
    const text = strings.join("?");
    if (text.includes("vault.decrypted_secrets")) {
      return Promise.resolve(Object.entries(secrets).map(([name, value]) => ({ name, value })));
    }
    if (text.includes("pgmq.metrics_all")) {
      return Promise.resolve(
        REQUIRED_QUEUES.map((q) => ({
          queue_name: q,
          queue_length: "0",
          oldest_msg_age_sec: null,
        })),
      );
    }
    return Promise.resolve([{ "?column?": 1 }]);
  };
  return () => tag as unknown as Sql;
}

/** A fetch that answers `status` for `<PROJECT_URL>/functions/v1/healthz` and records the URLs. */
function fakeFetch(status = 200) {
  const urls: string[] = [];
  const fn = ((input: URL | string) => {
    urls.push(String(input));
    const ok = String(input) === `${PROJECT_URL}/functions/v1/healthz`;
    return Promise.resolve(new Response("{}", { status: ok ? status : 404 }));
  }) as typeof fetch;
  return { fn, urls };
}

async function readyz(secrets: Record<string, string | null | undefined>, fetchStatus = 200) {
  const handler = serve(
    "readyz",
    createReadyzHandler({
      sql: fakeSql(secrets),
      verifier,
      config: {} as never,
      fetch: fakeFetch(fetchStatus).fn,
    }),
  );
  const res = await handler(
    new Request("http://local/functions/v1/readyz", {
      headers: { authorization: `Bearer ${SERVICE_KEY}` },
    }),
  );
  const body = await res.json();
  return { status: res.status, kick: res.ok ? body.checks.kick : body.error.details.checks.kick };
}

Deno.test("`readyz` reports kick ok when the Vault key is a service key and the URL reaches healthz", async () => {
  const { status, kick } = await readyz({
    project_url: PROJECT_URL + "/",
    service_role_key: SERVICE_KEY,
  });
  assert.equal(status, 200);
  assert.equal(kick.ok, true);
  assert.equal(kick.kick, "ok");
  assert.equal(kick.error, undefined);
});

Deno.test("`readyz` answers 503 with kick missing when a Vault secret is absent or empty", async () => {
  for (
    const secrets of <Record<string, string | null>[]> [
      { project_url: PROJECT_URL },
      { project_url: PROJECT_URL, service_role_key: "" },
      { service_role_key: SERVICE_KEY, project_url: null },
    ]
  ) {
    const { status, kick } = await readyz(secrets);
    assert.equal(status, 503, JSON.stringify(secrets));
    assert.equal(kick.kick, "missing");
    assert.match(kick.error, /vault secrets missing/);
  }
});

Deno.test("`readyz` answers 503 with kick rejected when the Vault key is not a service key", async () => {
  const { status, kick } = await readyz({
    project_url: PROJECT_URL,
    service_role_key: "sb_secret_rotated_away",
  });
  assert.equal(status, 503);
  assert.equal(kick.kick, "rejected");
  assert.match(kick.error, /not a service key/);
  assert.doesNotMatch(JSON.stringify(kick), /sb_secret_rotated_away/);
});

Deno.test("`readyz` answers 503 with kick rejected when project_url does not reach the functions", async () => {
  const wrongHost = await readyz({
    project_url: "https://wrong.example.com",
    service_role_key: SERVICE_KEY,
  });
  assert.equal(wrongHost.status, 503);
  assert.equal(wrongHost.kick.kick, "rejected");
  assert.match(wrongHost.kick.error, /healthz 404/);
  const notUrl = await readyz({ project_url: "not a url", service_role_key: SERVICE_KEY });
  assert.equal(notUrl.kick.kick, "rejected");
});

Deno.test("`checkKick()` asks healthz at project_url, without the key", async () => {
  const { fn, urls } = fakeFetch();
  const result = await checkKick(
    fakeSql({ project_url: PROJECT_URL, service_role_key: SERVICE_KEY }),
    verifier,
    fn,
    1000,
  );
  assert.deepEqual(result, { kick: "ok" });
  assert.deepEqual(urls, [`${PROJECT_URL}/functions/v1/healthz`]);
});

Deno.test("`readyz` reuses a passing kick check for anonymous probes for 30 s, never for the service key nor a failing check", async () => {
  let clock = 0;
  const good = fakeFetch();
  const handler = serve(
    "readyz",
    createReadyzHandler({
      sql: fakeSql({ project_url: PROJECT_URL, service_role_key: SERVICE_KEY }),
      verifier,
      config: {} as never,
      fetch: good.fn,
      now: () => clock,
    }),
  );
  const probe = async () => {
    const res = await handler(new Request("http://local/functions/v1/readyz"));
    await res.body?.cancel();
    return res.status;
  };
  assert.deepEqual([await probe(), await probe(), await probe()], [200, 200, 200]);
  assert.equal(good.urls.length, 1, "anonymous probes within 30 s reuse the first check");
  clock = KICK_CHECK_TTL_MS;
  assert.equal(await probe(), 200);
  assert.equal(good.urls.length, 2, "checked again once it is 30 s old");
  const operator = await handler(
    new Request("http://local/functions/v1/readyz", {
      headers: { authorization: `Bearer ${SERVICE_KEY}` },
    }),
  );
  await operator.body?.cancel();
  assert.equal(good.urls.length, 3, "the service key always gets a fresh check");

  const bad = fakeFetch(500);
  const failing = serve(
    "readyz",
    createReadyzHandler({
      sql: fakeSql({ project_url: PROJECT_URL, service_role_key: SERVICE_KEY }),
      verifier,
      config: {} as never,
      fetch: bad.fn,
      now: () => 0,
    }),
  );
  for (let i = 0; i < 2; i++) {
    const res = await failing(new Request("http://local/functions/v1/readyz"));
    await res.body?.cancel();
    assert.equal(res.status, 503);
  }
  assert.equal(bad.urls.length, 2, "a failing check is not reused");
});
