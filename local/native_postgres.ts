/**
 * Native PostgreSQL clusters on Debian's server packages (`postgresql`, /usr/lib/postgresql/<v>),
 * with pgvector: what `task db:native` sets up for a developer (a persistent cluster, password
 * auth) and what tests start and throw away (the concurrency tests, the e2e suites' native pass).
 * PGlite serialises everything; a native cluster shows what Supabase's PostgreSQL does with
 * concurrent transactions, locks and the planner.
 *
 * initdb and the server refuse to run as root, so as root every cluster command runs as the
 * package's `postgres` user (`runuser`), and the cluster's folder is given to that user.
 */
import { join } from "node:path";

const PG_LIB = "/usr/lib/postgresql";

/** The newest /usr/lib/postgresql/<v>/bin that has initdb, or undefined. */
export function findPostgresBin(): string | undefined {
  try {
    const versions = [...Deno.readDirSync(PG_LIB)]
      .map((e) => e.name)
      .filter((v) => {
        try {
          return Deno.statSync(`${PG_LIB}/${v}/bin/initdb`).isFile;
        } catch {
          return false;
        }
      })
      .sort((a, b) => Number(b) - Number(a));
    return versions.length ? `${PG_LIB}/${versions[0]}/bin` : undefined;
  } catch {
    return undefined;
  }
}

/** The major version of the server in `bin` (/usr/lib/postgresql/<v>/bin): "15". */
export function majorVersion(bin: string): string {
  return bin.split("/").at(-2) ?? "";
}

/** Whether pgvector is installed for the server of `bin`. */
export function hasPgvector(bin: string): boolean {
  try {
    return Deno.statSync(`/usr/share/postgresql/${majorVersion(bin)}/extension/vector.control`)
      .isFile;
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
 * The shell commands (as root) that build and install pgvector for the server of `bin` from
 * Debian 13's source package of pgvector 0.8: the same steps as `.ci/run`. Debian 12 has no
 * pgvector package for PostgreSQL 15; the trixie source builds against it in seconds.
 */
export function pgvectorRecipe(bin: string): string[] {
  const v = majorVersion(bin);
  return [
    'echo "deb-src http://deb.debian.org/debian trixie main" ' +
    "> /etc/apt/sources.list.d/trixie-src.list",
    "apt-get update",
    `apt-get install -y --no-install-recommends postgresql-server-dev-${v} dpkg-dev make gcc`,
    'cd "$(mktemp -d)"',
    "apt-get source --download-only pgvector",
    "tar -xf pgvector_*.orig.tar.*",
    "cd pgvector-*/",
    `make PG_CONFIG=${bin}/pg_config`,
    `make install PG_CONFIG=${bin}/pg_config`,
  ];
}

/** The user cluster commands run as: `postgres` when this process is root, else this user. */
export function serverUser(): string | undefined {
  return Deno.uid() === 0 ? "postgres" : undefined;
}

/** Runs `cmd` (as `asUser` through runuser when given); its stdout, or throws with its stderr. */
export async function runCommand(cmd: string[], asUser?: string): Promise<string> {
  const argv = asUser ? ["runuser", "-u", asUser, "--", ...cmd] : cmd;
  const out = await new Deno.Command(argv[0], {
    args: argv.slice(1),
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decode = (b: Uint8Array) => new TextDecoder().decode(b);
  if (!out.success) {
    throw new Error(`${cmd.join(" ")} failed:\n${decode(out.stderr)}${decode(out.stdout)}`);
  }
  return decode(out.stdout);
}

/** Gives `path` to `user` (a cluster's folder, so initdb as that user can write in it). */
export async function giveTo(path: string, user: string): Promise<void> {
  const id = async (flag: string) => {
    const out = await new Deno.Command("id", { args: [flag, user], stdout: "piped" }).output();
    if (!out.success) throw new Error(`running as root but there is no \`${user}\` user`);
    return Number(new TextDecoder().decode(out.stdout));
  };
  await Deno.chown(path, await id("-u"), await id("-g"));
}

/** A free TCP port on 127.0.0.1 (for a throw-away cluster). */
export function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = l.addr as Deno.NetAddr;
  l.close();
  return port;
}

/** A cluster's folder: `data/` (PGDATA), `postgres.log`, and the server's Unix socket. */
export interface ClusterDir {
  dir: string;
  data: string;
  log: string;
}

export function clusterDir(dir: string): ClusterDir {
  return { dir, data: join(dir, "data"), log: join(dir, "postgres.log") };
}

/** Whether `dir` already holds an initialised cluster. */
export function isInitialised(dir: string): boolean {
  try {
    return Deno.statSync(join(clusterDir(dir).data, "PG_VERSION")).isFile;
  } catch {
    return false;
  }
}

export interface InitOptions {
  /** Password of the superuser `postgres` (SCRAM, local and TCP); trust auth when omitted. */
  password?: string;
  /** Skip fsync in initdb (throw-away clusters). */
  noSync?: boolean;
}

/** initdb of a new cluster in `dir` (created when missing) with superuser `postgres`. */
export async function initCluster(bin: string, dir: string, opts: InitOptions = {}): Promise<void> {
  const { data } = clusterDir(dir);
  const user = serverUser();
  await Deno.mkdir(dir, { recursive: true });
  if (user) {
    await giveTo(dir, user);
    const reach = await new Deno.Command("runuser", {
      args: ["-u", user, "--", "test", "-w", dir],
      stdin: "null",
    }).output();
    if (!reach.success) {
      throw new Error(
        `the \`${user}\` user cannot reach ${dir}: a folder above it is closed to others ` +
          "(chmod o+x it, or pick a folder elsewhere)",
      );
    }
  }
  const args = [`${bin}/initdb`, "-D", data, "-U", "postgres", "-E", "UTF8"];
  if (opts.noSync) args.push("--no-sync");
  const pwfile = join(dir, ".initdb-password");
  if (opts.password === undefined) {
    args.push("-A", "trust");
  } else {
    await Deno.writeTextFile(pwfile, `${opts.password}\n`, { mode: 0o600 });
    if (user) await giveTo(pwfile, user);
    args.push("-A", "scram-sha-256", `--pwfile=${pwfile}`);
  }
  try {
    await runCommand(args, user);
  } finally {
    await Deno.remove(pwfile).catch(() => {});
  }
}

export interface StartOptions {
  port: number;
  /** fsync, synchronous_commit and full_page_writes off: for throw-away clusters only. */
  unsafeFast?: boolean;
  maxConnections?: number;
}

/**
 * Starts the cluster in `dir` on 127.0.0.1:`port` (socket in `dir`), waiting until it accepts
 * connections. Throws with the end of the server's log when it does not start.
 */
export async function startCluster(bin: string, dir: string, opts: StartOptions): Promise<void> {
  const { data, log } = clusterDir(dir);
  let options = `-p ${opts.port} -k ${dir} -c listen_addresses=127.0.0.1 ` +
    `-c max_connections=${opts.maxConnections ?? 150}`;
  if (opts.unsafeFast) {
    options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off";
  }
  try {
    await runCommand(
      [`${bin}/pg_ctl`, "-D", data, "-o", options, "-l", log, "-w", "-t", "60", "start"],
      serverUser(),
    );
  } catch (err) {
    const tail = await Deno.readTextFile(log).then((t) => t.split("\n").slice(-15).join("\n"))
      .catch(() => "");
    throw new Error(`${(err as Error).message}\n${log}:\n${tail}`);
  }
}

/** The port of the server running on `dir`'s cluster, or undefined when none runs. */
export async function runningPort(bin: string, dir: string): Promise<number | undefined> {
  const { data } = clusterDir(dir);
  // pg_ctl refuses root too: as root it runs as the server's user.
  const user = serverUser();
  const argv = [`${bin}/pg_ctl`, "-D", data, "status"];
  const status = await new Deno.Command(user ? "runuser" : argv[0], {
    args: user ? ["-u", user, "--", ...argv] : argv.slice(1),
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).output();
  if (!status.success) return undefined;
  // postmaster.pid: pid, data directory, start time, port, ...
  const pid = await Deno.readTextFile(join(data, "postmaster.pid")).catch(() => "");
  const port = Number(pid.split("\n")[3]);
  return Number.isInteger(port) && port > 0 ? port : undefined;
}

/** Stops `dir`'s server (`fast`: disconnect clients, shut down cleanly; `immediate`: no checkpoint). */
export async function stopCluster(
  bin: string,
  dir: string,
  mode: "fast" | "immediate" = "fast",
): Promise<void> {
  await runCommand(
    [`${bin}/pg_ctl`, "-D", clusterDir(dir).data, "-m", mode, "-w", "stop"],
    serverUser(),
  );
}

export interface TempPostgres {
  url: string;
  stop(): Promise<void>;
}

/**
 * A throw-away cluster in a temporary folder on a free port (trust auth, no fsync), removed by
 * `stop()`. Nothing is applied to it: the caller migrates it or lets the local stack do so.
 */
export async function startTempPostgres(bin: string): Promise<TempPostgres> {
  const dir = await Deno.makeTempDir({ prefix: "pg-native-" });
  try {
    await initCluster(bin, dir, { noSync: true });
    const port = freePort();
    await startCluster(bin, dir, { port, unsafeFast: true });
    return {
      url: `postgres://postgres@127.0.0.1:${port}/postgres`,
      async stop() {
        await stopCluster(bin, dir, "immediate").catch(() => {});
        await Deno.remove(dir, { recursive: true }).catch(() => {});
      },
    };
  } catch (err) {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    throw err;
  }
}
