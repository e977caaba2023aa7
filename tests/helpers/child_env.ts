/**
 * The environment of a process a test starts as a user would from a clean shell. `deno test
 * --parallel` runs test files as workers of one process, which share one environment, and a local
 * stack sets `SUPABASE_DB_URL` and `DB_POOL_MAX` there while it runs (local/stack.ts). A child
 * inheriting them (or a `DB_POOLER_URL` from the shell, which wins over both) would connect to
 * another file's database, or to one already stopped, so they are blanked (all read an empty
 * value as unset).
 */
export function childEnv(extra: Record<string, string> = {}): Record<string, string> {
  return { SUPABASE_DB_URL: "", DB_POOL_MAX: "", DB_POOLER_URL: "", ...extra };
}
