/**
 * The report narrative's passages (functions/report-worker/grounding.ts) are searched with the
 * rights of the report's owner on a migrated PGlite: RLS applies, so an owner without access to
 * the workbench gets none.
 */
import assert from "node:assert/strict";
import { createLocalEmbedder } from "../../shared/embeddings.ts";
import { narrativePassages } from "../../functions/report-worker/grounding.ts";
import type { ReportRowForWorker } from "../../functions/report-worker/job.ts";
import {
  createFile,
  createUser,
  createWorkbench,
  insertChunks,
  startMigratedDb,
} from "../helpers/retrieval_db.ts";

const embedder = createLocalEmbedder();

function report(workbenchId: string, userId: string): ReportRowForWorker {
  return {
    id: crypto.randomUUID(),
    workbench_id: workbenchId,
    user_id: userId,
    report_type: "financial_summary",
    title: "Revenue review",
    notes: "board plan",
    status: "processing",
    stage: "narrative",
    kpis: null,
    narrative: null,
  };
}

Deno.test({
  name:
    "narrativePassages() searches as the report's owner: passages for a member, none without access",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const db = await startMigratedDb();
    try {
      const alice = await createUser(db.sql);
      const mallory = await createUser(db.sql);
      const wb = await createWorkbench(db.sql, alice, "FY26");
      const file = await createFile(db.sql, wb, "minutes.pdf");
      await insertChunks(db.sql, embedder, wb, file, [
        { content: "The board approved the revenue plan for FY26.", metadata: { page: 2 } },
      ]);
      const search = narrativePassages(() => db.sql, embedder);

      const mine = await search(report(wb, alice));
      assert.equal(mine.length, 1);
      assert.equal(mine[0]!.fileName, "minutes.pdf");
      assert.equal(mine[0]!.page, 2);

      // Mallory's report on Alice's workbench (e.g. after Mallory was removed): RLS hides it all.
      assert.deepEqual(await search(report(wb, mallory)), []);
    } finally {
      await db.stop();
    }
  },
});
