/**
 * A throw-away native PostgreSQL cluster for tests that need real concurrent connections (PGlite
 * serialises everything). Uses the server binaries of Debian's `postgresql` package when present.
 *
 * `startMigratedPostgres()` is what the concurrency tests race against: the local platform's
 * baseline (roles, auth, storage and the pgmq / pg_net / pg_cron / vault stand-ins), every
 * migration and the seed, applied by the same code the local stack runs (local/platform_sql.ts,
 * local/migrate.ts), so a test always races the SQL that ships.
 */
import postgres from "postgres";
import { defaultPaths, migrate } from "../../local/migrate.ts";
import { applyPlatformBaseline } from "../../local/platform_sql.ts";
import { requireTool } from "./requirements.ts";

export interface TempPostgres {
  url: string;
  stop(): Promise<void>;
}

/** The newest /usr/lib/postgresql/<v>/bin that has initdb, or undefined. */
export function findPostgresBin(): string | undefined {
  try {
    const versions = [...Deno.readDirSync("/usr/lib/postgresql")]
      .map((e) => e.name)
      .filter((v) => {
        try {
          return Deno.statSync(`/usr/lib/postgresql/${v}/bin/initdb`).isFile;
        } catch {
          return false;
        }
      })
      .sort((a, b) => Number(b) - Number(a));
    return versions.length ? `/usr/lib/postgresql/${versions[0]}/bin` : undefined;
  } catch {
    return undefined;
  }
}

/** Whether pgvector is installed for the server of `bin` (/usr/lib/postgresql/<v>/bin). */
export function hasPgvector(bin: string): boolean {
  const version = bin.split("/").at(-2);
  try {
    return Deno.statSync(`/usr/share/postgresql/${version}/extension/vector.control`).isFile;
  } catch {
    return false;
  }
}

/** The server binaries when both they and pgvector are installed, else undefined. */
export function findPostgresWithPgvector(): string | undefined {
  const bin = findPostgresBin();
  return bin && hasPgvector(bin) ? bin : undefined;
}

/**
 * The `ignore` flag of a test that needs `startMigratedPostgres()`: false when native PostgreSQL
 * and pgvector are installed; otherwise skips visibly (locally) or fails (CI), see
 * `requireTool()`.
 */
export function needsMigratedPostgres(): boolean {
  return requireTool(
    "native PostgreSQL with pgvector",
    findPostgresWithPgvector() !== undefined,
    "Debian's `postgresql` package and pgvector built for it; .ci/run installs both",
  );
}

async function run(cmd: string[], asUser?: string): Promise<void> {
  const argv = asUser ? ["runuser", "-u", asUser, "--", ...cmd] : cmd;
  const out = await new Deno.Command(argv[0], {
    args: argv.slice(1),
    stdout: "piped",
    stderr: "piped",
  })
    .output();
  if (!out.success) {
    throw new Error(`${cmd.join(" ")} failed:\n${new TextDecoder().decode(out.stderr)}`);
  }
}

function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = l.addr as Deno.NetAddr;
  l.close();
  return port;
}

export async function startTempPostgres(bin: string): Promise<TempPostgres> {
  const dir = await Deno.makeTempDir({ prefix: "pg-concurrency-" });
  const data = `${dir}/data`;
  // initdb refuses to run as root: run the server as the package's `postgres` user then.
  let asUser: string | undefined;
  if (Deno.uid() === 0) {
    asUser = "postgres";
    const id = await new Deno.Command("id", { args: ["-u", asUser], stdout: "piped" }).output();
    const gid = await new Deno.Command("id", { args: ["-g", asUser], stdout: "piped" }).output();
    if (!id.success) throw new Error("running as root but there is no `postgres` user");
    await Deno.chown(
      dir,
      Number(new TextDecoder().decode(id.stdout)),
      Number(new TextDecoder().decode(gid.stdout)),
    );
  }
  await run([`${bin}/initdb`, "-D", data, "-A", "trust", "-U", "postgres", "--no-sync"], asUser);
  const port = freePort();
  const opts = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c max_connections=150 ` +
    "-c fsync=off -c synchronous_commit=off -c full_page_writes=off";
  await run([`${bin}/pg_ctl`, "-D", data, "-o", opts, "-l", `${dir}/log`, "-w", "start"], asUser);
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    async stop() {
      await run([`${bin}/pg_ctl`, "-D", data, "-m", "immediate", "-w", "stop"], asUser).catch(
        () => {},
      );
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}

/**
 * A throw-away native PostgreSQL with pgvector, the local platform baseline, every migration and
 * the seed applied, as the local stack applies them (see the module comment). Throws when the
 * server or pgvector is missing: guard the test with `needsMigratedPostgres()`.
 */
export async function startMigratedPostgres(): Promise<TempPostgres> {
  const bin = findPostgresWithPgvector();
  if (!bin) throw new Error("native PostgreSQL with pgvector is not installed");
  const pg = await startTempPostgres(bin);
  const sql = postgres(pg.url, { max: 1, onnotice: () => {} });
  try {
    await applyPlatformBaseline(sql);
    await migrate(sql, defaultPaths());
  } catch (err) {
    await sql.end();
    await pg.stop();
    throw err;
  }
  await sql.end();
  return pg;
}
