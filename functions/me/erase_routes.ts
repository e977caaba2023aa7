/**
 * `DELETE /me` and `POST /me/restore`.
 *
 * `DELETE /me` without a body answers 202 `{confirmation_token, expires_at}`; `DELETE /me` with
 * `{confirmation_token}` deactivates the account at once (Auth refuses sign-in, every function
 * refuses its tokens, no debit reaches the ledger) and answers 200 `{status: "deactivated",
 * erasure_due_at, restore_token}`. The last owner of a company gets 409 `last_owner` at either
 * call. `POST /me/restore {restore_token}` undoes it until `erasure_due_at` (200
 * `{status: "restored"}`); afterwards, or with a wrong token, 404 `restore_not_found`.
 */
import { z } from "zod";
import { requireUser } from "../../shared/auth.ts";
import { asCaller } from "../../shared/db.ts";
import { HttpError, json, readJson, type Route } from "../../shared/http.ts";
import { type MeDeps, newToken, tokenHash } from "./deps.ts";
import { Deactivated, ErasureConfirmation, Restored } from "./schemas.ts";

const Confirm = z.object({ confirmation_token: z.string().min(16).max(200) });
const Restore = z.object({ restore_token: z.string().min(16).max(200) });

function lastOwner(err: unknown): unknown {
  const e = err as { code?: string; message?: string } | HttpError;
  if (e instanceof HttpError && e.code === "conflict" && /last_owner/.test(e.message)) {
    return new HttpError(
      409,
      "last_owner",
      "You are the last owner of a company: transfer ownership or delete the company first.",
    );
  }
  return err;
}

export function eraseRoutes(deps: MeDeps): Route[] {
  return [
    {
      method: "DELETE",
      pattern: "/",
      doc: {
        summary:
          "Delete your account: no body asks for a confirmation token, the token deactivates",
        description: "First call without a body (or `{}`): 202 with a confirmation token. Second " +
          "call with `{confirmation_token}`: the account is deactivated at once and erased when " +
          "the retention window ends (`erasure_due_at`); the `restore_token` undoes it until then.",
        auth: "user",
        body: Confirm,
        bodyOptional: true,
        bodyExample: { confirmation_token: "ct_0123456789abcdef0123" },
        responses: {
          200: { description: "Deactivated (second call)", schema: Deactivated },
          202: { description: "The confirmation token (first call)", schema: ErasureConfirmation },
        },
        errors: {
          400: ["invalid_body", "invalid_confirmation"],
          401: ["account_deactivated"],
          409: ["last_owner"],
        },
      },
      handler: async (req) => {
        const user = await requireUser(req, deps.verifier);
        const text = await req.text();
        let body: unknown = {};
        try {
          if (text.trim() !== "") body = JSON.parse(text);
        } catch {
          throw new HttpError(400, "invalid_json", "The body is not valid JSON.");
        }
        const confirm = Confirm.safeParse(body);
        try {
          if (!confirm.success) {
            if (typeof body !== "object" || body === null || Object.keys(body).length > 0) {
              throw new HttpError(400, "invalid_body", "Send {confirmation_token} or no body.");
            }
            const token = newToken();
            const hash = await tokenHash(token);
            const [row] = await asCaller(
              deps.sql(),
              user.claims,
              (tx) => tx`select public.begin_erasure(${hash}) as expires_at`,
            );
            return json({ confirmation_token: token, expires_at: row.expires_at }, 202);
          }
          const restore = newToken();
          const [row] = await asCaller(
            deps.sql(),
            user.claims,
            async (tx) =>
              await tx`select public.request_erasure(${await tokenHash(
                confirm.data.confirmation_token,
              )}, ${await tokenHash(restore)}) as due_at`,
          );
          return json({
            status: "deactivated",
            erasure_due_at: row.due_at,
            restore_token: restore,
          });
        } catch (err) {
          const e = err as { code?: string };
          if (e?.code === "22023") {
            throw new HttpError(
              400,
              "invalid_confirmation",
              "The confirmation token is wrong or expired: call DELETE /me again for a new one.",
            );
          }
          throw lastOwner(err);
        }
      },
    },
    {
      method: "POST",
      pattern: "/restore",
      doc: {
        summary: "Undo a pending erasure with its restore token (no sign-in)",
        auth: "none",
        body: Restore,
        bodyExample: { restore_token: "rt_0123456789abcdef0123" },
        responses: { 200: { description: "Restored", schema: Restored } },
        errors: { 404: ["restore_not_found"] },
      },
      handler: async (req) => {
        const input = await readJson(req, Restore);
        const [row] = await deps.sql()`
          select private.restore_account(${await tokenHash(input.restore_token)}) as user_id`;
        if (!row?.user_id) {
          throw new HttpError(
            404,
            "restore_not_found",
            "No pending erasure matches this token, or its retention window has ended.",
          );
        }
        return json({ status: "restored" });
      },
    },
  ];
}
