/**
 * Starts the local platform in-process for end-to-end tests (in-memory database, random ports; a
 * native PostgreSQL with `TEST_DB=native`, see `startTestStack()`).
 */
import { createClient, type SupabaseClient } from "@supabase/supabase-js";
import { resolve } from "node:path";
import { type Stack, type StackOptions, startStack } from "../../local/stack.ts";
import {
  findPostgresWithPgvector,
  startTempPostgres,
  type TempPostgres,
} from "../../local/native_postgres.ts";
import { getDb } from "../../shared/db.ts";

export const ECHO_FUNCTION = {
  name: "echo",
  verifyJwt: true,
  entrypoint: resolve(new URL("../fixtures/echo/index.ts", import.meta.url).pathname),
};

/** Uses memory or CPU on request (verify_jwt = false): for the Edge limit tests. */
export const HOG_FUNCTION = {
  name: "hog",
  verifyJwt: false,
  entrypoint: resolve(new URL("../fixtures/hog/index.ts", import.meta.url).pathname),
};

/**
 * The database engine of the test stacks of this process: `TEST_DB=native` gives each stack a
 * throw-away native PostgreSQL with pgvector instead of PGlite (tests/platform/native_e2e_test.ts
 * runs the payments, chat and reports suites so); unset or `pglite`, PGlite. Read from the
 * environment the process was started with: set it on the command line, never from a test file.
 */
export function testDbEngine(): "pglite" | "native" {
  const raw = Deno.env.get("TEST_DB") ?? "";
  if (raw === "" || raw === "pglite") return "pglite";
  if (raw === "native") return "native";
  throw new Error(`TEST_DB must be "pglite" or "native", got "${raw}"`);
}

/**
 * A local platform for one suite (random ports, in-memory PGlite copied from the migrated
 * template). With `TEST_DB=native` (and no `dbUrl` given) the database is a throw-away native
 * cluster instead, which the stack migrates and `stop()` removes.
 */
export async function startTestStack(opts: StackOptions = {}): Promise<Stack> {
  // Keep test output readable: access logs only when asked for.
  if (!Deno.env.get("LOG_LEVEL")) Deno.env.set("LOG_LEVEL", "warn");
  let native: TempPostgres | undefined;
  if (!opts.dbUrl && testDbEngine() === "native") {
    const bin = findPostgresWithPgvector();
    if (!bin) {
      throw new Error("TEST_DB=native needs native PostgreSQL with pgvector: see task db:native");
    }
    native = await startTempPostgres(bin);
  }
  try {
    const stack = await startStack({
      apiPort: 0,
      dbPort: 0,
      workerIntervalMs: 50,
      extraFunctions: [ECHO_FUNCTION, HOG_FUNCTION],
      ...opts,
      ...(native ? { dbUrl: native.url } : {}),
    });
    if (!native) return stack;
    const [{ version }] = await getDb()<{ version: string }[]>`
      select current_setting('server_version') as version`.catch(async (err) => {
      await stack.stop();
      throw err;
    });
    // The native pass (tests/platform/native_e2e_test.ts) counts these lines.
    console.log(`TEST_DB=native: this suite's stack runs on native PostgreSQL ${version}`);
    const cluster = native;
    return {
      ...stack,
      async stop() {
        try {
          await stack.stop();
        } finally {
          await cluster.stop();
        }
      },
    };
  } catch (err) {
    await native?.stop();
    throw err;
  }
}

const clientOptions = {
  auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false },
};

/** A supabase-js client as the frontend has it (anon key). */
export function anonClient(stack: Stack): SupabaseClient {
  return createClient(stack.apiUrl, stack.anonKey, clientOptions);
}

export function serviceClient(stack: Stack): SupabaseClient {
  return createClient(stack.apiUrl, stack.serviceRoleKey, clientOptions);
}

export interface TestUser {
  id: string;
  email: string;
  token: string;
  client: SupabaseClient;
}

let counter = 0;

/** Signs a new user up through the Auth API and returns a client that sends their token. */
export async function signUpUser(stack: Stack, name = "user"): Promise<TestUser> {
  const email = `${name}-${Date.now()}-${++counter}@example.com`;
  const client = anonClient(stack);
  const { data, error } = await client.auth.signUp({ email, password: "correct-horse-battery" });
  if (error || !data.session || !data.user) throw new Error(`signUp failed: ${error?.message}`);
  return { id: data.user.id, email, token: data.session.access_token, client };
}

/** Reads the JSON body of a supabase-js FunctionsHttpError (or of a plain Response). */
export async function errorBody(
  error: unknown,
  // deno-lint-ignore no-explicit-any
): Promise<{ status: number; body: any; headers: Headers }> {
  const res = ((error as { context?: Response })?.context ?? error) as Response;
  return { status: res.status, body: await res.json(), headers: res.headers };
}

/** What an API call answered: the status, the parsed body (data or error envelope), headers. */
export interface ApiAnswer {
  status: number;
  // deno-lint-ignore no-explicit-any
  body: any;
  headers: Headers;
}

/**
 * Calls a function as the frontend does (supabase-js `functions.invoke`) and returns the answer
 * whatever its status: GET without a body, POST with one, unless `method` says otherwise.
 */
export async function call(
  client: SupabaseClient,
  path: string,
  init: {
    method?: "GET" | "POST" | "PATCH" | "DELETE";
    body?: unknown;
    headers?: Record<string, string>;
  } = {},
): Promise<ApiAnswer> {
  const { data, error, response } = await client.functions.invoke(path, {
    method: init.method ?? (init.body === undefined ? "GET" : "POST"),
    body: init.body as Record<string, unknown> | FormData | undefined,
    headers: init.headers,
  });
  if (error) {
    return await errorBody(error).catch(() => ({
      status: 0,
      body: String(error),
      headers: new Headers(),
    }));
  }
  return {
    status: response?.status ?? 200,
    body: data,
    headers: response?.headers ?? new Headers(),
  };
}

/** Polls until `probe` returns a value other than undefined, or fails after `timeoutMs`. */
export async function eventually<T>(
  probe: () => Promise<T | undefined>,
  what: string,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/**
 * Runs the queues' redispatch cron jobs (`*-redispatch`, scheduled every 10 or 30 seconds) now, as
 * their schedule would: each kicks its worker when its queue holds a visible message, so a message
 * put back by a retry or a delete waits for its visibility timeout, not for the next cron tick.
 */
export async function runRedispatchJobs(): Promise<void> {
  const sql = getDb();
  const jobs = await sql<{ command: string }[]>`select command from cron.job
    where jobname like '%-redispatch' and active order by jobname`;
  for (const job of jobs) await sql.unsafe(job.command);
}

/**
 * `eventually()` for work that goes through the queues: runs the redispatch jobs (at most every
 * 250 ms) between probes.
 */
export function eventuallyDispatched<T>(
  probe: () => Promise<T | undefined>,
  what: string,
  timeoutMs = 10_000,
): Promise<T> {
  let last = 0;
  return eventually(
    async () => {
      const value = await probe();
      if (value === undefined && Date.now() - last >= 250) {
        last = Date.now();
        await runRedispatchJobs();
      }
      return value;
    },
    what,
    timeoutMs,
  );
}

/** An invitation link as mailed: the link, and the invitation id and token in its fragment. */
export interface MailedInvitation {
  link: string;
  invitation: string;
  token: string;
}

/**
 * The newest invitation link the mail catcher holds for `email` (read through its `GET /mail`, as
 * the invitee's mailbox), optionally for one invitation; undefined when there is none.
 */
export async function mailedInvitation(
  stack: Stack,
  email: string,
  invitationId?: string,
): Promise<MailedInvitation | undefined> {
  const res = await fetch(`${stack.mail.url}/mail?to=${encodeURIComponent(email)}`);
  const { messages } = await res.json() as { messages: { text: string | null }[] };
  for (const message of messages) {
    const link = /https?:\/\/\S+#invitation=\S+/.exec(message.text ?? "")?.[0];
    if (!link) continue;
    const fragment = new URLSearchParams(new URL(link).hash.slice(1));
    const invitation = fragment.get("invitation") ?? "";
    if (invitationId && invitation !== invitationId) continue;
    return { link, invitation, token: fragment.get("token") ?? "" };
  }
  return undefined;
}

/** The token of the invitation mailed to `email` (fails when no such mail arrived). */
export async function invitationToken(
  stack: Stack,
  email: string,
  invitationId?: string,
): Promise<string> {
  const mailed = await mailedInvitation(stack, email, invitationId);
  if (!mailed) throw new Error(`no invitation mail for ${email}`);
  return mailed.token;
}
