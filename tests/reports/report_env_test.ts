import assert from "node:assert/strict";
import { loadEnv } from "../../shared/env.ts";
import { reportsDepsFromEnv } from "../../functions/reports/deps.ts";
import type { Sql } from "../../shared/db.ts";

const BASE = {
  SUPABASE_URL: "http://127.0.0.1:54321",
  SUPABASE_DB_URL: "postgres://postgres@127.0.0.1:5432/postgres",
  SUPABASE_ANON_KEY: "anon",
  SUPABASE_SERVICE_ROLE_KEY: "service",
};

Deno.test("loadEnv() reads the REPORT_* settings as numbers, unset or empty as the worker's default", () => {
  const env = loadEnv({
    ...BASE,
    REPORT_MAX_TABLE_BYTES: "20000",
    REPORT_VARIANCE_THRESHOLD_PCT: "7.5",
    REPORT_RETRY_BASE_SEC: "",
  });
  assert.equal(env.REPORT_MAX_TABLE_BYTES, 20000);
  assert.equal(env.REPORT_VARIANCE_THRESHOLD_PCT, 7.5);
  assert.equal(env.REPORT_RETRY_BASE_SEC, undefined);
  assert.equal(env.REPORT_VISIBILITY_TIMEOUT_SEC, undefined);
  assert.equal(env.REPORT_DOWNLOAD_TTL_SEC, undefined);
});

Deno.test("loadEnv() names a malformed REPORT_* setting instead of disabling its limit", () => {
  assert.throws(
    () => loadEnv({ ...BASE, REPORT_MAX_TABLE_BYTES: "2MB" }),
    /invalid or missing environment variables: REPORT_MAX_TABLE_BYTES/,
  );
  assert.throws(
    () => loadEnv({ ...BASE, REPORT_VISIBILITY_TIMEOUT_SEC: "-5", REPORT_RETRY_BASE_SEC: "1.5" }),
    /REPORT_VISIBILITY_TIMEOUT_SEC .*REPORT_RETRY_BASE_SEC/,
  );
});

Deno.test("`reportsDepsFromEnv()` signs report downloads for 5 minutes unless told less than an hour", () => {
  const sql = (() => {
    throw new Error("not used");
  }) as unknown as () => Sql;
  assert.equal(reportsDepsFromEnv(loadEnv(BASE), sql).downloadTtlSeconds, 300);
  const env = loadEnv({ ...BASE, REPORT_DOWNLOAD_TTL_SEC: "120" });
  assert.equal(reportsDepsFromEnv(env, sql).downloadTtlSeconds, 120);
  assert.throws(
    () => loadEnv({ ...BASE, REPORT_DOWNLOAD_TTL_SEC: "86400" }),
    /REPORT_DOWNLOAD_TTL_SEC/,
  );
});
