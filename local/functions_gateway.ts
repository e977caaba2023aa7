/**
 * The local Edge Runtime and its gateway. Each function declared in supabase/config.toml runs in
 * its own isolate — a Deno subprocess (local/edge_host.ts), started on its first request (a cold
 * start) — with Supabase's limits, so "green here" means "works there":
 *
 * - memory: a V8 heap cap plus a check of heap + external memory (256 MB by default);
 * - CPU time per request (2 s by default): the isolate's CPU time, read from /proc, shared out
 *   among the requests in flight;
 * - wall clock per request (150 s by default, the free plan).
 *
 * Past a limit the isolate is terminated and its requests get `546 {"code":"WORKER_LIMIT",...}`, as
 * on Supabase; the next request starts a new isolate. Every request is logged with `cpu_ms` and
 * memory. `enforce: false` (`task dev --no-limits`) measures and logs without terminating.
 *
 * The gateway in front honours `verify_jwt` exactly as Supabase's does: for a function still set to
 * `true`, a missing or bad token gets Supabase's bare 401 (`{"msg":"Invalid JWT"}`: no error
 * envelope, no CORS headers, no request id). OPTIONS preflights pass without a token. The
 * gateway's other answers (unknown function, a function that cannot start, crashed or went over a
 * limit) keep Supabase's `code` and `message` and add the project's error envelope, the request id
 * and CORS headers (`gatewayError()`).
 */
import { parse as parseToml } from "smol-toml";
import { join, resolve } from "node:path";
import { corsHeaders, newRequestId } from "../shared/http.ts";
import { log } from "../shared/log.ts";
import { MEMORY_HEADER, MEMORY_LIMIT_EXIT_CODE } from "./edge_host.ts";
import type { LocalKeys } from "./keys.ts";

export interface FunctionConfig {
  name: string;
  verifyJwt: boolean;
  entrypoint: string;
}

export interface EdgeLimits {
  cpuMs: number;
  memoryMb: number;
  wallClockMs: number;
  /** Terminate isolates past a limit (false: only measure and log). */
  enforce: boolean;
}

/** What a Supabase project gives each request (free plan wall clock). */
export const SUPABASE_LIMITS: EdgeLimits = {
  cpuMs: 2_000,
  memoryMb: 256,
  wallClockMs: 150_000,
  enforce: true,
};

const WORKER_LIMIT_BODY = {
  code: "WORKER_LIMIT",
  message: "Function failed due to not having enough compute resources (please check logs)",
};
const BOOT_ERROR_BODY = {
  code: "BOOT_ERROR",
  message: "Function failed to start (please check logs)",
};
const WORKER_ERROR_BODY = { code: "WORKER_ERROR", message: "Function exited unexpectedly" };
const NOT_FOUND_BODY = { code: "NOT_FOUND", message: "Requested function was not found" };

/** The project's error code for each of the gateway's own answers. */
const ENVELOPE_CODES: Record<string, string> = {
  WORKER_LIMIT: "worker_limit",
  BOOT_ERROR: "function_unavailable",
  WORKER_ERROR: "function_crashed",
  NOT_FOUND: "function_not_found",
};

/**
 * An answer of the gateway itself (no function answered): Supabase's body (`code`, `message`,
 * which clients of Supabase already read) plus the project's error envelope under `error`, with
 * the request id and CORS headers, so a browser sees the 404 of a mistyped function name as a
 * 404 and not as a CORS failure.
 */
export function gatewayError(
  req: Request,
  requestId: string,
  status: number,
  body: { code: string; message: string },
): Response {
  return Response.json({
    ...body,
    error: {
      code: ENVELOPE_CODES[body.code] ?? body.code.toLowerCase(),
      message: body.message,
      request_id: requestId,
    },
  }, { status, headers: { ...corsHeaders(req), "x-request-id": requestId } });
}
const EDGE_HOST = new URL("./edge_host.ts", import.meta.url).pathname;
const CONFIG_FILE = resolve(new URL("../deno.json", import.meta.url).pathname);
/** /proc/<pid>/stat counts CPU in clock ticks of 10 ms (USER_HZ = 100 on Linux). */
const MS_PER_TICK = 10;
const PAGE_BYTES = 4096;
const SAMPLE_MS = 20;
/** Slack over the memory limit before the RSS backstop fires (runtime code, allocator slack). */
const RSS_SLACK_BYTES = 128 * 1024 * 1024;

/** Reads the `[functions.<name>]` tables of supabase/config.toml. */
export async function readFunctionConfig(configFile: string): Promise<FunctionConfig[]> {
  const config = parseToml(await Deno.readTextFile(configFile)) as {
    functions?: Record<string, { verify_jwt?: boolean; entrypoint?: string; enabled?: boolean }>;
  };
  const supabaseDir = resolve(configFile, "..");
  return Object.entries(config.functions ?? {})
    .filter(([, f]) => f.enabled !== false)
    .map(([name, f]) => ({
      name,
      verifyJwt: f.verify_jwt ?? true,
      entrypoint: resolve(supabaseDir, f.entrypoint ?? `./functions/${name}/index.ts`),
    }));
}

interface ProcStat {
  cpuMs: number;
  rssBytes: number;
}

function readProcStat(pid: number): ProcStat | undefined {
  try {
    const raw = Deno.readTextFileSync(`/proc/${pid}/stat`);
    const fields = raw.slice(raw.lastIndexOf(")") + 2).split(" ");
    const ticks = Number(fields[11]) + Number(fields[12]);
    return { cpuMs: ticks * MS_PER_TICK, rssBytes: Number(fields[21]) * PAGE_BYTES };
  } catch {
    return undefined;
  }
}

/** One request in flight in an isolate: what it has used so far. */
interface Usage {
  cpuMs: number;
  started: number;
  overLimit?: "cpu" | "wall_clock";
}

type Termination = "cpu" | "memory" | "wall_clock" | "crash" | "stopped";

/** A function's running isolate (one subprocess). */
class Isolate {
  readonly ready: Promise<number>;
  readonly exited: Promise<Termination>;
  readonly inFlight = new Set<Usage>();
  readonly child: Deno.ChildProcess;
  private killedFor?: Termination;
  private lastCpuMs = 0;
  private baselineRss = 0;
  private memoryBytes = 0;
  private timer?: ReturnType<typeof setInterval>;
  dead = false;

  constructor(
    readonly config: FunctionConfig,
    env: Record<string, string>,
    private readonly limits: EdgeLimits,
  ) {
    const v8 = limits.enforce ? [`--v8-flags=--max-old-space-size=${limits.memoryMb}`] : [];
    this.child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--quiet",
        "-A",
        "--no-prompt",
        `--config=${CONFIG_FILE}`,
        ...v8,
        EDGE_HOST,
        config.entrypoint,
        String(limits.enforce ? limits.memoryMb : 0),
        "--parent-pipe",
      ],
      env,
      clearEnv: true,
      // Never written: its end tells the isolate the platform is gone, even after a SIGKILL.
      stdin: "piped",
      stdout: "piped",
      stderr: "inherit",
    }).spawn();

    let onReady!: (port: number) => void;
    let onBootError!: (err: Error) => void;
    this.ready = new Promise<number>((res, rej) => {
      onReady = res;
      onBootError = rej;
    });
    this.ready.catch(() => {});
    this.readOutput(onReady, onBootError);

    this.exited = this.child.status.then((status) => {
      this.dead = true;
      this.child.stdin.close().catch(() => {});
      clearInterval(this.timer);
      onBootError(new Error(`${config.name} exited before it was ready (code ${status.code})`));
      if (this.killedFor) return this.killedFor;
      // Exit code 86: the host saw its memory pass the limit; a signal: V8 aborted (heap limit).
      if (status.code === MEMORY_LIMIT_EXIT_CODE || status.signal) {
        return status.signal && !this.limits.enforce ? "crash" : "memory";
      }
      return "crash";
    });
  }

  private async readOutput(onReady: (port: number) => void, onBootError: (e: Error) => void) {
    let buffer = "";
    const decoder = new TextDecoder();
    for await (const bytes of this.child.stdout) {
      buffer += decoder.decode(bytes, { stream: true });
      let newline: number;
      while ((newline = buffer.indexOf("\n")) >= 0) {
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + 1);
        if (!line.startsWith('{"edge_host":')) {
          console.log(line);
          continue;
        }
        const message = JSON.parse(line).edge_host as {
          ready?: number;
          boot_error?: string;
          limit?: string;
        };
        if (message.ready) {
          this.lastCpuMs = readProcStat(this.child.pid)?.cpuMs ?? 0;
          this.baselineRss = readProcStat(this.child.pid)?.rssBytes ?? 0;
          onReady(message.ready);
        } else if (message.boot_error) {
          log.error("function failed to start", {
            fn: this.config.name,
            error: message.boot_error,
          });
          onBootError(new Error(message.boot_error));
        } else if (message.limit) {
          log.warn("function isolate over its memory limit", { fn: this.config.name });
        }
      }
    }
  }

  /** Starts measuring a request; the returned function ends it. */
  begin(): { usage: Usage; end(): void } {
    const usage: Usage = { cpuMs: 0, started: performance.now() };
    this.sample();
    this.inFlight.add(usage);
    this.timer ??= setInterval(() => this.sample(), SAMPLE_MS);
    return {
      usage,
      end: () => {
        if (!this.inFlight.has(usage)) return;
        this.sample();
        this.inFlight.delete(usage);
        if (this.inFlight.size === 0) {
          clearInterval(this.timer);
          this.timer = undefined;
        }
      },
    };
  }

  /** Shares out the CPU used since the last sample among the requests in flight; checks limits. */
  private sample(): void {
    if (this.dead) return;
    const stat = readProcStat(this.child.pid);
    if (!stat) return;
    const delta = stat.cpuMs - this.lastCpuMs;
    this.lastCpuMs = stat.cpuMs;
    if (this.inFlight.size > 0 && delta > 0) {
      for (const u of this.inFlight) u.cpuMs += delta / this.inFlight.size;
    }
    const now = performance.now();
    for (const u of this.inFlight) {
      if (u.cpuMs > this.limits.cpuMs) u.overLimit ??= "cpu";
      else if (now - u.started > this.limits.wallClockMs) u.overLimit ??= "wall_clock";
    }
    const rssGrowth = stat.rssBytes - this.baselineRss;
    if (!this.limits.enforce) return;
    const over = [...this.inFlight].find((u) => u.overLimit)?.overLimit;
    if (over) {
      this.terminate(over);
    } else if (rssGrowth > this.limits.memoryMb * 1024 * 1024 + RSS_SLACK_BYTES) {
      this.terminate("memory");
    }
  }

  terminate(reason: Termination): void {
    if (this.dead || this.killedFor) return;
    this.killedFor = reason;
    log.warn("function isolate terminated", { fn: this.config.name, reason });
    try {
      this.child.kill("SIGKILL");
    } catch {
      // already gone
    }
  }

  noteMemory(bytes: number): void {
    this.memoryBytes = bytes;
  }

  get memoryMb(): number {
    return Math.round(this.memoryBytes / 1024 / 1024);
  }

  get rssMb(): number {
    return Math.round((readProcStat(this.child.pid)?.rssBytes ?? 0) / 1024 / 1024);
  }

  /** Graceful stop: background work gets a bounded time to finish. */
  async stop(): Promise<void> {
    if (this.dead) return;
    this.killedFor ??= "stopped";
    try {
      this.child.kill("SIGTERM");
    } catch {
      return;
    }
    const timer = setTimeout(() => {
      try {
        this.child.kill("SIGKILL");
      } catch {
        // gone
      }
    }, 8_000);
    await this.exited;
    clearTimeout(timer);
    await this.child.stdout.cancel().catch(() => {});
  }
}

export interface Gateway {
  functions: FunctionConfig[];
  /** `clientIp`: the caller's address, forwarded as `x-forwarded-for` as Supabase's edge does. */
  handle(req: Request, path: string, clientIp?: string): Promise<Response>;
  /** The pid of a function's running isolate, if it has one (tests kill it). */
  pidOf(name: string): number | undefined;
  /** Starts these functions' isolates now (default: all) instead of on their first request. */
  warm(names?: string[]): Promise<void>;
  /** Stops every isolate, letting `EdgeRuntime.waitUntil` work finish (bounded). */
  drain(): Promise<void>;
}

/** One line of the functions' access log. */
export interface FunctionRequestLog {
  fn: string;
  request_id: string;
  method: string;
  path: string;
  status: number;
  ms: number;
  cpu_ms: number;
  memory_mb: number;
  rss_mb: number;
}

export interface GatewayOptions {
  configFile: string;
  keys: LocalKeys;
  /** The environment every function gets (what Supabase injects, plus secrets). */
  env: Record<string, string>;
  limits?: EdgeLimits;
  extraFunctions?: FunctionConfig[];
  /**
   * Run the built bundles in this folder (`<dir>/<name>/index.js`, from `task build`) instead of
   * the sources config.toml names.
   */
  functionsDir?: string;
  /** Sees every access-log entry (tests). */
  onRequest?: (entry: FunctionRequestLog) => void;
}

/** The process environment a Deno subprocess needs to run at all (not the function's env). */
function runtimeEnv(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(Deno.env.toObject())) {
    if (/^(PATH|HOME|TMPDIR|DENO_DIR|DENO_NO_UPDATE_CHECK|NO_COLOR|NPM_CONFIG_.*)$/.test(k)) {
      out[k] = v;
    }
  }
  return out;
}

/** Bodies up to this size pass the gateway as one buffer instead of a stream. */
const BUFFERED_BODY_BYTES = 1024 * 1024;

function isSmall(headers: Headers): boolean {
  const length = Number(headers.get("content-length") ?? NaN);
  return Number.isFinite(length) && length <= BUFFERED_BODY_BYTES;
}

/**
 * What is forwarded to the isolate: a small body of known length as one buffer (a streamed body
 * costs the gateway a stream pump and a chunked upload per request), anything else as the stream.
 */
async function requestBody(req: Request): Promise<BodyInit | null> {
  if (!req.body) return null;
  if (isSmall(req.headers)) return await req.arrayBuffer();
  return req.body;
}

/** Supabase's gateway answer for a bad token (verify_jwt = true): bare JSON, no CORS. */
function gatewayUnauthorized(msg: string): Response {
  return new Response(JSON.stringify({ msg }), {
    status: 401,
    headers: { "content-type": "application/json" },
  });
}

export async function createGateway(opts: GatewayOptions): Promise<Gateway> {
  const limits = opts.limits ?? SUPABASE_LIMITS;
  const functions = [
    ...(await readFunctionConfig(opts.configFile)).map((f) =>
      opts.functionsDir ? { ...f, entrypoint: join(opts.functionsDir, f.name, "index.js") } : f
    ),
    ...(opts.extraFunctions ?? []),
  ];
  const byName = new Map(functions.map((f) => [f.name, f]));
  const isolates = new Map<string, Isolate>();
  const env = { ...runtimeEnv(), ...opts.env };
  let stopping = false;

  function isolateFor(config: FunctionConfig): Isolate {
    let isolate = isolates.get(config.name);
    if (!isolate || isolate.dead) {
      isolate = new Isolate(config, env, limits);
      isolates.set(config.name, isolate);
    }
    return isolate;
  }

  async function checkJwt(req: Request): Promise<Response | undefined> {
    const header = req.headers.get("authorization");
    if (!header) return gatewayUnauthorized("Error: Missing authorization header");
    const token = /^Bearer\s+(\S+)$/i.exec(header)?.[1];
    if (!token) return gatewayUnauthorized("Error: Auth header is not 'Bearer {token}'");
    try {
      // Any JWT of the project passes (user tokens, the legacy anon / service_role keys); the
      // new sb_ keys are not JWTs, so Supabase's gateway refuses them.
      await opts.keys.verify(token);
      if (token.startsWith("sb_")) throw new Error("not a JWT");
    } catch {
      return gatewayUnauthorized("Invalid JWT");
    }
    return undefined;
  }

  async function forward(
    config: FunctionConfig,
    req: Request,
    path: string,
    requestId: string,
    clientIp: string | undefined,
  ): Promise<Response> {
    if (stopping) return gatewayError(req, requestId, 503, BOOT_ERROR_BODY);
    const isolate = isolateFor(config);
    let port: number;
    try {
      port = await isolate.ready;
    } catch {
      return gatewayError(req, requestId, 503, BOOT_ERROR_BODY);
    }
    const url = new URL(req.url);
    const headers = new Headers(req.headers);
    if (!headers.has("x-request-id")) headers.set("x-request-id", requestId);
    headers.delete("host");
    if (clientIp) headers.set("x-forwarded-for", clientIp);
    let requestBytes: BodyInit | null;
    try {
      requestBytes = await requestBody(req);
    } catch {
      // The client went away while sending its body: nothing reached the function.
      return new Response(null, { status: 499 });
    }
    const { usage, end } = isolate.begin();
    const started = performance.now();
    const finish = (status: number) => {
      end();
      const fields: FunctionRequestLog = {
        fn: config.name,
        request_id: requestId,
        method: req.method,
        path: url.pathname,
        status,
        ms: Math.round(performance.now() - started),
        cpu_ms: Math.round(usage.cpuMs),
        memory_mb: isolate.memoryMb,
        rss_mb: isolate.rssMb,
      };
      if (status === 546) log.warn("function request over a limit", { ...fields });
      else log.info("function request", { ...fields });
      opts.onRequest?.(fields);
    };
    // The request or its answer failed: the client left (499), or the isolate died under it at
    // a limit (546) or by a crash (500).
    const failed = async (err: unknown): Promise<Response> => {
      if (req.signal.aborted) {
        finish(499);
        return new Response(null, { status: 499 });
      }
      const reason = await Promise.race([
        isolate.exited,
        new Promise<"unknown">((r) => setTimeout(() => r("unknown"), 2_000)),
      ]);
      if (reason === "cpu" || reason === "memory" || reason === "wall_clock") {
        finish(546);
        return gatewayError(req, requestId, 546, WORKER_LIMIT_BODY);
      }
      log.error("function isolate failed", { fn: config.name, reason, error: String(err) });
      finish(500);
      return gatewayError(req, requestId, 500, WORKER_ERROR_BODY);
    };
    let upstream: Response;
    try {
      upstream = await fetch(`http://127.0.0.1:${port}${path}${url.search}`, {
        method: req.method,
        headers,
        body: requestBytes,
        redirect: "manual",
        signal: req.signal,
      });
    } catch (err) {
      return await failed(err);
    }
    isolate.noteMemory(Number(upstream.headers.get(MEMORY_HEADER) ?? "0"));
    const out = new Headers(upstream.headers);
    out.delete(MEMORY_HEADER);
    if (!upstream.body) {
      finish(upstream.status);
      return new Response(null, { status: upstream.status, headers: out });
    }
    const status = upstream.status;
    if (isSmall(upstream.headers)) {
      // A small answer of known length: read it whole (the isolate has produced all of it).
      let bytes: ArrayBuffer;
      try {
        bytes = await upstream.arrayBuffer();
      } catch (err) {
        return await failed(err);
      }
      finish(status);
      return new Response(bytes, { status, statusText: upstream.statusText, headers: out });
    }
    // The request stays in flight (and keeps being charged CPU) until its body has been sent.
    const body = upstream.body.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        flush: () => finish(status),
        cancel: () => finish(status),
      }),
    );
    return new Response(body, { status, statusText: upstream.statusText, headers: out });
  }

  async function handle(req: Request, path: string, clientIp?: string): Promise<Response> {
    const name = path.split("/").filter(Boolean)[0] ?? "";
    const config = byName.get(name);
    if (!config) {
      if (req.method === "OPTIONS") {
        return new Response(null, { status: 204, headers: corsHeaders(req) });
      }
      return gatewayError(req, newRequestId(req), 404, NOT_FOUND_BODY);
    }
    if (config.verifyJwt && req.method !== "OPTIONS") {
      const refused = await checkJwt(req);
      if (refused) return refused;
    }
    return await forward(config, req, path, newRequestId(req), clientIp);
  }

  return {
    functions,
    handle,
    pidOf(name) {
      const isolate = isolates.get(name);
      return isolate && !isolate.dead ? isolate.child.pid : undefined;
    },
    async warm(names) {
      const wanted = names ?? functions.map((f) => f.name);
      await Promise.all(
        wanted.map((n) => {
          const config = byName.get(n);
          return config ? isolateFor(config).ready.catch(() => {}) : undefined;
        }),
      );
    },
    async drain() {
      stopping = true;
      await Promise.all([...isolates.values()].map((i) => i.stop()));
    },
  };
}
