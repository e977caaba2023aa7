/** What the healthz route needs: nothing (liveness touches no database, no queue, no key). */

export type HealthzDeps = Record<string, never>;

/** The function's dependencies from its environment (index.ts): none. */
export function healthzDepsFromEnv(): HealthzDeps {
  return {};
}
