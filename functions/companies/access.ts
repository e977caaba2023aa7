/**
 * Who may do what in a company: the caller's role, read as the caller (RLS and the SECURITY
 * DEFINER RPCs decide). Other tenants' companies are 404, a role too low is 403; the last-owner
 * rule is a 409.
 */
import { z } from "zod";
import type { AuthenticatedUser } from "../../shared/auth.ts";
import { asCaller, type Tx } from "../../shared/db.ts";
import { HttpError } from "../../shared/http.ts";
import type { CompaniesDeps } from "./deps.ts";

export const Id = z.uuid();
export const NOT_FOUND = "Company not found.";

/** Runs `fn` as the caller (RLS applies); a foreign-key or RLS miss is a 404. */
export function runAs(deps: CompaniesDeps) {
  // Handlers authenticate first (a bad token is 401 even with a bad body), then run as the caller.
  return <T>(user: AuthenticatedUser, fn: (tx: Tx) => Promise<T>): Promise<T> =>
    asCaller(deps.sql(), user.claims, fn, NOT_FOUND);
}

/** The last-owner rule (SQLSTATE 23514 from the keep_company_owner trigger) as a clear 409. */
export function lastOwner(err: unknown): unknown {
  return (err as { code?: string })?.code === "23514"
    ? new HttpError(
      409,
      "last_owner",
      "A company needs at least one owner: promote another member to owner first.",
    )
    : err;
}

async function roleIn(tx: Tx, companyId: string): Promise<string | null> {
  const [{ role }] = await tx`select public.company_role(${companyId}) as role`;
  return role;
}

/** 404 unless the caller is a member; 403 unless they have at least `min`. */
export async function requireCompanyRole(
  tx: Tx,
  companyId: string,
  min: "member" | "admin" | "owner",
) {
  const role = await roleIn(tx, companyId);
  if (!role) throw new HttpError(404, "not_found", NOT_FOUND);
  const rank = { member: 0, admin: 1, owner: 2 };
  if (rank[role as keyof typeof rank] < rank[min]) {
    throw new HttpError(403, "forbidden", `Only company ${min}s can do this.`);
  }
  return role;
}
