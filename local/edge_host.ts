/**
 * One function's isolate, as the local Edge Runtime starts it (local/functions_gateway.ts): a Deno
 * subprocess with a capped V8 heap that imports the function's entrypoint, captures the handler
 * its `Deno.serve` call registers, and serves it on a loopback port. It provides
 * `EdgeRuntime.waitUntil`, reports each response's memory use to the gateway
 * (`x-edge-memory-bytes`, stripped before the client sees it) and exits with code 86 as soon as
 * heap + external memory pass the limit, as Supabase terminates a worker at its memory limit.
 *
 * With `--parent-pipe` the host watches its stdin, a pipe the gateway holds open and never writes:
 * when it reaches its end the platform is gone (stopped, crashed or killed with SIGKILL, which
 * gives it no chance to stop its isolates) and the host exits at once, so no isolate is left
 * listening after the platform.
 *
 * Usage: deno run -A --v8-flags=--max-old-space-size=<mb> local/edge_host.ts <entrypoint> <mb|0>
 *   [--parent-pipe]
 * Control lines on stdout start with {"edge_host":...}; everything else is the function's output.
 */
import { pathToFileURL } from "node:url";

export const MEMORY_LIMIT_EXIT_CODE = 86;
export const MEMORY_HEADER = "x-edge-memory-bytes";

type FetchHandler = (req: Request, info?: unknown) => Response | Promise<Response>;

function control(message: Record<string, unknown>): void {
  console.log(JSON.stringify({ edge_host: message }));
}

async function main(entrypoint: string, memoryLimitMb: number): Promise<void> {
  const pending = new Set<Promise<unknown>>();
  (globalThis as Record<string, unknown>).EdgeRuntime = {
    waitUntil(promise: Promise<unknown>) {
      const tracked: Promise<unknown> = Promise.resolve(promise)
        .catch((err) => console.error(`waitUntil task failed: ${err}`))
        .finally(() => pending.delete(tracked));
      pending.add(tracked);
    },
  };

  const used = () => {
    const m = Deno.memoryUsage();
    return m.heapUsed + m.external;
  };
  const limitBytes = memoryLimitMb * 1024 * 1024;
  const checkMemory = () => {
    if (limitBytes > 0 && used() > limitBytes) {
      control({ limit: "memory", bytes: used() });
      Deno.exit(MEMORY_LIMIT_EXIT_CODE);
    }
  };

  let captured: FetchHandler | undefined;
  const original = Deno.serve;
  // deno-lint-ignore no-explicit-any
  (Deno as any).serve = (...args: any[]) => {
    const last = args[args.length - 1];
    captured = typeof last === "function" ? last : last?.handler;
    return {
      finished: new Promise(() => {}),
      shutdown: () => Promise.resolve(),
      ref() {},
      unref() {},
    };
  };
  try {
    await import(pathToFileURL(entrypoint).href);
  } finally {
    // deno-lint-ignore no-explicit-any
    (Deno as any).serve = original;
  }
  const handler = captured;
  if (!handler) throw new Error(`${entrypoint} did not call Deno.serve`);

  setInterval(checkMemory, 25);
  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    onListen: ({ port }) => control({ ready: port }),
  }, async (req) => {
    const res = await handler(req);
    checkMemory();
    try {
      // The handler's own Response: its body stays as it is (a buffer keeps its content-length).
      res.headers.set(MEMORY_HEADER, String(used()));
      return res;
    } catch {
      // Immutable headers (a Response from fetch()): a copy.
      const headers = new Headers(res.headers);
      headers.set(MEMORY_HEADER, String(used()));
      return new Response(res.body, { status: res.status, statusText: res.statusText, headers });
    }
  });

  // Asked to stop: finish background work first (a bounded wait), as the runtime does.
  Deno.addSignalListener("SIGTERM", async () => {
    const deadline = new Promise((r) => setTimeout(r, 5_000));
    await Promise.race([Promise.allSettled([...pending]), deadline]);
    await server.shutdown().catch(() => {});
    Deno.exit(0);
  });
}

/** Exits when stdin ends: the gateway, the only writer of that pipe, has gone. */
async function exitWithParent(): Promise<void> {
  const buf = new Uint8Array(64);
  try {
    while (await Deno.stdin.read(buf) !== null) {
      // nothing is ever written; read on until the end
    }
  } catch {
    // a broken pipe is an end too
  }
  Deno.exit(0);
}

if (import.meta.main) {
  const [entrypoint, limit, flag] = Deno.args;
  if (flag === "--parent-pipe") exitWithParent();
  if (!entrypoint) {
    console.error("usage: edge_host.ts <entrypoint> <memory limit MB, 0 for none>");
    Deno.exit(2);
  }
  try {
    await main(entrypoint, Number(limit ?? "0"));
  } catch (err) {
    control({ boot_error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
    Deno.exit(1);
  }
}
