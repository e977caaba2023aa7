/**
 * Tests that need a tool this machine may lack (native PostgreSQL with pgvector, psql, the
 * Supabase CLI, pdftoppm) say so through `requireTool()`. Locally a missing tool skips the test
 * with one visible line; in CI (`CI=true`, where `.ci/run` installs every tool) a missing tool is
 * a failure, so a green CI run never hides a test that did not run.
 */

/** True in CI: `.ci/run` exports `CI=true` and installs every tool the suite needs. */
export function inCi(): boolean {
  return (Deno.env.get("CI") ?? "").toLowerCase() === "true";
}

/**
 * The `ignore` flag for a test that needs `tool`: false when it is there; otherwise prints one
 * "SKIPPED" line and answers true locally, and throws in CI.
 *
 * @param tool what the test needs, as a reader would name it ("native PostgreSQL with pgvector")
 * @param available whether it is there
 * @param hint how to get it (the `.ci/run` step, a package name)
 */
export function requireTool(tool: string, available: boolean, hint: string): boolean {
  if (available) return false;
  const line = `SKIPPED: needs ${tool} (${hint})`;
  if (inCi()) throw new Error(`${line}: CI installs every tool, so this is a failure`);
  console.log(line);
  return true;
}
