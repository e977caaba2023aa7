/** Runs every pgTAP file in supabase/tests on PGlite; each file is one test step. */
import assert from "node:assert/strict";
import { resolve } from "node:path";
import { listTestFiles, parseTap, runPgTap } from "../../local/pgtap.ts";

const TESTS_DIR = resolve(new URL("../../supabase/tests", import.meta.url).pathname);

Deno.test("parseTap() counts passes and failures and reads the plan", () => {
  const r = parseTap(["1..3", "ok 1 - a", "not ok 2 - b", "# Failed test 2", "ok 3 - c"]);
  assert.equal(r.planned, 3);
  assert.equal(r.passed, 2);
  assert.deepEqual(r.failed, ["not ok 2 - b"]);
  assert.deepEqual(r.diagnostics, ["# Failed test 2"]);
});

Deno.test(
  "pgTAP suite passes on PGlite",
  { sanitizeOps: false, sanitizeResources: false },
  async (t) => {
    const files = await listTestFiles(TESTS_DIR);
    assert.ok(files.length > 0, "there are pgTAP files");
    const results = await runPgTap(files);
    for (const r of results) {
      await t.step(r.file.slice(TESTS_DIR.length + 1), () => {
        assert.equal(r.error, undefined, `the file ran: ${r.error}`);
        assert.deepEqual(
          r.failed,
          [],
          `failures:\n${r.failed.join("\n")}\n${r.diagnostics.join("\n")}`,
        );
        assert.ok(r.planned !== undefined && r.planned > 0, "the file declares a plan");
        assert.equal(r.passed, r.planned, "every planned test ran and passed");
      });
    }
  },
);
