/**
 * Which database engines a bench runs on: `--engine pglite|native|both` and `--db-url URL`.
 *
 * - `pglite`: the local platform's default (PGlite behind the transaction-pooling front);
 * - `native`: native PostgreSQL with pgvector: the server at `--db-url` (it must be empty or
 *   already migrated: the stack applies the baseline and migrations), or else a throw-away cluster
 *   the bench starts itself (local/native_postgres.ts, Debian's server + pgvector) and removes;
 * - `both` (the default when native PostgreSQL with pgvector is installed, or `--db-url` is
 *   given): PGlite first, then native, each printed under its own heading, ratios per engine.
 *
 * A ratio is always of two things measured on the same engine in the same run.
 */
import { parseArgs } from "node:util";
import { findPostgresWithPgvector, startTempPostgres } from "../local/native_postgres.ts";

export type EngineName = "pglite" | "native";

export interface Engine {
  name: EngineName;
  /** A PostgreSQL URL for `native`; undefined for PGlite (the bench starts it). */
  dbUrl?: string;
  /** Removes what the bench started (a throw-away cluster); a no-op otherwise. */
  stop(): Promise<void>;
}

/** The bench's `--engine` and `--db-url` flags, and the other arguments left as they were. */
export function engineFlags(args: string[] = Deno.args): {
  engines: EngineName[];
  dbUrl?: string;
  rest: string[];
} {
  const { values, positionals } = parseArgs({
    args,
    options: { engine: { type: "string" }, "db-url": { type: "string" } },
    strict: false,
    allowPositionals: true,
  });
  const dbUrl = typeof values["db-url"] === "string" ? values["db-url"] : undefined;
  if (dbUrl && !/^postgres(ql)?:\/\//.test(dbUrl)) {
    throw new Error(`--db-url must be a postgresql:// URL, got "${dbUrl}"`);
  }
  const raw = typeof values.engine === "string"
    ? values.engine
    : dbUrl || findPostgresWithPgvector()
    ? "both"
    : "pglite";
  if (!["pglite", "native", "both"].includes(raw)) {
    throw new Error(`--engine must be pglite, native or both, got "${raw}"`);
  }
  const engines: EngineName[] = raw === "both" ? ["pglite", "native"] : [raw as EngineName];
  const rest = args.filter((a, i) =>
    !a.startsWith("--engine") && !a.startsWith("--db-url") &&
    !((args[i - 1] === "--engine" || args[i - 1] === "--db-url") && !a.startsWith("--"))
  );
  void positionals;
  return { engines, dbUrl, rest };
}

/** Readies one engine: for `native` without a URL, a throw-away cluster (nothing applied). */
export async function openEngine(name: EngineName, dbUrl?: string): Promise<Engine> {
  if (name === "pglite") return { name, stop: () => Promise.resolve() };
  if (dbUrl) return { name, dbUrl, stop: () => Promise.resolve() };
  const bin = findPostgresWithPgvector();
  if (!bin) {
    throw new Error(
      "--engine native needs native PostgreSQL with pgvector (`task db:native` says how) or " +
        "--db-url postgresql://…",
    );
  }
  const pg = await startTempPostgres(bin);
  return { name, dbUrl: pg.url, stop: () => pg.stop() };
}

/** Runs `fn` once per engine chosen by the flags, each under a heading, stopping what it started. */
export async function forEachEngine(
  fn: (engine: Engine) => Promise<void>,
  args: string[] = Deno.args,
): Promise<void> {
  const { engines, dbUrl } = engineFlags(args);
  for (const name of engines) {
    console.log(
      `\n=== engine: ${
        name === "pglite" ? "PGlite (behind the local pooler)" : "native PostgreSQL + pgvector"
      } ===`,
    );
    const engine = await openEngine(name, dbUrl);
    try {
      await fn(engine);
    } finally {
      await engine.stop();
    }
  }
}
