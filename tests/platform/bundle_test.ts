/**
 * `task build` / `task deploy` (local/build.ts, local/deploy.ts): every function bundled into one module under the 5 MB that a
 * deploy without Docker allows, and those bundles, not the sources, run the product end to end on
 * the local platform: upload and indexing of every file type (unpdf, mammoth, the XLSX reader in
 * the index worker's bundle), a cited answer, and a report rendered to PDF by the report worker.
 */
import assert from "node:assert/strict";
import { SERVER_SIDE_LIMIT_BYTES } from "../../local/build.ts";
import { prepareDeploy } from "../../local/deploy.ts";
import { readFunctionConfig } from "../../local/functions_gateway.ts";
import { join } from "node:path";
import { chatDocuments } from "../fixtures/chat_documents.ts";
import { pnlCsv } from "../fixtures/reports/data.ts";
import { ask, call, newWorkbench, openSession, uploadAndWait } from "../helpers/chat.ts";
import { eventuallyDispatched, signUpUser, startTestStack } from "../helpers/stack.ts";
import { downloadedPdfText } from "../helpers/pdf.ts";

Deno.test("the bundles `task build` makes are under 5 MB and run the product end to end", {
  sanitizeOps: false,
  sanitizeResources: false,
}, async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "functions-build-" });
  try {
    const { built, configFile } = await prepareDeploy(dir);
    await t.step("every function of config.toml is one module under 5 MB", () => {
      assert.ok(built.some((f) => f.name === "report-worker"), built.map((f) => f.name).join());
      const over = built.filter((f) => f.bytes > SERVER_SIDE_LIMIT_BYTES);
      assert.deepEqual(over.map((f) => `${f.name}: ${f.bytes} bytes`), []);
    });

    await t.step("the deploy config names each bundle as its function's entrypoint", async () => {
      const deployed = await readFunctionConfig(configFile);
      assert.deepEqual(
        deployed.map((f) => [f.name, f.entrypoint]),
        built.map((f) => [f.name, f.path]),
      );
    });

    const stack = await startTestStack({ functionsDir: join(dir, "functions") });
    try {
      const alice = await signUpUser(stack, "alice");
      const wb = await newWorkbench(alice, "Bundled");

      await t.step("upload and index every file type", async () => {
        const files = await uploadAndWait(alice, wb, [
          ...chatDocuments(),
          { name: "pnl.csv", bytes: new TextEncoder().encode(pnlCsv()) },
        ]);
        for (const [name, f] of Object.entries(files)) assert.equal(f.status, "indexed", name);
      });

      await t.step("a question cites the file that answers it", async () => {
        const session = await openSession(alice, wb);
        const res = await ask(
          alice,
          session,
          "What did the board approve about the zebra acquisition?",
        );
        assert.equal(res.status, 200, JSON.stringify(res.body));
        assert.equal(res.body.sources[0].file_name, "memo.docx");
      });

      await t.step("a report is made, charged and rendered to PDF", async () => {
        const r = await call(alice.client, "reports", {
          body: { workbench_id: wb, report_type: "financial_summary", title: "Bundled H1" },
          headers: { "Idempotency-Key": "bundled-1" },
        });
        assert.equal(r.status, 202, JSON.stringify(r.body));
        const report = await eventuallyDispatched(
          async () => {
            const got = await call(alice.client, `reports/${r.body.id}`);
            return got.body.status === "ready" || got.body.status === "failed"
              ? got.body
              : undefined;
          },
          `report ${r.body.id}`,
          90_000,
        );
        assert.equal(report.status, "ready", report.error);
        assert.match(await downloadedPdfText(report.download_url), /Bundled H1/);
      });
    } finally {
      await stack.stop();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
