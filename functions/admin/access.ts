/**
 * Who may use the admin API, decided by the database: a user holding a platform role in
 * `private.platform_roles` (read with `private.platform_role`), or the service role. A user with
 * no role gets 403 `platform_role_required`; a `support_user` asking for a change gets 403
 * `platform_admin_required`. The RPCs that change things check the actor again
 * (`private.require_platform_admin`), so this check is not the only one.
 *
 * `asActor` runs RPCs with the actor's id in `request.jwt.claims` (the role stays the service
 * role), so the audit rows they write name the admin who acted.
 */
import { z } from "zod";
import { requireUser } from "../../shared/auth.ts";
import { httpErrorFromPostgres, type Tx } from "../../shared/db.ts";
import { HttpError } from "../../shared/http.ts";
import type { AdminDeps } from "./deps.ts";

/** The reason every admin change carries into the audit trail. */
export const Reason = z.string().trim().min(1).max(500);

/** A user or tenant id from the path; anything but a UUID is 404 (`No such <what>.`). */
export function pathId(raw: string, what: "user" | "tenant"): string {
  const id = z.guid().safeParse(raw);
  if (!id.success) throw new HttpError(404, "not_found", `No such ${what}.`);
  return id.data;
}

export type PlatformRole = "global_admin" | "support_user" | "service_role";

export interface Actor {
  /** The admin's user id; null for the service role. */
  id: string | null;
  role: PlatformRole;
}

function bearer(req: Request): string | undefined {
  return /^Bearer\s+(\S+)$/i.exec(req.headers.get("authorization") ?? "")?.[1];
}

/** The caller as an actor of the admin API, or 401/403. `need`: the least role the route takes. */
export async function requireActor(
  deps: AdminDeps,
  req: Request,
  need: "support_user" | "global_admin",
): Promise<Actor> {
  const token = bearer(req) ?? req.headers.get("apikey") ?? undefined;
  if (token && deps.verifier.isServiceKey(token)) return { id: null, role: "service_role" };
  const user = await requireUser(req, deps.verifier);
  const [row] = await deps.sql()<{ role: PlatformRole | null }[]>`
    select private.platform_role(${user.id}::uuid) as role`;
  const role = row?.role ?? null;
  if (role === null) {
    throw new HttpError(403, "platform_role_required", "This endpoint is for platform staff.");
  }
  if (need === "global_admin" && role !== "global_admin") {
    throw new HttpError(403, "platform_admin_required", "Only a global admin may do this.");
  }
  return { id: user.id, role };
}

/**
 * Runs `fn` in one transaction as the service role with the actor named in the request claims
 * (for the audit log); Postgres errors become HttpErrors (no row: 404, bad input: 400).
 */
export async function asActor<T>(
  deps: AdminDeps,
  actor: Actor,
  fn: (tx: Tx) => Promise<T>,
  notFound = "No such tenant.",
): Promise<T> {
  try {
    return await deps.sql().begin(async (tx) => {
      if (actor.id) {
        await tx`select set_config('request.jwt.claims',
          ${JSON.stringify({ sub: actor.id, role: "service_role", platform_role: actor.role })},
          true)`;
      }
      return await fn(tx);
    }) as T;
  } catch (err) {
    const e = err as { code?: string; message?: string };
    if (e?.code === "P0002") throw new HttpError(404, "not_found", notFound);
    if (e?.code === "22023" || e?.code === "22P02") {
      throw new HttpError(400, "invalid_request", e.message ?? "The request is invalid.");
    }
    if (e?.code === "PT403") {
      throw new HttpError(403, "platform_admin_required", "Only a global admin may do this.");
    }
    throw httpErrorFromPostgres(err, notFound);
  }
}
