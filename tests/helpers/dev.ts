/**
 * `task dev` as a user runs it, for the tests of the command itself: a separate process on free
 * ports (API, database, mail catcher), started from a clean environment (`childEnv()`), read until
 * it prints "Ctrl-C stops". `field(label)` reads one value of what it printed.
 */
import { resolve } from "node:path";
import { childEnv } from "./child_env.ts";

const ROOT = resolve(new URL("../..", import.meta.url).pathname);

export interface RunningDev {
  child: Deno.ChildProcess;
  output: string;
  /** The first word after `label` in the printed banner ("API URL", "Demo token", …). */
  field(label: string): string;
}

/** Starts `local/dev.ts` with `args` after the free-port flags; throws with its output if it ends. */
export async function startDev(args: string[], timeoutMs = 120_000): Promise<RunningDev> {
  const child = new Deno.Command(Deno.execPath(), {
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
      ...args,
    ],
    cwd: ROOT,
    env: childEnv({ LOG_LEVEL: "warn", NO_COLOR: "1" }),
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let output = "";
  const deadline = Date.now() + timeoutMs;
  while (!output.includes("Ctrl-C stops")) {
    if (Date.now() > deadline) throw new Error(`dev did not start:\n${output}`);
    const { value, done } = await reader.read();
    if (done) {
      const err = await new Response(child.stderr).text();
      throw new Error(`dev exited early:\n${output}\n${err}`);
    }
    output += value;
  }
  reader.releaseLock();
  child.stdout.cancel().catch(() => {});
  child.stderr.cancel().catch(() => {});
  const field = (label: string) => new RegExp(`${label}\\s+(\\S+)`).exec(output)?.[1] ?? "";
  return { child, output, field };
}
