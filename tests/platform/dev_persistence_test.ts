/**
 * `task dev` as a user runs it: a separate process that prints its URLs and a demo token, and whose
 * database (users included) survives a restart. On its own data directory (as here) it writes its
 * dev.json there and leaves the developer's .local/dev.json alone.
 */
import assert from "node:assert/strict";
import { createClient } from "@supabase/supabase-js";
import { join, resolve } from "node:path";
import { childEnv } from "../helpers/child_env.ts";
import { startDev as startRunningDev } from "../helpers/dev.ts";

const ROOT = resolve(new URL("../..", import.meta.url).pathname);
const DEVELOPER_DEV_JSON = join(ROOT, ".local/dev.json");

/** The developer's .local/dev.json as it is: its bytes and modification time, or absent. */
async function developerDevJson(): Promise<{ text: string; mtime: number | null } | null> {
  try {
    const [text, info] = await Promise.all([
      Deno.readTextFile(DEVELOPER_DEV_JSON),
      Deno.stat(DEVELOPER_DEV_JSON),
    ]);
    return { text, mtime: info.mtime?.getTime() ?? null };
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return null;
    throw err;
  }
}

interface Running {
  child: Deno.ChildProcess;
  output: string;
  apiUrl: string;
  anonKey: string;
  token: string;
}

async function startDev(dataDir: string): Promise<Running> {
  const dev = await startRunningDev(["--data-dir", dataDir], 60_000);
  return {
    child: dev.child,
    output: dev.output,
    apiUrl: dev.field("API URL"),
    anonKey: dev.field("anon key"),
    token: dev.field("Demo token"),
  };
}

async function stopDev(dev: Running): Promise<void> {
  dev.child.kill("SIGTERM");
  const status = await dev.child.status;
  assert.equal(status.code, 0, "dev shuts down cleanly on SIGTERM");
}

Deno.test("task dev prints URLs, keys and a demo token, and keeps data across restarts", {
  sanitizeOps: false,
  sanitizeResources: false,
}, async (t) => {
  const dataDir = await Deno.makeTempDir({ prefix: "dev-persist-" });
  const developerBefore = await developerDevJson();
  try {
    const first = await startDev(dataDir);
    let email: string;
    try {
      await t.step(
        "a dev on its own data directory writes dev.json there, not .local/dev.json",
        async () => {
          const info = JSON.parse(await Deno.readTextFile(join(dataDir, "dev.json")));
          assert.equal(info.api_url, first.apiUrl);
          assert.equal(info.anon_key, first.anonKey);
          assert.deepEqual(await developerDevJson(), developerBefore, ".local/dev.json untouched");
          // `task user:create --data-dir` finds this platform through that file.
          const created = await new Deno.Command(Deno.execPath(), {
            args: [
              "run",
              "-A",
              "local/user_create.ts",
              `user-create-${Date.now()}@example.com`,
              "--data-dir",
              dataDir,
            ],
            cwd: ROOT,
            env: childEnv({ NO_COLOR: "1" }),
            stdout: "piped",
            stderr: "piped",
          }).output();
          const out = new TextDecoder().decode(created.stdout);
          assert.equal(created.success, true, new TextDecoder().decode(created.stderr));
          assert.match(out, /access token: ey/);
        },
      );

      assert.match(first.apiUrl, /^http:\/\/127\.0\.0\.1:\d+$/);
      assert.match(first.output, /Functions\s+http:\/\/127\.0\.0\.1:\d+\/functions\/v1/);
      assert.match(first.output, /applied 20261201000000_platform/);
      const mailUrl = /Mail\s+(http:\/\/127\.0\.0\.1:\d+)/.exec(first.output)?.[1];
      assert.ok(mailUrl, "the mail catcher's URL is printed");
      const mailbox = await fetch(`${mailUrl}/mail`).then((r) => r.json());
      assert.ok(Array.isArray(mailbox.messages), "and lists the mail sent locally");
      assert.match(first.token, /^ey/);
      const ready = await fetch(`${first.apiUrl}/functions/v1/readyz`);
      assert.equal(ready.status, 200);
      await ready.body?.cancel();

      // A second `task dev` on the same data directory refuses to start, in one line, and the
      // first one keeps serving.
      const twin = await new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "-A",
          "local/dev.ts",
          "--port",
          "0",
          "--db-port",
          "0",
          "--mail-port",
          "0",
          "--data-dir",
          dataDir,
        ],
        cwd: ROOT,
        env: childEnv({ LOG_LEVEL: "warn", NO_COLOR: "1" }),
        stdout: "piped",
        stderr: "piped",
      }).output();
      const twinErr = new TextDecoder().decode(twin.stderr).trim();
      assert.equal(twin.success, false);
      assert.match(
        twinErr,
        /^task dev: the data directory .* is in use by another local platform \(pid \d+\)/,
      );
      assert.equal(twinErr.split("\n").length, 1, `one line, got:\n${twinErr}`);
      const still = await fetch(`${first.apiUrl}/functions/v1/healthz`);
      assert.equal(still.status, 200);
      await still.body?.cancel();

      // Bad flags: one line that says what to do, no stack trace.
      const bad = await new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", "local/dev.ts", "--port", "abc"],
        cwd: ROOT,
        env: childEnv(),
        stdout: "piped",
        stderr: "piped",
      }).output();
      const badErr = new TextDecoder().decode(bad.stderr).trim();
      assert.equal(bad.code, 2);
      assert.equal(badErr, 'task dev: --port must be a port number, got "abc"');

      // A busy port: one line that says what to do.
      const otherDir = await Deno.makeTempDir({ prefix: "dev-busy-port-" });
      try {
        const busy = await new Deno.Command(Deno.execPath(), {
          args: [
            "run",
            "-A",
            "local/dev.ts",
            "--port",
            new URL(first.apiUrl).port,
            "--db-port",
            "0",
            "--mail-port",
            "0",
            "--data-dir",
            otherDir,
          ],
          cwd: ROOT,
          env: childEnv({ LOG_LEVEL: "warn", NO_COLOR: "1" }),
          stdout: "piped",
          stderr: "piped",
        }).output();
        const busyErr = new TextDecoder().decode(busy.stderr).trim();
        assert.equal(busy.success, false);
        assert.match(busyErr, /^task dev: a port is already in use .*pick others with --port/);
        assert.equal(busyErr.split("\n").length, 1, `one line, got:\n${busyErr}`);
      } finally {
        await Deno.remove(otherDir, { recursive: true });
      }

      const client = createClient(first.apiUrl, first.anonKey, { auth: { persistSession: false } });
      email = `persist-${Date.now()}@example.com`;
      const signUp = await client.auth.signUp({ email, password: "survives-restarts" });
      assert.equal(signUp.error, null);
    } finally {
      await stopDev(first);
    }

    const second = await startDev(dataDir);
    try {
      assert.match(second.output, /Migrations\s+up to date/);
      assert.equal(
        second.anonKey,
        first.anonKey,
        "the signing key persists, so old keys stay valid",
      );
      const client = createClient(second.apiUrl, second.anonKey, {
        auth: { persistSession: false },
      });
      const signIn = await client.auth.signInWithPassword({ email, password: "survives-restarts" });
      assert.equal(signIn.error, null, "the user created before the restart can sign in");
      const me = await client.auth.getUser(first.token);
      assert.equal(
        me.data.user?.email,
        "demo@example.com",
        "a token from before the restart still verifies",
      );
    } finally {
      await stopDev(second);
    }
    assert.deepEqual(
      await developerDevJson(),
      developerBefore,
      "two runs of a test's task dev leave .local/dev.json untouched",
    );
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});
