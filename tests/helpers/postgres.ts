/**
 * A throw-away native PostgreSQL cluster for tests that need real concurrent connections (PGlite
 * serialises everything). Uses the server binaries of Debian's `postgresql` package when present.
 */

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
