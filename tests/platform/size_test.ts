/**
 * Every Edge Function's bundle (the npm packages it reaches, whole folders, plus its source) stays
 * under Supabase's 20 MB limit, and the upload path reaches no document parser.
 */
import assert from "node:assert/strict";
import { resolve } from "node:path";
import { BUNDLE_LIMIT_BYTES, formatSize, functionSizes, graphSize } from "../../local/size.ts";

const MB = 1024 * 1024;

Deno.test("`graphSize()` counts the heavy packages a module reaches, with their dependencies", async () => {
  const heavy = await graphSize(
    resolve(new URL("../fixtures/heavy_module.ts", import.meta.url).pathname),
  );
  const unpdf = heavy.packages.find((p) => p.name === "unpdf");
  assert.ok(unpdf, `unpdf is reached: ${heavy.packages.map((p) => p.id)}`);
  assert.ok(unpdf.bytes > 1 * MB, `unpdf's folder is counted whole (${unpdf.bytes} bytes)`);
  assert.equal(
    heavy.totalBytes,
    heavy.sourceBytes + heavy.packages.reduce((s, p) => s + p.bytes, 0),
  );
  assert.match(formatSize({ name: "heavy", ...heavy }, 1 * MB), /OVER THE LIMIT/);
});

Deno.test("every function's bundle is under the 20 MB limit", async () => {
  const sizes = await functionSizes();
  assert.ok(sizes.some((f) => f.name === "workbenches"), "functions come from config.toml");
  const over = sizes.filter((f) => f.totalBytes > BUNDLE_LIMIT_BYTES);
  assert.deepEqual(
    over.map((f) => f.name),
    [],
    `over the limit:\n${over.map((f) => formatSize(f)).join("\n\n")}`,
  );
});

Deno.test("the workbenches function (uploads) reaches no document parser and not all of supabase-js", async () => {
  const [workbenches] = (await functionSizes()).filter((f) => f.name === "workbenches");
  const names = workbenches.packages.map((p) => p.name);
  for (const heavy of ["unpdf", "exceljs", "mammoth", "@supabase/supabase-js"]) {
    assert.ok(!names.includes(heavy), `${heavy} is not reached: ${names.join(", ")}`);
  }
});
