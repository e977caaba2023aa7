/**
 * `task size`: what each Edge Function would bundle. For every function in supabase/config.toml,
 * the npm packages its entrypoint reaches (the module graph from `deno info --json`, plus each
 * package's dependency closure) with their size on disk, as Supabase bundles whole package
 * folders, and the function's own source modules: the figure for `supabase functions deploy`
 * from the sources, against its 20 MB limit (with Docker). Then the size of the one-module bundle
 * `task build` makes (what `task deploy` uploads), against the 5 MB limit of a deploy without
 * Docker. Exits non-zero when a function is over either.
 */
import { resolve } from "node:path";
import { buildFunctions, SERVER_SIDE_LIMIT_BYTES } from "./build.ts";
import { readFunctionConfig } from "./functions_gateway.ts";

export const BUNDLE_LIMIT_BYTES = 20 * 1024 * 1024;

const ROOT = resolve(new URL("..", import.meta.url).pathname);

export interface PackageSize {
  /** `name@version` (plus peer-dependency suffix, as Deno names it). */
  id: string;
  name: string;
  version: string;
  bytes: number;
}

export interface GraphSize {
  entrypoint: string;
  /** Largest first. */
  packages: PackageSize[];
  sourceFiles: number;
  sourceBytes: number;
  totalBytes: number;
}

interface DenoInfo {
  modules: Array<{ specifier: string; kind?: string; size?: number; npmPackage?: string }>;
  npmPackages: Record<
    string,
    { name: string; version: string; dependencies: string[]; localPath?: string }
  >;
}

/** The module graph of `entrypoint`, as `deno info --json` reports it. */
export async function moduleGraph(entrypoint: string): Promise<DenoInfo> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", "--config", resolve(ROOT, "deno.json"), entrypoint],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  if (!out.success) {
    throw new Error(`deno info ${entrypoint} failed:\n${new TextDecoder().decode(out.stderr)}`);
  }
  return JSON.parse(new TextDecoder().decode(out.stdout));
}

/** The npm packages the graph's modules import, with their dependencies, transitively. */
export function reachedPackages(info: DenoInfo): string[] {
  const seen = new Set<string>();
  const stack = info.modules.flatMap((m) => m.npmPackage ? [m.npmPackage] : []);
  while (stack.length > 0) {
    const id = stack.pop()!;
    if (seen.has(id)) continue;
    seen.add(id);
    stack.push(...(info.npmPackages[id]?.dependencies ?? []));
  }
  return [...seen];
}

/** Bytes of the files under `path` (symbolic links not followed). */
export async function folderBytes(path: string): Promise<number> {
  let total = 0;
  for await (const entry of Deno.readDir(path)) {
    const full = `${path}/${entry.name}`;
    if (entry.isSymlink) continue;
    if (entry.isDirectory) total += await folderBytes(full);
    else if (entry.isFile) total += (await Deno.lstat(full)).size;
  }
  return total;
}

/** Where Deno keeps a package: node_modules/.deno/<name>@<version>/node_modules/<name>. */
function packageFolder(name: string, version: string, localPath?: string): string {
  return localPath ??
    resolve(
      ROOT,
      "node_modules/.deno",
      `${name.replace("/", "+")}@${version}`,
      "node_modules",
      name,
    );
}

/** What `entrypoint` bundles: its npm packages (sizes on disk) and its own source modules. */
export async function graphSize(entrypoint: string): Promise<GraphSize> {
  const info = await moduleGraph(entrypoint);
  const packages: PackageSize[] = [];
  for (const id of reachedPackages(info)) {
    const pkg = info.npmPackages[id];
    if (!pkg) throw new Error(`deno info names ${id} but does not describe it`);
    const bytes = await folderBytes(packageFolder(pkg.name, pkg.version, pkg.localPath));
    packages.push({ id, name: pkg.name, version: pkg.version, bytes });
  }
  packages.sort((a, b) => b.bytes - a.bytes || a.id.localeCompare(b.id));
  const sources = info.modules.filter((m) => m.specifier.startsWith("file:"));
  const sourceBytes = sources.reduce((sum, m) => sum + (m.size ?? 0), 0);
  return {
    entrypoint,
    packages,
    sourceFiles: sources.length,
    sourceBytes,
    totalBytes: sourceBytes + packages.reduce((sum, p) => sum + p.bytes, 0),
  };
}

export interface FunctionSize extends GraphSize {
  name: string;
}

/** The bundle of every function in `configFile` (supabase/config.toml). */
export async function functionSizes(
  configFile = resolve(ROOT, "supabase/config.toml"),
): Promise<FunctionSize[]> {
  const out: FunctionSize[] = [];
  for (const fn of await readFunctionConfig(configFile)) {
    out.push({ name: fn.name, ...await graphSize(fn.entrypoint) });
  }
  return out;
}

const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(2)} MB`.padStart(9);

/** Packages below this size are summed on one line. */
const LISTED_BYTES = 100 * 1024;

export function formatSize(fn: FunctionSize, limit = BUNDLE_LIMIT_BYTES): string {
  const over = fn.totalBytes > limit;
  const listed = fn.packages.filter((p) => p.bytes >= LISTED_BYTES);
  const rest = fn.packages.filter((p) => p.bytes < LISTED_BYTES);
  const lines = [
    `${fn.name}: ${mb(fn.totalBytes).trim()} of ${mb(limit).trim()}${
      over ? "  OVER THE LIMIT" : ""
    }  (${fn.packages.length} npm packages)`,
    ...listed.map((p) => `  ${mb(p.bytes)}  ${p.name}@${p.version}`),
    ...(rest.length > 0
      ? [`  ${mb(rest.reduce((s, p) => s + p.bytes, 0))}  (${rest.length} smaller packages)`]
      : []),
    `  ${mb(fn.sourceBytes)}  (${fn.sourceFiles} source modules)`,
  ];
  return lines.join("\n");
}

if (import.meta.main) {
  const sizes = await functionSizes();
  console.log("From the sources (supabase functions deploy, with Docker; limit 20 MB):\n");
  console.log(sizes.map((fn) => formatSize(fn)).join("\n\n"));
  const over = sizes.filter((fn) => fn.totalBytes > BUNDLE_LIMIT_BYTES).map((f) => f.name);
  const dir = await Deno.makeTempDir({ prefix: "functions-size-" });
  try {
    const built = await buildFunctions(dir);
    console.log("\nBuilt by task build (task deploy, without Docker; limit 5 MB):\n");
    for (const fn of built) {
      const flag = fn.bytes > SERVER_SIDE_LIMIT_BYTES ? "  OVER THE LIMIT" : "";
      console.log(`${fn.name.padEnd(16)} ${mb(fn.bytes)}${flag}`);
      if (flag) over.push(`${fn.name} (built)`);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  if (over.length > 0) {
    console.error(`\nover a limit: ${over.join(", ")}`);
    Deno.exit(1);
  }
}
