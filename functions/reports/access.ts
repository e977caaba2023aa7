/**
 * The caller's role on a workbench, read through RLS as the caller: other tenants' workbenches are
 * 404 (never revealing that they exist); a role too low is 403.
 */
import type { Claims } from "../../shared/auth.ts";
import { asCaller, type Sql, type Tx } from "../../shared/db.ts";
import { HttpError } from "../../shared/http.ts";

export type Role = "owner" | "editor" | "viewer";
const RANK: Record<Role, number> = { viewer: 0, editor: 1, owner: 2 };

export const WORKBENCH_NOT_FOUND = "Workbench not found.";
export const REPORT_NOT_FOUND = "Report not found.";

export function runAsCaller<T>(
  sql: Sql,
  claims: Claims,
  fn: (tx: Tx) => Promise<T>,
  notFound: string,
) {
  return asCaller(sql, claims, fn, notFound);
}

export async function requireWorkbenchRole(
  sql: Sql,
  claims: Claims,
  workbenchId: string,
  min: Role,
): Promise<Role> {
  const role = await runAsCaller(sql, claims, async (tx) => {
    const [r] = await tx<
      { role: Role | null }[]
    >`select public.workbench_role(${workbenchId}) as role`;
    return r?.role ?? null;
  }, WORKBENCH_NOT_FOUND);
  if (!role) throw new HttpError(404, "not_found", WORKBENCH_NOT_FOUND);
  if (RANK[role] < RANK[min]) {
    throw new HttpError(
      403,
      "forbidden",
      `Creating reports needs the ${min} role on the workbench; you are a ${role}.`,
    );
  }
  return role;
}
