/**
 * Who may do what on a workbench: the caller's role, read through RLS as the caller. Other
 * tenants' workbenches answer 404 (never revealing that they exist), a role too low answers 403.
 */
import { z } from "zod";
import { type AuthenticatedUser, type JwtVerifier, requireUser } from "../../shared/auth.ts";
import type { Claims } from "../../shared/auth.ts";
import { asCaller as asCallerWith, type Sql, type Tx } from "../../shared/db.ts";
import { HttpError, validate } from "../../shared/http.ts";

export type Role = "owner" | "editor" | "viewer";
const RANK: Record<Role, number> = { viewer: 0, editor: 1, owner: 2 };

export const NOT_FOUND = "Workbench not found.";
export const Id = z.uuid();

export interface Access {
  /** Runs `fn` as the caller (RLS applies); a foreign-key or RLS miss is a 404. */
  asCaller<T>(claims: Claims, fn: (tx: Tx) => Promise<T>): Promise<T>;
  /** The signed-in caller and the validated workbench id; with `min`, their role is checked. */
  access(
    req: Request,
    rawId: string,
    min?: Role,
  ): Promise<{ user: AuthenticatedUser; id: string }>;
}

export function workbenchAccess(deps: { sql: () => Sql; verifier: JwtVerifier }): Access {
  const asCaller = <T>(claims: Claims, fn: (tx: Tx) => Promise<T>) =>
    asCallerWith(deps.sql(), claims, fn, NOT_FOUND);

  /** The caller's role on the workbench: 404 without access, 403 below `min`. */
  const requireRole = async (claims: Claims, workbenchId: string, min: Role): Promise<Role> => {
    const role = await asCaller(claims, async (tx) => {
      const [r] = await tx`select public.workbench_role(${workbenchId}) as role`;
      return r.role as Role | null;
    });
    if (!role) throw new HttpError(404, "not_found", NOT_FOUND);
    if (RANK[role] < RANK[min]) {
      throw new HttpError(
        403,
        "forbidden",
        `This needs the ${min} role on the workbench; you are a ${role}.`,
      );
    }
    return role;
  };

  return {
    asCaller,
    async access(req, rawId, min) {
      const user = await requireUser(req, deps.verifier);
      const id = validate(Id, rawId, "workbench id");
      if (min) await requireRole(user.claims, id, min);
      return { user, id };
    },
  };
}
