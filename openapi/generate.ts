/**
 * `deno task openapi`: writes docs/openapi.json from the routes (openapi/document.ts);
 * `deno task openapi --check` writes nothing and fails when docs/openapi.json is stale.
 */
import { documentText } from "./document.ts";

const target = new URL("../docs/openapi.json", import.meta.url);
const text = await documentText();
if (Deno.args.includes("--check")) {
  const current = await Deno.readTextFile(target).catch(() => "");
  if (current !== text) {
    console.error("docs/openapi.json is stale: run `deno task openapi`");
    Deno.exit(1);
  }
  console.log("docs/openapi.json is up to date");
} else {
  await Deno.writeTextFile(target, text);
  console.log("wrote docs/openapi.json");
}
