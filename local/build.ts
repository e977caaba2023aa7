/**
 * `task build`: every Edge Function as one minified, tree-shaken ES module
 * (`.build/functions/<name>/index.js`), made by `deno bundle` from its entrypoint in
 * supabase/config.toml.
 *
 * Why: `supabase functions deploy` bundles a function's whole module graph, npm package folders
 * included. With Docker the limit is 20 MB; without Docker the CLI falls back to bundling on
 * Supabase's side, whose limit is 5 MB, and the graphs here reach 13–19 MB (`task size`). A
 * pre-built bundle keeps only the code a function reaches: 0.5–3.2 MB. The local platform can run
 * these bundles instead of the sources (`startStack({ functionsDir })`), and
 * tests/platform/bundle_test.ts does, so what is built is what was tested.
 */
import { join, resolve } from "node:path";
import { readFunctionConfig } from "./functions_gateway.ts";

const ROOT = resolve(new URL("..", import.meta.url).pathname);

/** Supabase's limit for a function bundled on its side (a deploy without Docker). */
export const SERVER_SIDE_LIMIT_BYTES = 5 * 1024 * 1024;

/** Where `task build` writes. */
export const DEFAULT_BUILD_DIR = join(ROOT, ".build/functions");

export interface BuiltFunction {
  name: string;
  /** `<outDir>/<name>/index.js` */
  path: string;
  bytes: number;
}

/** Bundles each function of `configFile` into `<outDir>/<name>/index.js`. */
export async function buildFunctions(
  outDir = DEFAULT_BUILD_DIR,
  configFile = join(ROOT, "supabase/config.toml"),
): Promise<BuiltFunction[]> {
  const built: BuiltFunction[] = [];
  for (const fn of await readFunctionConfig(configFile)) {
    const path = join(outDir, fn.name, "index.js");
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "bundle",
        "--quiet",
        "--minify",
        "--platform=deno",
        `--config=${join(ROOT, "deno.json")}`,
        fn.entrypoint,
        "-o",
        path,
      ],
      cwd: ROOT,
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (!out.success) {
      throw new Error(`bundling ${fn.name} failed:\n${new TextDecoder().decode(out.stderr)}`);
    }
    built.push({ name: fn.name, path, bytes: (await Deno.stat(path)).size });
  }
  return built;
}

if (import.meta.main) {
  const outDir = resolve(Deno.args[0] ?? DEFAULT_BUILD_DIR);
  const built = await buildFunctions(outDir);
  for (const fn of built) {
    const mb = (fn.bytes / 1024 / 1024).toFixed(2).padStart(6);
    const over = fn.bytes > SERVER_SIDE_LIMIT_BYTES ? "  OVER THE 5 MB LIMIT" : "";
    console.log(`${fn.name.padEnd(16)} ${mb} MB  ${fn.path}${over}`);
  }
  if (built.some((fn) => fn.bytes > SERVER_SIDE_LIMIT_BYTES)) Deno.exit(1);
}
