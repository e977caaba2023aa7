/**
 * `task db:native` then `task dev --db-url`, as a developer runs them: a native PostgreSQL 15 with
 * pgvector set up in a folder (here a temporary one, on a free port), and the local platform on
 * it with every migration applied, ready, and serving the demo user. `--stop` stops the cluster;
 * run again, the same cluster starts with its data.
 */
import assert from "node:assert/strict";
import { join, resolve } from "node:path";
import postgres from "postgres";
import { freePort } from "../../local/native_postgres.ts";
import { childEnv } from "../helpers/child_env.ts";
import { needsMigratedPostgres } from "../helpers/postgres.ts";
import { startDev as startRunningDev } from "../helpers/dev.ts";

const ROOT = resolve(new URL("../..", import.meta.url).pathname);

async function dbNative(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "local/native_db.ts", ...args],
    cwd: ROOT,
    env: childEnv({ NO_COLOR: "1" }),
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decode = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: out.code, out: decode(out.stdout), err: decode(out.stderr) };
}

interface Running {
  child: Deno.ChildProcess;
  output: string;
  functionsUrl: string;
  serviceKey: string;
  token: string;
}

async function startDev(dataDir: string, dbUrl: string): Promise<Running> {
  const dev = await startRunningDev(["--data-dir", dataDir, "--db-url", dbUrl]);
  return {
    child: dev.child,
    output: dev.output,
    functionsUrl: `${dev.field("API URL")}/functions/v1`,
    serviceKey: dev.field("service_role key"),
    token: dev.field("Demo token"),
  };
}

async function stopDev(dev: Running): Promise<void> {
  dev.child.kill("SIGTERM");
  const status = await dev.child.status;
  assert.equal(status.code, 0, "dev shuts down cleanly on SIGTERM");
}

Deno.test(
  "task db:native sets up PostgreSQL with pgvector that task dev --db-url migrates and serves",
  {
    ignore: needsMigratedPostgres(),
    sanitizeOps: false,
    sanitizeResources: false,
  },
  async (t) => {
    const scratch = await Deno.makeTempDir({ prefix: "dev-native-" });
    // As root the cluster runs as `postgres`, which must reach its folder (a temp dir is 0700).
    await Deno.chmod(scratch, 0o755);
    const clusterDir = join(scratch, "native-pg");
    const dataDir = join(scratch, "dev");
    const port = freePort();
    try {
      const setup = await dbNative("--dir", clusterDir, "--port", String(port));
      assert.equal(setup.code, 0, setup.err);
      assert.match(setup.out, /Native PostgreSQL 15\.\d+ .*with pgvector 0\.8\.\d+ is up/);
      const printed = /task dev --db-url (\S+)/.exec(setup.out)?.[1];
      assert.equal(printed, `postgresql://postgres:postgres@127.0.0.1:${port}/postgres`);
      const dbUrl = printed!;

      await t.step("the cluster wants the password: a wrong one is refused", async () => {
        const wrong = postgres(dbUrl.replace(":postgres@", ":wrong@"), { max: 1 });
        await assert.rejects(() => wrong`select 1`, /password authentication failed/);
        await wrong.end();
      });

      const migrations = [...Deno.readDirSync(join(ROOT, "supabase/migrations"))]
        .map((e) => e.name).filter((n) => n.endsWith(".sql")).map((n) => n.slice(0, -4)).sort();
      const dev = await startDev(dataDir, dbUrl);
      try {
        await t.step("every migration is applied to the native database", async () => {
          const applied = /Migrations\s+applied (.*?)(?: \(seeded\))?\n/.exec(dev.output)?.[1];
          assert.deepEqual(applied?.split(", "), migrations, dev.output);
          assert.match(dev.output, new RegExp(`Database\\s+${dbUrl.replaceAll("?", "\\?")}\\s`));
          const sql = postgres(dbUrl, { max: 1, onnotice: () => {} });
          try {
            const [row] = await sql<{ major: number; vector: string; versions: string[] }[]>`
            select current_setting('server_version_num')::int / 10000 as major,
                   (select extversion from pg_extension where extname = 'vector') as vector,
                   (select array_agg(name order by version)
                      from supabase_migrations.schema_migrations) as versions`;
            assert.equal(row!.major, 15);
            assert.match(row!.vector, /^0\.8\./);
            assert.deepEqual(row!.versions, migrations.map((m) => m.replace(/^\d+_/, "")));
          } finally {
            await sql.end();
          }
        });

        await t.step(
          "readyz is ready: database, queues and the workers' vault secrets",
          async () => {
            const res = await fetch(`${dev.functionsUrl}/readyz`, {
              headers: { authorization: `Bearer ${dev.serviceKey}` },
            });
            const body = await res.json();
            assert.equal(res.status, 200, JSON.stringify(body));
            assert.equal(body.status, "ready");
            assert.equal(body.checks.database.ok, true);
            assert.equal(body.checks.queues.ok, true);
          },
        );

        await t.step("the demo token creates a workbench and lists it", async () => {
          const auth = { authorization: `Bearer ${dev.token}` };
          const created = await fetch(`${dev.functionsUrl}/workbenches`, {
            method: "POST",
            headers: { ...auth, "content-type": "application/json" },
            body: JSON.stringify({ name: "Q3 close" }),
          });
          const wb = await created.json();
          assert.equal(created.status, 201, JSON.stringify(wb));
          assert.equal(wb.name, "Q3 close");
          const listed = await fetch(`${dev.functionsUrl}/workbenches`, { headers: auth });
          const list = await listed.json();
          assert.equal(listed.status, 200);
          const ids = list.workbenches.map((w: { id: string }) => w.id);
          assert.ok(ids.includes(wb.id), JSON.stringify(list));
        });
      } finally {
        await stopDev(dev);
      }

      await t.step("--stop stops the cluster; run again, it starts with its data", async () => {
        const stopped = await dbNative("--dir", clusterDir, "--stop");
        assert.equal(stopped.code, 0, stopped.err);
        assert.match(stopped.out, new RegExp(`Stopped the native PostgreSQL on port ${port}`));
        const down = postgres(dbUrl, { max: 1, connect_timeout: 2 });
        await assert.rejects(() => down`select 1`, /ECONNREFUSED|connect/);
        await down.end();

        const again = await dbNative("--dir", clusterDir, "--port", String(port));
        assert.equal(again.code, 0, again.err);
        assert.doesNotMatch(again.out, /Creating a PostgreSQL/);
        const sql = postgres(dbUrl, { max: 1, onnotice: () => {} });
        try {
          const [row] = await sql<{ n: number }[]>`
          select count(*)::int as n from public.workbench where name = 'Q3 close'`;
          assert.equal(row!.n, 1, "the workbench created through task dev is still there");
        } finally {
          await sql.end();
        }
      });
    } finally {
      await dbNative("--dir", clusterDir, "--stop");
      await Deno.remove(scratch, { recursive: true }).catch(() => {});
    }
  },
);

Deno.test("task db:native prints how to build pgvector from Debian's source when it is missing", async () => {
  // A server of a version with no pgvector installed: /usr/share/postgresql/99 does not exist.
  const scratch = await Deno.makeTempDir({ prefix: "db-native-no-vector-" });
  try {
    const bin = join(scratch, "99/bin");
    await Deno.mkdir(bin, { recursive: true });
    await Deno.writeTextFile(join(bin, "initdb"), "");
    const run = await dbNative("--bin", bin, "--dir", join(scratch, "pg"));
    assert.equal(run.code, 1, run.out + run.err);
    assert.match(run.err, new RegExp(`pgvector is not installed for ${bin}`));
    for (
      const line of [
        'echo "deb-src http://deb.debian.org/debian trixie main" > ' +
        "/etc/apt/sources.list.d/trixie-src.list",
        "apt-get update",
        "apt-get install -y --no-install-recommends postgresql-server-dev-99 dpkg-dev make gcc",
        "apt-get source --download-only pgvector",
        `make PG_CONFIG=${bin}/pg_config`,
        `make install PG_CONFIG=${bin}/pg_config`,
      ]
    ) {
      assert.ok(run.err.split("\n").includes(line), `the recipe has \`${line}\`:\n${run.err}`);
    }
    assert.match(run.err, /task db:native --install-pgvector/);
    await assert.rejects(() => Deno.stat(join(scratch, "pg")), Deno.errors.NotFound);

    const bad = await dbNative("--bin", scratch);
    assert.equal(bad.code, 2);
    assert.match(
      bad.err,
      /^task db:native: --bin must be a \/usr\/lib\/postgresql\/<version>\/bin/,
    );
  } finally {
    await Deno.remove(scratch, { recursive: true });
  }
});
