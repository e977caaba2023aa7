/**
 * The one PGlite session, lent to one client at a time. A client holds it from its first message
 * until PGlite reports the session idle ('I') at the end of a unit (Sync or simple Query); others
 * wait in arrival order. When the session passes to a different client than the one that last
 * used it, its state is reset first (what DISCARD ALL does, except dropping cached plans), and that
 * client's startup settings (application_name…) are applied again.
 */
import type { PGlite } from "@electric-sql/pglite";
import { type Answer, buildBatch, type ClientStatements, readAnswer } from "./batch.ts";
import { buildStartup, concat, executeMissingPortal, type Message, query, sync } from "./wire.ts";

/** What the session needs to know about a client. */
export interface SessionClient {
  readonly id: number;
  /** Settings from its startup packet, applied whenever the session comes back to it. */
  readonly settings: ReadonlyArray<readonly [string, string]>;
  /** The named statements it prepared. */
  readonly statements: ClientStatements;
}

/**
 * DISCARD ALL without DISCARD PLANS (cached plans hold no session state, and keeping them spares
 * every PL/pgSQL function a re-plan after each switch). DISCARD ALL itself cannot share a query
 * string with other statements.
 */
export const RESET_SQL = "CLOSE ALL; SET SESSION AUTHORIZATION DEFAULT; RESET ALL; " +
  "DEALLOCATE ALL; UNLISTEN *; SELECT pg_catalog.pg_advisory_unlock_all(); " +
  "DISCARD TEMP; DISCARD SEQUENCES";

export function literal(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

export function applySettingsSql(settings: ReadonlyArray<readonly [string, string]>): string {
  return "SELECT " +
    settings.map(([k, v]) => `pg_catalog.set_config(${literal(k)}, ${literal(v)}, false)`)
      .join(", ");
}

/** The session cannot serve any more: `code` is the SQLSTATE to tell clients. */
export class SessionClosedError extends Error {
  constructor(message: string, readonly code: string) {
    super(message);
  }
}

interface Waiter {
  client: SessionClient;
  resolve: () => void;
  reject: (err: Error) => void;
}

export class PgliteSession {
  readonly #db: PGlite;
  #owner: SessionClient | null = null;
  #waiters: Waiter[] = [];
  /** The client whose session state PGlite holds (null: just reset). */
  #lastUser: SessionClient | null = null;
  /** Set when PGlite failed or the pooler stops: nothing runs any more. */
  #closed: SessionClosedError | null = null;
  /** Set when the pooler stops: nobody new gets the session (running clients still roll back). */
  #refusing: SessionClosedError | null = null;
  /** ParameterStatus values as PGlite last reported them. */
  readonly params = new Map<string, string>();
  /** Named statements PGlite holds for the last user. */
  readonly #prepared = new Set<string>();
  /** Transaction status of the last ReadyForQuery. */
  status = "I";
  /** The owner sent part of an extended-protocol unit (no Sync yet). */
  midUnit = false;
  /** An error came after the last ReadyForQuery: PGlite skips messages until a Sync. */
  #failedUnit = false;

  private constructor(db: PGlite) {
    this.#db = db;
  }

  /** Starts the session (PGlite's own startup answer gives the server's parameters). */
  static async open(db: PGlite): Promise<PgliteSession> {
    const s = new PgliteSession(db);
    await s.#run(buildStartup({ user: "postgres", database: "postgres" }));
    if (!s.params.get("session_authorization")) {
      // PGlite reports it empty; clients (psql's prompt, pgx) expect the user name.
      const user = await s.#run(query("select current_user"));
      s.params.set("session_authorization", user.firstValue ?? "postgres");
    }
    return s;
  }

  get owner(): SessionClient | null {
    return this.#owner;
  }

  /** Waits for the session (first come, first served). */
  acquire(client: SessionClient): Promise<void> {
    const refused = this.#closed ?? this.#refusing;
    if (refused) return Promise.reject(refused);
    if (!this.#owner) {
      this.#owner = client;
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => this.#waiters.push({ client, resolve, reject }));
  }

  /** Hands the session to the next waiting client. */
  release(client: SessionClient): void {
    if (this.#owner !== client) return;
    const next = this.#waiters.shift();
    this.#owner = next?.client ?? null;
    next?.resolve();
  }

  /** Whether the owner may hand the session on now. */
  get releasable(): boolean {
    return !this.midUnit && this.status === "I";
  }

  /**
   * Makes the session the owner's: when it last served another client, resets it and applies
   * the owner's settings. Returns the error of applying them, if any.
   */
  async prepareFor(client: SessionClient): Promise<Record<string, string> | undefined> {
    if (this.#lastUser === client) return undefined;
    const parts = [query(RESET_SQL)];
    if (client.settings.length) parts.push(query(applySettingsSql(client.settings)));
    this.#prepared.clear();
    const answer = await this.#run(concat(parts));
    this.#lastUser = answer.error ? null : client;
    return answer.error;
  }

  /** Runs what the owner sent; returns the answer for it. */
  async forward(client: SessionClient, messages: Message[]): Promise<Uint8Array> {
    if (this.#failedUnit) {
      // PGlite ignores everything up to the next Sync: run that part as it is, so statements
      // are re-prepared only where PGlite listens again.
      const syncAt = messages.findIndex((m) => m.type === "S");
      if (syncAt < 0 || syncAt === messages.length - 1) {
        return await this.#forwardBatch(client, messages, false);
      }
      const first = await this.#forwardBatch(client, messages.slice(0, syncAt + 1), false);
      const rest = await this.#forwardBatch(client, messages.slice(syncAt + 1), true);
      return concat([first, rest]);
    }
    return await this.#forwardBatch(client, messages, true);
  }

  async #forwardBatch(
    client: SessionClient,
    messages: Message[],
    listening: boolean,
  ): Promise<Uint8Array> {
    const batch = buildBatch(messages, client.statements, listening ? this.#prepared : null);
    const out = await this.#runRaw(batch.bytes);
    const answer = readAnswer(out, listening ? batch.injected : 0);
    this.#note(answer);
    for (const name of batch.closed) this.#prepared.delete(name);
    if (answer.deallocated) this.#prepared.clear();
    for (const name of batch.parsed) {
      // After an error, a Parse may have failed or been skipped: re-send it when next needed.
      if (listening && !answer.failed) this.#prepared.add(name);
      else this.#prepared.delete(name);
    }
    if (batch.endsUnit !== undefined) this.midUnit = !batch.endsUnit;
    return answer.bytes;
  }

  /**
   * Rolls back whatever the owner left open (a disconnect or a timeout mid-transaction), so the
   * session can go to the next client.
   */
  async abort(): Promise<void> {
    if (this.#closed) return;
    if (this.midUnit) {
      // An Execute of a missing portal fails whatever the unit did; the Sync then ends it.
      await this.#run(concat([executeMissingPortal(), sync()]));
      this.midUnit = false;
    }
    if (this.status !== "I") await this.#run(query("ROLLBACK"));
  }

  /** Refuses the waiting clients and any later one; the owner may still finish or roll back. */
  refuse(reason: SessionClosedError): void {
    this.#refusing ??= reason;
    for (const w of this.#waiters.splice(0)) w.reject(reason);
  }

  /** Refuses everything from now on. */
  close(reason: SessionClosedError): void {
    this.refuse(reason);
    this.#closed ??= reason;
  }

  async #run(bytes: Uint8Array): Promise<Answer> {
    const answer = readAnswer(await this.#runRaw(bytes));
    this.#note(answer);
    return answer;
  }

  #note(answer: Answer): void {
    for (const [k, v] of answer.params) {
      // PGlite reports session_authorization empty after a reset; keep the user's name.
      if (k !== "session_authorization" || v) this.params.set(k, v);
    }
    if (answer.status) this.status = answer.status;
    if (answer.status || answer.failedAfterLastReady) {
      this.#failedUnit = answer.failedAfterLastReady;
    }
  }

  async #runRaw(bytes: Uint8Array): Promise<Uint8Array> {
    if (this.#closed) throw this.#closed;
    try {
      return await this.#db.runExclusive(() => this.#db.execProtocolRaw(bytes));
    } catch (err) {
      // PGlite itself failed (the WASM instance exited): nothing can run on it any more.
      const reason = new SessionClosedError(
        `the local database stopped: ${(err as Error)?.message ?? String(err)}`,
        "57P02", // crash_shutdown
      );
      this.close(reason);
      throw reason;
    }
  }
}
