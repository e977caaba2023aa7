/**
 * Function isolates go when the platform goes: `kill -9` of `task dev` gives the gateway no chance
 * to stop them, so each isolate watches a pipe from the gateway (local/edge_host.ts) and exits
 * when its end comes. Before, they kept listening until their process group was killed.
 */
import assert from "node:assert/strict";
import { childEnv } from "../helpers/child_env.ts";

function alive(pid: number): boolean {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    return !/^\d+ \(.*\) [ZX] /s.test(stat); // a zombie has exited already
  } catch {
    return false;
  }
}

Deno.test({
  name: "a function isolate exits within seconds after its gateway is killed with SIGKILL",
  sanitizeOps: false,
  sanitizeResources: false,
}, async () => {
  const script = new URL("../fixtures/isolates/gateway_process.ts", import.meta.url).pathname;
  const gateway = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", script],
    env: childEnv(),
    stdout: "piped",
    stderr: "inherit",
    stdin: "null",
  }).spawn();
  let isolate: number | undefined;
  try {
    const lines = gateway.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let text = "";
    while (isolate === undefined) {
      const { value, done } = await lines.read();
      assert.ok(!done, `the gateway ended before its isolate booted: ${text}`);
      text += value;
      const m = /\{"isolate":(\d+)\}/.exec(text);
      if (m) isolate = Number(m[1]);
    }
    lines.releaseLock();
    assert.ok(alive(isolate), "the isolate runs");
    gateway.kill("SIGKILL");
    await gateway.status;
    const deadline = Date.now() + 5_000;
    while (alive(isolate) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    assert.ok(!alive(isolate), `isolate ${isolate} still runs 5 s after its gateway was killed`);
  } finally {
    if (isolate !== undefined && alive(isolate)) Deno.kill(isolate, "SIGKILL");
    try {
      gateway.kill("SIGKILL");
    } catch {
      // gone
    }
    await gateway.stdout.cancel().catch(() => {});
  }
});
