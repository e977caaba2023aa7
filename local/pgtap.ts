/**
 * Runs the pgTAP files in supabase/tests against a fresh in-memory PGlite (pgvector + pgTAP) with
 * the platform baseline, migrations and seed applied: what `supabase test db` does on a real stack.
 * Each file is expected to run in its own transaction and roll back.
 */
import { startMigratedPglite } from "./database_template.ts";

export interface TapResult {
  file: string;
  planned: number | undefined;
  passed: number;
  failed: string[];
  diagnostics: string[];
  error?: string;
}

export function parseTap(lines: string[]): Omit<TapResult, "file"> {
  let planned: number | undefined;
  let passed = 0;
  const failed: string[] = [];
  const diagnostics: string[] = [];
  for (const line of lines) {
    const plan = /^1\.\.(\d+)/.exec(line);
    if (plan) planned = Number(plan[1]);
    else if (/^ok \d+/.test(line)) passed++;
    else if (/^not ok \d+/.test(line)) failed.push(line);
    else if (line.startsWith("#")) diagnostics.push(line);
  }
  return { planned, passed, failed, diagnostics };
}

export async function listTestFiles(dir: string): Promise<string[]> {
  const files: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory) files.push(...await listTestFiles(path));
    else if (entry.name.endsWith(".sql")) files.push(path);
  }
  return files.sort();
}

export async function runPgTap(files: string[]): Promise<TapResult[]> {
  // A copy of the migrated template (pgTAP loaded), as the test stacks start.
  const { db, sql } = await startMigratedPglite({ port: 0, pgtap: true });
  try {
    await sql.unsafe(`create extension if not exists pgtap with schema extensions;
                      set search_path = "$user", public, extensions;`);
    const results: TapResult[] = [];
    for (const file of files) {
      const text = await Deno.readTextFile(file);
      try {
        const out = await sql.unsafe(text);
        const statements = Array.isArray(out[0]) || out.length === 0 ? out : [out];
        const lines = (statements as unknown as Record<string, unknown>[][])
          .flatMap((rows) => [...rows])
          .flatMap((row) => Object.values(row).map(String))
          .flatMap((v) => v.split("\n"));
        results.push({ file, ...parseTap(lines) });
      } catch (err) {
        await sql.unsafe("rollback").catch(() => {});
        results.push({
          file,
          planned: undefined,
          passed: 0,
          failed: [],
          diagnostics: [],
          error: err instanceof Error ? err.message : String(err),
        });
      }
    }
    return results;
  } finally {
    await sql.end({ timeout: 5 });
    await db.stop();
  }
}
