import assert from "node:assert/strict";
import { listMigrations } from "../local/migrate.ts";
import { readFunctionConfig } from "../local/functions_gateway.ts";
import { resolve } from "node:path";

const ROOT = resolve(new URL("..", import.meta.url).pathname);

Deno.test("listMigrations() orders by version and rejects badly named files", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/20260102000000_second.sql`, "select 2;");
    await Deno.writeTextFile(`${dir}/20260101000000_first.sql`, "select 1;");
    await Deno.writeTextFile(`${dir}/notes.txt`, "ignored");
    assert.deepEqual((await listMigrations(dir)).map((m) => m.name), ["first", "second"]);
    await Deno.writeTextFile(`${dir}/2026_bad.sql`, "select 3;");
    await assert.rejects(listMigrations(dir), /YYYYMMDDHHMMSS_name\.sql/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("every function folder is declared in supabase/config.toml with an existing entrypoint", async () => {
  const declared = await readFunctionConfig(`${ROOT}/supabase/config.toml`);
  const folders: string[] = [];
  for await (const e of Deno.readDir(`${ROOT}/functions`)) if (e.isDirectory) folders.push(e.name);
  assert.deepEqual(declared.map((f) => f.name).sort(), folders.sort());
  for (const f of declared) await Deno.stat(f.entrypoint);
});
