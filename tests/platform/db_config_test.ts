/**
 * The functions' database client (shared/db.ts): which URL it connects to and how it holds
 * connections, as docs/deploying.md counts them.
 */
import assert from "node:assert/strict";
import { dbClientOptions, dbConfigFromEnv } from "../../shared/db.ts";
import { DB_IDLE_TIMEOUT_SEC, loadDbConfig, loadEnv } from "../../shared/env.ts";

const DIRECT = "postgresql://postgres:pw@db.abcd.supabase.co:5432/postgres";
const POOLER = "postgresql://postgres.abcd:pw@aws-0-eu-central-1.pooler.supabase.com:6543/postgres";

Deno.test("`loadDbConfig()` prefers DB_POOLER_URL over the injected SUPABASE_DB_URL", () => {
  assert.deepEqual(loadDbConfig({ DB_POOLER_URL: POOLER, SUPABASE_DB_URL: DIRECT }), {
    url: POOLER,
    max: 1,
    pooler: true,
  });
});

Deno.test("`loadDbConfig()` falls back to SUPABASE_DB_URL when DB_POOLER_URL is unset or empty", () => {
  for (const unset of [undefined, ""]) {
    assert.deepEqual(
      loadDbConfig({ DB_POOLER_URL: unset, SUPABASE_DB_URL: DIRECT, DB_POOL_MAX: "3" }),
      { url: DIRECT, max: 3, pooler: false },
    );
  }
});

Deno.test("`loadDbConfig()` names a missing database URL and a DB_POOLER_URL that is not one", () => {
  assert.throws(() => loadDbConfig({}), /SUPABASE_DB_URL/);
  assert.throws(
    () => loadDbConfig({ DB_POOLER_URL: "https://example.com", SUPABASE_DB_URL: DIRECT }),
    /DB_POOLER_URL/,
  );
});

Deno.test("`dbConfigFromEnv()` reads DB_POOLER_URL, SUPABASE_DB_URL and DB_POOL_MAX", () => {
  const env: Record<string, string> = { DB_POOLER_URL: POOLER, SUPABASE_DB_URL: DIRECT };
  assert.equal(dbConfigFromEnv((n) => env[n]).url, POOLER);
  assert.equal(dbConfigFromEnv((n) => ({ ...env, DB_POOLER_URL: "" })[n]).url, DIRECT);
  assert.equal(dbConfigFromEnv((n) => ({ ...env, DB_POOL_MAX: "5" })[n]).max, 5);
});

Deno.test("`dbClientOptions()` prepares nothing and closes idle connections after 20 s", () => {
  const options = dbClientOptions({ max: 2 });
  assert.equal(options.prepare, false);
  assert.equal(options.max, 2);
  assert.equal(options.idle_timeout, DB_IDLE_TIMEOUT_SEC);
  assert.equal(DB_IDLE_TIMEOUT_SEC, 20);
  assert.equal(dbClientOptions().max, 1);
});

Deno.test("`loadEnv()` accepts DB_POOLER_URL and rejects one that is not a postgresql:// URL", () => {
  const base = {
    SUPABASE_URL: "https://abcd.supabase.co",
    SUPABASE_DB_URL: DIRECT,
    SUPABASE_ANON_KEY: "anon",
    SUPABASE_SERVICE_ROLE_KEY: "service",
  };
  assert.equal(loadEnv({ ...base, DB_POOLER_URL: POOLER }).DB_POOLER_URL, POOLER);
  assert.throws(() => loadEnv({ ...base, DB_POOLER_URL: "not a url" }), /DB_POOLER_URL/);
});
