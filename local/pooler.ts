/**
 * A transaction-pooling front for PGlite, as Supabase's pooler (Supavisor, pgbouncer) in
 * transaction mode: many clients connect over the Postgres wire protocol; the one PGlite session is
 * lent to one client transaction at a time (others wait, first come first served). Session state
 * never leaks: the session is reset whenever it passes to another client. Named prepared
 * statements work (each client's are prepared again when needed, see pooler/batch.ts). A client
 * that stays idle in a transaction longer than `idleTransactionTimeoutMs` is disconnected and its
 * transaction rolled back; a client that disconnects mid-transaction is rolled back too.
 * Clients log in as `postgres` with the pooler's password, checked by SCRAM-SHA-256 as Postgres
 * and Supavisor check it (pooler/scram.ts); any other role is refused at startup, as a pg_hba
 * `reject` line would (28000), and a wrong or missing password fails with 28P01.
 * Not supported: COPY FROM STDIN (refused with an error), LISTEN/NOTIFY and session-level
 * advisory locks across transactions (as with any transaction pooler).
 */
import type { PGlite } from "@electric-sql/pglite";
import { log } from "../shared/log.ts";
import { type ClientStatements } from "./pooler/batch.ts";
import { PgliteSession, type SessionClient, SessionClosedError } from "./pooler/session.ts";
import {
  SCRAM_MECHANISM,
  ScramError,
  ScramServer,
  type ScramVerifier,
  scramVerifier,
} from "./pooler/scram.ts";
import { readStartupRequest, SESSION_USER } from "./pooler/startup.ts";
import {
  authenticationOk,
  authenticationSasl,
  authenticationSaslContinue,
  authenticationSaslFinal,
  backendKeyData,
  backendMessages,
  CANCEL_REQUEST,
  concat,
  type ErrorFields,
  errorResponse,
  GSSENC_REQUEST,
  int32,
  type Message,
  MessageReader,
  negotiateProtocolVersion,
  parameterStatus,
  PROTOCOL_3_0,
  readParameterStatus,
  readSaslInitialResponse,
  readSaslResponse,
  readyForQuery,
  SSL_REQUEST,
  startupParams,
} from "./pooler/wire.ts";

export interface PoolerOptions {
  db: PGlite;
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  /** Connections accepted at once (default 100); more are refused like Postgres does. */
  maxClients?: number;
  /** A client idle inside a transaction this long is disconnected and rolled back (default 60 s). */
  idleTransactionTimeoutMs?: number;
  /** The password of `postgres`, checked by SCRAM-SHA-256 (default "postgres", as Supabase's). */
  password?: string;
  /** A client that has not finished logging in this long is disconnected (default 60 s). */
  authenticationTimeoutMs?: number;
}

export interface Pooler {
  host: string;
  port: number;
  /** Connected clients. */
  readonly clients: number;
  stop(): Promise<void>;
}

/** Frontend messages forwarded to PGlite. */
const FORWARDED = new Set(["P", "B", "D", "E", "C", "S", "H", "Q", "F"]);
/** COPY data from a client that is not copying: Postgres ignores it, and so does the pooler. */
const IGNORED = new Set(["d", "c", "f"]);

export async function startPooler(opts: PoolerOptions): Promise<Pooler> {
  const session = await PgliteSession.open(opts.db);
  const host = opts.host ?? "127.0.0.1";
  const listener = Deno.listen({ hostname: host, port: opts.port ?? 0, transport: "tcp" });
  const clients = new Map<number, ClientConnection>();
  const tasks = new Set<Promise<void>>();
  const settings = {
    session,
    maxClients: opts.maxClients ?? 100,
    idleTransactionTimeoutMs: opts.idleTransactionTimeoutMs ?? 60_000,
    authenticationTimeoutMs: opts.authenticationTimeoutMs ?? 60_000,
    verifier: scramVerifier(opts.password ?? "postgres"),
    clients,
  };
  let nextId = 1;
  let stopping = false;

  const accepting = (async () => {
    for await (const conn of listener) {
      if (stopping) {
        conn.close();
        continue;
      }
      const client = new ClientConnection(nextId++, conn, settings);
      const task = client.serve().finally(() => tasks.delete(task));
      tasks.add(task);
    }
  })().catch((err) => {
    if (!stopping) log.error("pooler stopped accepting connections", { error: String(err) });
  });

  return {
    host,
    port: (listener.addr as Deno.NetAddr).port,
    get clients() {
      return clients.size;
    },
    async stop() {
      if (stopping) return;
      stopping = true;
      listener.close();
      await accepting;
      const shutdown = new SessionClosedError("the local database is shutting down", "57P01");
      session.refuse(shutdown);
      for (const c of clients.values()) c.disconnect();
      await Promise.allSettled([...tasks]);
      session.close(shutdown);
    },
  };
}

interface Shared {
  session: PgliteSession;
  maxClients: number;
  idleTransactionTimeoutMs: number;
  authenticationTimeoutMs: number;
  verifier: ScramVerifier;
  clients: Map<number, ClientConnection>;
}

class ClientConnection implements SessionClient {
  readonly id: number;
  settings: [string, string][] = [];
  readonly statements: ClientStatements = new Map();
  /** The ParameterStatus values this client was told. */
  readonly #reported = new Map<string, string>();
  readonly #conn: Deno.TcpConn;
  readonly #shared: Shared;
  readonly #reader = new MessageReader();
  readonly #buf = new Uint8Array(64 * 1024);
  #owning = false;
  #closed = false;

  constructor(id: number, conn: Deno.TcpConn, shared: Shared) {
    this.id = id;
    this.#conn = conn;
    this.#shared = shared;
  }

  /** Closes the socket; `serve()` then cleans up (rollback, hand the session on). */
  disconnect(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#conn.close();
    } catch {
      // already closed
    }
  }

  async serve(): Promise<void> {
    const { session, clients } = this.#shared;
    clients.set(this.id, this);
    try {
      this.#conn.setNoDelay(true);
      if (await this.#startup()) await this.#run();
    } catch (err) {
      if (!this.#closed && !isDisconnect(err)) {
        const code = err instanceof SessionClosedError ? err.code : "XX000";
        await this.#fatal({ severity: "FATAL", code, message: describe(err) });
      }
    } finally {
      clients.delete(this.id);
      if (this.#owning) {
        try {
          await session.abort();
        } catch (err) {
          log.warn("pooler could not roll back a client's transaction", { error: describe(err) });
        }
        this.#owning = false;
        session.release(this);
      }
      this.disconnect();
    }
  }

  /** SSL/GSS negotiation, CancelRequest, StartupMessage. False when the connection is done. */
  async #startup(): Promise<boolean> {
    for (;;) {
      const packet = await this.#readUntyped();
      if (!packet) return false;
      const code = int32(packet, 4);
      if (code === SSL_REQUEST || code === GSSENC_REQUEST) {
        await this.#write(new TextEncoder().encode("N"));
        continue;
      }
      if (code === CANCEL_REQUEST) return false; // nothing can be interrupted in PGlite
      if (code >> 16 !== 3) {
        await this.#fatal({
          severity: "FATAL",
          code: "0A000",
          message: `unsupported frontend protocol ${code >> 16}.${code & 0xffff}: ` +
            "server supports 3.0",
        });
        return false;
      }
      const request = readStartupRequest(startupParams(packet));
      if ("error" in request) {
        await this.#fatal(request.error);
        return false;
      }
      if (!await this.#authenticate()) return false;
      const { session, clients, maxClients } = this.#shared;
      if (clients.size > maxClients) {
        await this.#fatal({
          severity: "FATAL",
          code: "53300",
          message: "sorry, too many clients already",
        });
        return false;
      }
      this.settings = request.ok.settings;
      const out: Uint8Array[] = [];
      if (code !== PROTOCOL_3_0 || request.ok.unknownOptions.length) {
        out.push(negotiateProtocolVersion(0, request.ok.unknownOptions));
      }
      // Apply the client's settings once now, so a bad one fails the connection as in Postgres.
      await session.acquire(this);
      this.#owning = true;
      const error = await session.prepareFor(this);
      this.#owning = false;
      session.release(this);
      if (error) {
        await this.#fatal({
          severity: "FATAL",
          code: error.C ?? "XX000",
          message: error.M ?? "invalid startup parameter",
        });
        return false;
      }
      out.push(authenticationOk());
      for (const [k, v] of session.params) {
        const value = k === "client_encoding" ? "UTF8" : v;
        this.#reported.set(k, value);
        out.push(parameterStatus(k, value));
      }
      out.push(backendKeyData(this.id, crypto.getRandomValues(new Int32Array(1))[0]));
      out.push(readyForQuery("I"));
      await this.#write(concat(out));
      return true;
    }
  }

  /**
   * The SCRAM-SHA-256 exchange (AuthenticationSASL, SASLContinue, SASLFinal), bounded by
   * authenticationTimeoutMs as Postgres' `authentication_timeout`. False when refused.
   */
  async #authenticate(): Promise<boolean> {
    const timer = setTimeout(() => this.disconnect(), this.#shared.authenticationTimeoutMs);
    const failed: ErrorFields = {
      severity: "FATAL",
      code: "28P01",
      message: `password authentication failed for user "${SESSION_USER}"`,
    };
    try {
      await this.#write(authenticationSasl([SCRAM_MECHANISM]));
      const initial = await this.#readTyped();
      if (!initial) return false; // e.g. psql with no password: it asks, then reconnects
      if (initial.type !== "p") {
        await this.#fatal({
          severity: "FATAL",
          code: "08P01",
          message: `expected SASL response, got message type ${initial.type.charCodeAt(0)}`,
        });
        return false;
      }
      const { mechanism, data } = readSaslInitialResponse(initial.bytes);
      if (mechanism !== SCRAM_MECHANISM) {
        await this.#fatal({
          severity: "FATAL",
          code: "08P01",
          message: "client selected an invalid SASL authentication mechanism",
        });
        return false;
      }
      const scram = new ScramServer(this.#shared.verifier);
      await this.#write(authenticationSaslContinue(scram.first(data)));
      const response = await this.#readTyped();
      if (!response) return false;
      if (response.type !== "p") {
        await this.#fatal({ ...failed, code: "08P01", message: "expected SASL response" });
        return false;
      }
      await this.#write(authenticationSaslFinal(scram.final(readSaslResponse(response.bytes))));
      return true;
    } catch (err) {
      if (!(err instanceof ScramError)) throw err;
      await this.#fatal(
        err.kind === "password" ? failed : { ...failed, code: "08P01", message: err.message },
      );
      return false;
    } finally {
      clearTimeout(timer);
    }
  }

  async #readTyped(): Promise<Message | null> {
    for (;;) {
      const m = this.#reader.next();
      if (m) return m;
      if (!await this.#readMore()) return null;
    }
  }

  async #run(): Promise<void> {
    const { session } = this.#shared;
    for (;;) {
      const { messages, terminate, invalid } = this.#takeMessages();
      if (messages.length) {
        if (!this.#owning) {
          await session.acquire(this);
          this.#owning = true;
          await session.prepareFor(this);
        }
        const before = this.#parameterChanges();
        const out = await session.forward(this, messages);
        this.#noteReported(out);
        if (session.releasable) {
          this.#owning = false;
          session.release(this);
        }
        await this.#write(before.length ? concat([...before, out]) : out);
      }
      if (invalid) {
        await this.#fatal({
          severity: "FATAL",
          code: "08P01",
          message: `invalid frontend message type ${invalid.charCodeAt(0)}`,
        });
        return;
      }
      if (terminate) return;
      if (messages.length) continue;
      if (!await this.#readMore()) return;
    }
  }

  /** The complete messages buffered, up to a Terminate or a message the pooler refuses. */
  #takeMessages(): { messages: Message[]; terminate: boolean; invalid?: string } {
    const messages: Message[] = [];
    for (let m = this.#reader.next(); m; m = this.#reader.next()) {
      if (m.type === "X") return { messages, terminate: true };
      if (IGNORED.has(m.type)) continue;
      if (!FORWARDED.has(m.type)) return { messages, terminate: false, invalid: m.type };
      messages.push(m);
    }
    return { messages, terminate: false };
  }

  /** ParameterStatus messages for values that changed since this client was last told. */
  #parameterChanges(): Uint8Array[] {
    const out: Uint8Array[] = [];
    for (const [k, v] of this.#shared.session.params) {
      if (k === "client_encoding" || k === "session_authorization" && !v) continue;
      if (this.#reported.get(k) === v) continue;
      this.#reported.set(k, v);
      out.push(parameterStatus(k, v));
    }
    return out;
  }

  #noteReported(out: Uint8Array): void {
    for (const m of backendMessages(out)) {
      if (m.type === "S") {
        const [k, v] = readParameterStatus(m.bytes);
        this.#reported.set(k, v);
      }
    }
  }

  async #readUntyped(): Promise<Uint8Array | null> {
    for (;;) {
      const packet = this.#reader.nextUntyped();
      if (packet) return packet;
      if (!await this.#readMore()) return null;
    }
  }

  /** Reads from the socket; false at its end. Idle while holding the session: timed out. */
  async #readMore(): Promise<boolean> {
    const n = await this.#whileOwning(() => this.#conn.read(this.#buf), true);
    if (n === null) return false;
    this.#reader.push(this.#buf.subarray(0, n));
    return true;
  }

  async #write(bytes: Uint8Array): Promise<void> {
    await this.#whileOwning(async () => {
      for (let at = 0; at < bytes.length;) at += await this.#conn.write(bytes.subarray(at));
    });
  }

  /**
   * Runs a socket operation; while this client holds the session (inside a transaction) it may
   * wait at most idleTransactionTimeoutMs, after which the client is disconnected.
   */
  async #whileOwning<T>(op: () => Promise<T>, reading = false): Promise<T | null> {
    if (!this.#owning) return await op().catch(disconnected);
    const timer = setTimeout(() => {
      if (!reading) return this.disconnect(); // stuck writing: no room for a last message
      const fatal = errorResponse({
        severity: "FATAL",
        code: "25P03",
        message: "terminating connection due to idle-in-transaction timeout",
      });
      this.#conn.write(fatal).catch(() => {}).finally(() => this.disconnect());
    }, this.#shared.idleTransactionTimeoutMs);
    try {
      return await op().catch(disconnected);
    } finally {
      clearTimeout(timer);
    }
  }

  async #fatal(f: ErrorFields): Promise<void> {
    try {
      await this.#write(errorResponse(f));
    } catch {
      // the client is gone
    }
  }
}

function disconnected(err: unknown): null {
  if (isDisconnect(err)) return null;
  throw err;
}

function isDisconnect(err: unknown): boolean {
  return err instanceof Deno.errors.BadResource || err instanceof Deno.errors.ConnectionReset ||
    err instanceof Deno.errors.BrokenPipe || err instanceof Deno.errors.Interrupted ||
    err instanceof Deno.errors.NotConnected || err instanceof Deno.errors.ConnectionAborted;
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
