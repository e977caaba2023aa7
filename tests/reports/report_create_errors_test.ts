/**
 * `chargeAndQueue()` (POST /reports' last step) on a migrated PGlite: Postgres errors become the
 * API's errors through `httpErrorFromPostgres` instead of a 500.
 */
import assert from "node:assert/strict";
import { chargeAndQueue, type CreateRequest } from "../../functions/reports/create_route.ts";
import { HttpError } from "../../shared/http.ts";
import { createUser, createWorkbench, startMigratedDb } from "../helpers/retrieval_db.ts";

function request(userId: string, workbenchId: string, key: string): CreateRequest {
  return {
    userId,
    claims: { sub: userId, role: "authenticated" },
    key,
    body: { workbench_id: workbenchId, report_type: "financial_summary", title: "H1", notes: null },
    hash: `hash-${key}`,
  };
}

Deno.test({
  name:
    "chargeAndQueue() answers 404 when the workbench was deleted after the role check, 402 without credit",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const db = await startMigratedDb();
    try {
      const alice = await createUser(db.sql);
      const wb = await createWorkbench(db.sql, alice, "FY26");
      await db.sql`delete from public.workbench where id = ${wb}`;
      await assert.rejects(
        () => chargeAndQueue(db.sql, request(alice, wb, "k-gone")),
        (err) =>
          err instanceof HttpError && err.status === 404 && err.code === "not_found" &&
          err.message === "Workbench not found.",
      );
      const wb2 = await createWorkbench(db.sql, alice, "FY27");
      await db.sql`update public.wallet set balance = 0 where user_id = ${alice}`;
      await assert.rejects(
        () => chargeAndQueue(db.sql, request(alice, wb2, "k-poor")),
        (err) =>
          err instanceof HttpError && err.status === 402 && err.code === "insufficient_credits",
      );
    } finally {
      await db.stop();
    }
  },
});
