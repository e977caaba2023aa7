/**
 * The code layout (docs/code-layout.md) checked on the source, so it stays true as functions are
 * added: every function has the one shape (index.ts wiring, deps.ts, handler.ts the router, route
 * files that import deps.ts and never handler.ts), a function's files import each other without a
 * cycle (type-only imports included), functions never import each other, and shared/ holds only
 * what more than one place runs, behind a mod.ts for each folder other folders import.
 *
 * Imports are read from the source text: every `import … from "…"`, `export … from "…"` and
 * `import("…")` that starts a line, relative specifiers only (npm: and bare ones are packages).
 */
import assert from "node:assert/strict";
import { parse } from "smol-toml";

const ROOT = new URL("../../", import.meta.url).pathname.replace(/\/$/, "");
const CODE_ROOTS = ["functions", "shared", "local", "bench", "tests"];

const IMPORT =
  /^\s*(?:import|export)\s+(?:type\s+)?(?:[^"';]*?\sfrom\s+)?["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)/gm;

/** Path segments resolved like a URL path: `a/b/../c` → `a/c`. */
function normalise(path: string): string {
  const out: string[] = [];
  for (const part of path.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") out.pop();
    else out.push(part);
  }
  return out.join("/");
}

function dirname(path: string): string {
  return path.includes("/") ? path.slice(0, path.lastIndexOf("/")) : "";
}

/** Every .ts/.js file under `dir` (repository-relative), node_modules and dot folders left out. */
function walk(dir: string): string[] {
  const files: string[] = [];
  let entries: Deno.DirEntry[];
  try {
    entries = [...Deno.readDirSync(`${ROOT}/${dir}`)];
  } catch {
    return files;
  }
  for (const e of entries) {
    if (e.name.startsWith(".") || e.name === "node_modules") continue;
    const path = `${dir}/${e.name}`;
    if (e.isDirectory) files.push(...walk(path));
    else if (/\.(ts|js)$/.test(e.name)) files.push(path);
  }
  return files.sort();
}

/** The repository-relative files `file` imports (relative specifiers only). */
function importsOf(file: string): string[] {
  const src = Deno.readTextFileSync(`${ROOT}/${file}`);
  const out: string[] = [];
  for (const m of src.matchAll(IMPORT)) {
    const spec = m[1] ?? m[2];
    if (spec.startsWith(".")) out.push(normalise(`${dirname(file)}/${spec}`));
  }
  return out;
}

const FILES = CODE_ROOTS.flatMap(walk);
const IMPORTS = new Map(FILES.map((f) => [f, importsOf(f)]));
const FUNCTIONS = [...Deno.readDirSync(`${ROOT}/functions`)]
  .filter((e) => e.isDirectory)
  .map((e) => e.name)
  .sort();

/** functions/<name>, bench, local, shared or tests: where a file belongs. */
function home(file: string): string {
  const [top, name] = file.split("/");
  return top === "functions" ? `functions/${name}` : top;
}

/** A cycle in `graph` as its files in order, or undefined. */
function findCycle(graph: Map<string, string[]>): string[] | undefined {
  const state = new Map<string, "open" | "done">();
  const path: string[] = [];
  const visit = (node: string): string[] | undefined => {
    if (state.get(node) === "done") return undefined;
    if (state.get(node) === "open") return [...path.slice(path.indexOf(node)), node];
    state.set(node, "open");
    path.push(node);
    for (const next of graph.get(node) ?? []) {
      const cycle = visit(next);
      if (cycle) return cycle;
    }
    path.pop();
    state.set(node, "done");
    return undefined;
  };
  for (const node of graph.keys()) {
    const cycle = visit(node);
    if (cycle) return cycle;
  }
  return undefined;
}

Deno.test("every `functions/<name>/` has index.ts, deps.ts and handler.ts", () => {
  assert.ok(FUNCTIONS.length >= 13, `found only ${FUNCTIONS.join(", ")}`);
  const missing = FUNCTIONS.flatMap((name) =>
    ["index.ts", "deps.ts", "handler.ts"]
      .filter((f) => !FILES.includes(`functions/${name}/${f}`))
      .map((f) => `functions/${name}/${f}`)
  );
  assert.deepEqual(missing, []);
});

Deno.test("every function's index.ts is wiring: its deps and handler into `Deno.serve(serve(name, …))`", () => {
  const wrong: string[] = [];
  for (const name of FUNCTIONS) {
    const index = `functions/${name}/index.ts`;
    const src = Deno.readTextFileSync(`${ROOT}/${index}`);
    const serves = new RegExp(`Deno\\.serve\\(\\s*serve\\(\\s*"${name}",`).test(src);
    if (!serves) wrong.push(`${index}: no Deno.serve(serve("${name}", …))`);
    for (const target of IMPORTS.get(index) ?? []) {
      const allowed = target === `functions/${name}/deps.ts` ||
        target === `functions/${name}/handler.ts` || target.startsWith("shared/");
      if (!allowed) wrong.push(`${index} imports ${target}`);
    }
  }
  assert.deepEqual(wrong, []);
});

Deno.test("every function's handler.ts is the router: it declares no route itself", () => {
  const wrong = FUNCTIONS.filter((name) => {
    const src = Deno.readTextFileSync(`${ROOT}/functions/${name}/handler.ts`);
    return /\bpattern\s*:|serviceTaskRoute\(/.test(src) || !/\brouter\(/.test(src);
  });
  assert.deepEqual(wrong, []);
});

Deno.test("no file of a function imports its handler.ts except index.ts", () => {
  const wrong: string[] = [];
  for (const name of FUNCTIONS) {
    const handler = `functions/${name}/handler.ts`;
    for (const file of FILES.filter((f) => f.startsWith(`functions/${name}/`))) {
      if (file === `functions/${name}/index.ts`) continue;
      if (IMPORTS.get(file)?.includes(handler)) wrong.push(`${file} imports handler.ts`);
    }
  }
  assert.deepEqual(wrong, []);
});

Deno.test("a function's files import each other without a cycle (type-only imports included)", () => {
  const cycles: string[] = [];
  for (const name of FUNCTIONS) {
    const prefix = `functions/${name}/`;
    const graph = new Map(
      FILES.filter((f) => f.startsWith(prefix)).map((
        f,
      ) => [f, (IMPORTS.get(f) ?? []).filter((t) => t.startsWith(prefix))]),
    );
    const cycle = findCycle(graph);
    if (cycle) cycles.push(cycle.join(" -> "));
  }
  assert.deepEqual(cycles, []);
});

Deno.test("functions never import each other, and shared/, local/ and bench/ never import functions/", () => {
  const wrong: string[] = [];
  for (const file of FILES.filter((f) => !f.startsWith("tests/"))) {
    for (const target of IMPORTS.get(file) ?? []) {
      if (target.startsWith("functions/") && home(target) !== home(file)) {
        wrong.push(`${file} imports ${target}`);
      }
    }
  }
  assert.deepEqual(wrong, []);
});

Deno.test("a shared/ module is run by more than one place (a module one function alone runs lives in it)", () => {
  const importers = new Map<string, string[]>();
  for (const [file, targets] of IMPORTS) {
    if (file.startsWith("tests/")) continue;
    for (const t of targets) importers.set(t, [...(importers.get(t) ?? []), file]);
  }
  /** The functions, bench/ and local/ that reach `file`, through shared/ modules. */
  const usersOf = (file: string, seen = new Set<string>()): Set<string> => {
    const users = new Set<string>();
    for (const importer of importers.get(file) ?? []) {
      if (!importer.startsWith("shared/")) users.add(home(importer));
      else if (!seen.has(importer)) {
        seen.add(importer);
        for (const u of usersOf(importer, seen)) users.add(u);
      }
    }
    return users;
  };
  const alone: string[] = [];
  for (const file of FILES.filter((f) => f.startsWith("shared/"))) {
    const users = [...usersOf(file)];
    if (users.length === 1 && users[0].startsWith("functions/")) {
      alone.push(`${file}: only ${users[0]}`);
    }
  }
  assert.deepEqual(alone, []);
});

/**
 * A folder's public faces: its mod.ts, and a light face where importing mod.ts would put heavy
 * packages in a bundle that does not need them (docs/code-layout.md).
 */
const LIGHT_FACES = new Set(["shared/parsers/light.ts", "shared/reports/receipt_pdf.ts"]);

Deno.test("outside a shared/ folder, code imports the folder's mod.ts (or its light face) and nothing else of it", () => {
  const wrong: string[] = [];
  for (const file of FILES.filter((f) => !f.startsWith("tests/"))) {
    for (const target of IMPORTS.get(file) ?? []) {
      const parts = target.split("/");
      if (parts[0] !== "shared" || parts.length < 3) continue;
      const folder = `${parts[0]}/${parts[1]}`;
      if (file.startsWith(`${folder}/`)) continue;
      if (target !== `${folder}/mod.ts` && !LIGHT_FACES.has(target)) {
        wrong.push(`${file} imports ${target}`);
      }
    }
  }
  assert.deepEqual(wrong, []);
});

Deno.test("supabase/config.toml lists every function with its functions/<name>/index.ts", () => {
  const config = parse(Deno.readTextFileSync(`${ROOT}/supabase/config.toml`)) as {
    functions?: Record<string, { entrypoint?: string }>;
  };
  const listed = Object.entries(config.functions ?? {})
    .map(([name, f]) => `${name} ${f.entrypoint}`)
    .sort();
  assert.deepEqual(listed, FUNCTIONS.map((name) => `${name} ../functions/${name}/index.ts`));
});
