/** What the plans route needs: the database only (no login). */
import type { Sql } from "../../shared/db.ts";

export interface PlansDeps {
  sql: () => Sql;
}

/** The function's dependencies (index.ts): the database; nothing else is read from the env. */
export function plansDepsFromEnv(sql: () => Sql): PlansDeps {
  return { sql };
}
