/**
 * Builds a workbench's own HNSW index (see the search migration's header) without blocking writes:
 * `CREATE INDEX CONCURRENTLY`, which cannot run inside a transaction or a function, so it is sent
 * here as one top-level autocommit statement on the worker's client (through a transaction pooler
 * such as Supavisor too: an autocommit statement is a transaction of its own). The database keeps
 * the bookkeeping: private.claim_workbench_vector_index() picks the workbench and returns the
 * statements (a DROP INDEX CONCURRENTLY of an INVALID index a failed build left, then the CREATE),
 * private.finish_workbench_vector_index() registers the index once it is valid. A build that fails
 * leaves an INVALID index; the next claim drops it and builds again.
 *
 * An engine that refuses CONCURRENTLY (checked once per client, on the first build: a "cannot run
 * inside a transaction block" or "not supported" error) gets the same statements without it: a
 * plain build, which blocks writes to workbench_chunks while it runs. PGlite, the local platform's
 * engine, accepts CONCURRENTLY (it serialises every statement anyway).
 */
import type { Sql } from "../db.ts";
import { log } from "../log.ts";

export interface VectorIndexBuild {
  workbench_id: string;
  index_name: string;
  /** Whether the build ran with CONCURRENTLY (false: the engine refused it, a plain build ran). */
  concurrent: boolean;
  /** Whether the index is valid and registered afterwards. */
  built: boolean;
  ms: number;
}

interface Claim {
  workbench_id: string;
  index_name: string;
  drop_statement: string | null;
  create_statement: string;
}

/** Clients whose engine refused CONCURRENTLY: their builds are plain. */
const withoutConcurrently = new WeakSet<Sql>();

const REFUSALS = new Set(["25001", "0A000"]); // active_sql_transaction, feature_not_supported

function plain(statement: string): string {
  return statement.replace(/^(create|drop) index concurrently /i, "$1 index ");
}

async function run(sql: Sql, statement: string): Promise<boolean> {
  if (withoutConcurrently.has(sql)) {
    await sql.unsafe(plain(statement));
    return false;
  }
  try {
    await sql.unsafe(statement);
    return true;
  } catch (err) {
    if (!REFUSALS.has((err as { code?: string }).code ?? "")) throw err;
    log.warn("vector index: CONCURRENTLY refused, building without it", {
      error: (err as Error).message,
    });
    withoutConcurrently.add(sql);
    await sql.unsafe(plain(statement));
    return false;
  }
}

/**
 * Builds the index of `workbenchId` (when it has at least `minChunks`, else the threshold, of
 * embedded chunks), or of the largest workbench that needs one. Returns null when there was nothing
 * to build. `sql` must be a client, not a transaction: CONCURRENTLY cannot run in one.
 */
export async function buildVectorIndex(
  sql: Sql,
  opts: { workbenchId?: string; minChunks?: number } = {},
): Promise<VectorIndexBuild | null> {
  const [claim] = await sql<Claim[]>`
    select workbench_id, index_name, drop_statement, create_statement
      from private.claim_workbench_vector_index(${opts.workbenchId ?? null}::uuid,
                                                ${opts.minChunks ?? null}::integer)`;
  if (!claim) return null;
  const started = performance.now();
  let concurrent = true;
  let built = false;
  try {
    if (claim.drop_statement) {
      log.info("vector index: dropping an invalid index", { index: claim.index_name });
      await run(sql, claim.drop_statement);
    }
    concurrent = await run(sql, claim.create_statement);
  } finally {
    const [done] = await sql<{ built: boolean }[]>`
      select private.finish_workbench_vector_index(${claim.workbench_id}::uuid) as built`;
    built = done?.built ?? false;
  }
  const ms = Math.round(performance.now() - started);
  log.info("vector index build", { index: claim.index_name, built, concurrent, ms });
  return { workbench_id: claim.workbench_id, index_name: claim.index_name, concurrent, built, ms };
}

/** Builds up to `limit` indexes, largest workbench first (bench/, tests). */
export async function buildVectorIndexes(sql: Sql, limit = 1): Promise<VectorIndexBuild[]> {
  const builds: VectorIndexBuild[] = [];
  for (let i = 0; i < limit; i++) {
    const build = await buildVectorIndex(sql);
    if (!build) break;
    builds.push(build);
  }
  return builds;
}
