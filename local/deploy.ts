/**
 * `task deploy`: deploys every function to a Supabase project without Docker, from the bundles
 * `task build` makes (local/build.ts), so each upload is one module under the 5 MB limit of
 * server-side bundling.
 *
 * It prepares `.build/deploy/`: `functions/<name>/index.js` (the bundles) and
 * `supabase/config.toml` (the project's, its entrypoints pointed at the bundles; the same relative
 * layout, so nothing else changes), then runs
 * `supabase functions deploy --use-api --workdir .build/deploy [--project-ref REF] [names…]`.
 * `--dry-run` prepares and prints the command without running it. The CLI is `supabase` on PATH,
 * or `SUPABASE_CLI`; it must be logged in (`supabase login`) or have SUPABASE_ACCESS_TOKEN.
 */
import { parseArgs } from "node:util";
import { join, resolve } from "node:path";
import { buildFunctions, type BuiltFunction } from "./build.ts";

const ROOT = resolve(new URL("..", import.meta.url).pathname);

export interface PreparedDeploy {
  /** The --workdir for the CLI: holds supabase/config.toml and functions/. */
  workdir: string;
  configFile: string;
  built: BuiltFunction[];
}

/** config.toml with every `[functions.*]` entrypoint pointed at its bundle (index.ts → .js). */
export function bundledConfig(configToml: string): string {
  return configToml.replace(
    /^(entrypoint\s*=\s*"\.\.\/functions\/[^"/]+\/)index\.ts"/gm,
    '$1index.js"',
  );
}

/** Builds the bundles and the config the CLI deploys them with, under `workdir`. */
export async function prepareDeploy(
  workdir = join(ROOT, ".build/deploy"),
  configFile = join(ROOT, "supabase/config.toml"),
): Promise<PreparedDeploy> {
  const built = await buildFunctions(join(workdir, "functions"), configFile);
  const deployConfig = join(workdir, "supabase/config.toml");
  await Deno.mkdir(join(workdir, "supabase"), { recursive: true });
  await Deno.writeTextFile(deployConfig, bundledConfig(await Deno.readTextFile(configFile)));
  return { workdir, configFile: deployConfig, built };
}

if (import.meta.main) {
  const { values, positionals } = parseArgs({
    args: Deno.args,
    options: { "project-ref": { type: "string" }, "dry-run": { type: "boolean" } },
    allowPositionals: true,
  });
  const prepared = await prepareDeploy();
  for (const fn of prepared.built) {
    console.log(`${fn.name.padEnd(16)} ${(fn.bytes / 1024 / 1024).toFixed(2).padStart(6)} MB`);
  }
  const cli = Deno.env.get("SUPABASE_CLI") ?? "supabase";
  const args = [
    "functions",
    "deploy",
    "--use-api",
    "--workdir",
    prepared.workdir,
    ...(values["project-ref"] ? ["--project-ref", values["project-ref"]] : []),
    ...positionals,
  ];
  console.log(`${cli} ${args.join(" ")}`);
  if (!values["dry-run"]) {
    const status = await new Deno.Command(cli, { args, stdout: "inherit", stderr: "inherit" })
      .spawn().status;
    Deno.exit(status.code);
  }
}
