/**
 * The native pass: the payments, chat and reports end-to-end suites, which run on PGlite in
 * `task test`, run once more here on native PostgreSQL with pgvector (`TEST_DB=native`: each
 * suite's stack gets a throw-away cluster, see tests/helpers/stack.ts), so the money, chat and
 * report paths are also proven on the engine Supabase runs, with real concurrent transactions.
 *
 * They run in one child `deno test --parallel`: `TEST_DB` is read from the environment a process
 * starts with, and the workers of `task test` share one environment, so it cannot be set for
 * three files of this process. The child skips type-checking (this run has done it) and its output
 * is printed when it fails.
 */
import assert from "node:assert/strict";
import { resolve } from "node:path";
import { childEnv } from "../helpers/child_env.ts";
import { needsMigratedPostgres } from "../helpers/postgres.ts";

const ROOT = resolve(new URL("../..", import.meta.url).pathname);

/** The suites of the native pass; each is one test (with steps) starting one stack. */
const SUITES = [
  "tests/payments/payments_e2e_test.ts",
  "tests/chat/chat_e2e_test.ts",
  "tests/reports/reports_e2e_test.ts",
];

/** The counts of `deno test`'s summary line ("ok | 3 passed (48 steps) | 0 failed (43s)"). */
function parseSummary(output: string) {
  const line = output.split("\n").reverse().find((l) => /^(ok|FAILED) \| \d+ passed/.test(l));
  if (!line) return undefined;
  const count = (re: RegExp) => Number(re.exec(line)?.[1] ?? 0);
  return {
    ok: line.startsWith("ok"),
    passed: count(/(\d+) passed/),
    passedSteps: count(/\d+ passed \((\d+) steps?\)/),
    failed: count(/(\d+) failed/),
    ignored: count(/(\d+) ignored/),
  };
}

Deno.test("`parseSummary()` reads passed, steps, failed and ignored from deno test's summary", () => {
  assert.deepEqual(parseSummary("x\nok | 3 passed (48 steps) | 0 failed (43s)\n"), {
    ok: true,
    passed: 3,
    passedSteps: 48,
    failed: 0,
    ignored: 0,
  });
  assert.deepEqual(parseSummary("ok | 0 passed | 0 failed | 3 ignored (0ms)"), {
    ok: true,
    passed: 0,
    passedSteps: 0,
    failed: 0,
    ignored: 3,
  });
  assert.deepEqual(
    parseSummary("FAILED | 2 passed (40 steps) | 1 failed (1 step) (9s)")?.failed,
    1,
  );
  assert.equal(parseSummary("error: Module not found"), undefined);
});

Deno.test("the payments, chat and reports e2e suites pass on native PostgreSQL with pgvector", {
  ignore: needsMigratedPostgres(),
  sanitizeOps: false,
  sanitizeResources: false,
}, async () => {
  const started = performance.now();
  const child = await new Deno.Command(Deno.execPath(), {
    args: ["test", "-A", "--no-check", "--parallel", ...SUITES],
    cwd: ROOT,
    env: childEnv({ TEST_DB: "native", NO_COLOR: "1", LOG_LEVEL: "warn" }),
    stdout: "piped",
    stderr: "piped",
  }).output();
  const output = new TextDecoder().decode(child.stdout) + new TextDecoder().decode(child.stderr);
  const summary = parseSummary(output);
  const natives = output.match(
    /^TEST_DB=native: this suite's stack runs on native PostgreSQL 1\d/gm,
  );
  const good = child.success && summary?.ok && summary.passed === SUITES.length &&
    summary.failed === 0 && summary.ignored === 0 && natives?.length === SUITES.length;
  if (!good) console.log(`--- output of the native pass ---\n${output}\n--- end ---`);
  assert.equal(child.success, true, "the native pass failed: its output is printed above");
  assert.ok(summary, "deno test printed its summary line");
  assert.equal(summary.ignored, 0, "no suite was ignored");
  assert.equal(summary.passed, SUITES.length, "every suite passed");
  assert.ok(summary.passedSteps > 0, "the suites ran their steps");
  assert.equal(natives?.length, SUITES.length, "each suite's stack ran on native PostgreSQL");
  console.log(
    `native pass: ${summary.passed} suites, ${summary.passedSteps} steps in ` +
      `${((performance.now() - started) / 1000).toFixed(1)} s`,
  );
});
