/**
 * A ready report's `download_url` is signed with a download name, so the browser saves the PDF as
 * `<title>-<date>.pdf` (Storage answers `Content-Disposition: attachment`), not as the storage
 * path's last segment. The stored type (`application/pdf`) is checked end to end in
 * api_fixes_e2e_test.ts.
 */
import assert from "node:assert/strict";
import {
  presentReport,
  reportFileName,
  type ReportRow,
} from "../../functions/reports/report_rows.ts";
import type { ObjectStore } from "../../shared/storage.ts";

const row: ReportRow = {
  id: "r1",
  workbench_id: "w1",
  user_id: "u1",
  report_type: "cash_flow",
  title: "Cash flow: Q3 / FY26",
  notes: null,
  status: "ready",
  error_message: null,
  storage_path: "w1/r1/report.pdf",
  cost_credits: 5,
  attempts: 1,
  kpis: {},
  narrative: "n",
  narrative_source: "model",
  created_at: "2026-12-07T10:00:00.000Z",
  updated_at: "2026-12-07T10:00:00.000Z",
  completed_at: "2026-12-07T10:01:00.000Z",
};

Deno.test("`reportFileName()` is the title and day, storage-safe, ending in .pdf", () => {
  assert.equal(reportFileName(row), "Cash_flow_Q3_FY26-2026-12-07.pdf");
  assert.equal(reportFileName({ ...row, title: "" }), "cash_flow-2026-12-07.pdf");
  assert.equal(
    reportFileName({ ...row, created_at: new Date("2026-01-02T00:00:00Z") as unknown as string }),
    "Cash_flow_Q3_FY26-2026-01-02.pdf",
  );
});

Deno.test("`presentReport()` signs the download URL with the report's file name", async () => {
  const signed: unknown[][] = [];
  const store = {
    signedUrl: (...args: unknown[]) => {
      signed.push(args);
      return Promise.resolve("https://storage.example/signed");
    },
  } as unknown as ObjectStore;
  const out = await presentReport(row, { store, ttlSeconds: 300, withDetails: true });
  assert.equal(out.download_url, "https://storage.example/signed");
  assert.deepEqual(signed, [[
    "reports",
    "w1/r1/report.pdf",
    300,
    "Cash_flow_Q3_FY26-2026-12-07.pdf",
  ]]);
});
