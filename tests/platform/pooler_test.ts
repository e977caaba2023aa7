/**
 * The transaction-pooling front of the local database (local/pooler.ts): many clients on the one
 * PGlite session, one transaction at a time, with no session state leaking between clients.
 * postgres.js clients are configured as shared/db.ts configures them (`prepare: false`), plus
 * hand-written wire-protocol clients where a test needs exact control (dying mid-transaction,
 * named statements, startup packets).
 */
import assert from "node:assert/strict";
import postgres from "postgres";
import { type LocalDatabase, startPglite } from "../../local/database.ts";
import { buildBatch, readAnswer } from "../../local/pooler/batch.ts";
import { copiesFromStdin } from "../../local/pooler/sql_guard.ts";
import { parseOptions } from "../../local/pooler/startup.ts";
import { scramClient } from "../../local/pooler/scram.ts";
import {
  buildSaslInitialResponse,
  buildSaslResponse,
  buildStartup,
  close,
  concat,
  type Message,
  message,
  MessageReader,
  query,
  readErrorFields,
  SSL_REQUEST,
  sync,
} from "../../local/pooler/wire.ts";
import { findPostgresBin } from "../helpers/postgres.ts";
import { requireTool } from "../helpers/requirements.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const cstr = (s: string) => encoder.encode(s + "\0");

/** A client that speaks the wire protocol by hand. */
class RawClient {
  #conn: Deno.TcpConn;
  #buf: Uint8Array = new Uint8Array(0);
  eof = false;

  private constructor(conn: Deno.TcpConn) {
    this.#conn = conn;
  }

  static async open(port: number): Promise<RawClient> {
    return new RawClient(await Deno.connect({ hostname: "127.0.0.1", port }));
  }

  /** Connects and completes the startup; returns the startup answer too. */
  static async connect(
    port: number,
    params: Record<string, string> = {},
    password = "postgres",
  ): Promise<{ client: RawClient; startup: Message[] }> {
    const client = await RawClient.open(port);
    const startup = await client.login(params, password);
    return { client, startup };
  }

  /** Sends the StartupMessage and answers a SCRAM-SHA-256 request with `password`. */
  async login(params: Record<string, string> = {}, password = "postgres"): Promise<Message[]> {
    await this.send(buildStartup({ user: "postgres", database: "postgres", ...params }));
    const out: Message[] = [];
    const scram = scramClient(password);
    for (;;) {
      const m = await this.#next();
      if (!m) return out;
      out.push(m);
      if (m.type === "Z" || m.type === "E") return out;
      if (m.type !== "R") continue;
      const code = new DataView(m.bytes.buffer, m.bytes.byteOffset).getInt32(5);
      const data = decoder.decode(m.bytes.subarray(9));
      if (code === 10) await this.send(buildSaslInitialResponse("SCRAM-SHA-256", scram.first));
      if (code === 11) await this.send(buildSaslResponse(scram.final(data)));
      if (code === 12) assert.ok(scram.verify(data), "the server proved it knows the password");
    }
  }

  /** The next message, or null at end of stream. */
  next(): Promise<Message | null> {
    return this.#next();
  }

  async send(...parts: Uint8Array[]): Promise<void> {
    const bytes = concat(parts);
    for (let at = 0; at < bytes.length;) at += await this.#conn.write(bytes.subarray(at));
  }

  async readByte(): Promise<number | null> {
    while (this.#buf.length < 1) if (!await this.#fill()) return null;
    const b = this.#buf[0];
    this.#buf = this.#buf.subarray(1);
    return b;
  }

  /** Messages up to and including the first that matches (all that came, at end of stream). */
  async until(done: (m: Message) => boolean): Promise<Message[]> {
    const out: Message[] = [];
    for (;;) {
      const m = await this.#next();
      if (!m) return out;
      out.push(m);
      if (done(m)) return out;
    }
  }

  /** A simple query: rows as text, the error if any, the transaction status. */
  async query(sql: string): Promise<Result> {
    await this.send(query(sql));
    return toResult(await this.until((m) => m.type === "Z"));
  }

  async #next(): Promise<Message | null> {
    for (;;) {
      if (this.#buf.length >= 5) {
        const len = new DataView(this.#buf.buffer, this.#buf.byteOffset + 1, 4).getInt32(0);
        if (this.#buf.length >= 1 + len) {
          const bytes = this.#buf.slice(0, 1 + len);
          this.#buf = this.#buf.subarray(1 + len);
          return { type: String.fromCharCode(bytes[0]), bytes };
        }
      }
      if (!await this.#fill()) return null;
    }
  }

  async #fill(): Promise<boolean> {
    const chunk = new Uint8Array(16384);
    const n = await this.#conn.read(chunk).catch(() => null);
    if (n === null) {
      this.eof = true;
      return false;
    }
    this.#buf = concat([this.#buf, chunk.subarray(0, n)]);
    return true;
  }

  close(): void {
    try {
      this.#conn.close();
    } catch {
      // already closed
    }
  }
}

interface Result {
  rows: (string | null)[][];
  error?: Record<string, string>;
  status?: string;
  types: string;
}

function toResult(messages: Message[]): Result {
  const result: Result = { rows: [], types: messages.map((m) => m.type).join("") };
  for (const m of messages) {
    if (m.type === "D") result.rows.push(dataRow(m.bytes));
    if (m.type === "E") result.error ??= readErrorFields(m.bytes);
    if (m.type === "Z") result.status = String.fromCharCode(m.bytes[5]);
  }
  return result;
}

function dataRow(m: Uint8Array): (string | null)[] {
  const v = new DataView(m.buffer, m.byteOffset);
  const n = v.getInt16(5);
  const out: (string | null)[] = [];
  let at = 7;
  for (let i = 0; i < n; i++) {
    const len = v.getInt32(at);
    at += 4;
    out.push(len < 0 ? null : decoder.decode(m.subarray(at, at + len)));
    if (len > 0) at += len;
  }
  return out;
}

const parse = (name: string, sql: string) => message("P", cstr(name), cstr(sql), new Uint8Array(2));
const bind = (statement: string) =>
  message("B", cstr(""), cstr(statement), new Uint8Array([0, 0, 0, 0, 0, 0]));
const execute = () => message("E", cstr(""), new Uint8Array(4));

/** Runs `fn(i)` for i in [0, n) at once; fails with the first error. */
async function all<T>(n: number, fn: (i: number) => Promise<T>): Promise<T[]> {
  return await Promise.all(Array.from({ length: n }, (_, i) => fn(i)));
}

function client(db: LocalDatabase, opts: postgres.Options<Record<string, never>> = {}) {
  return postgres(db.url, {
    max: 1,
    prepare: false,
    idle_timeout: 0,
    onnotice: () => {},
    ...opts,
  });
}

Deno.test({
  name: "`startPglite()` serves many clients on one PGlite session, one transaction at a time",
  sanitizeOps: false,
  sanitizeResources: false,
}, async (t) => {
  const db = await startPglite({ port: 0, maxClients: 40 });
  const admin = client(db);
  try {
    await admin.unsafe(`
      create table items (client int not null, seq int not null, primary key (client, seq));
      create role tester_0 nologin; create role tester_1 nologin;
      create role tester_2 nologin; create role tester_3 nologin;
      grant select, insert on items to tester_0, tester_1, tester_2, tester_3;`);

    await t.step(
      "20 concurrent postgres.js clients each see only their own role, claims, settings and rows",
      async () => {
        const CLIENTS = 20, TRANSACTIONS = 15;
        const clients = Array.from({ length: CLIENTS }, () => client(db));
        try {
          const seen = await all(CLIENTS, async (c) => {
            const role = `tester_${c % 4}`;
            const claims = JSON.stringify({ sub: `user-${c}`, role: "authenticated" });
            const sql = clients[c];
            const observed: string[] = [];
            for (let seq = 0; seq < TRANSACTIONS; seq++) {
              await sql.begin(async (tx) => {
                // Whatever ran before on the session: another client's state never shows.
                const [before] = await tx`select current_user as role,
                    current_setting('request.jwt.claims', true) as claims,
                    current_setting('app.client', true) as client`;
                observed.push(`${before.role}|${before.claims ?? ""}|${before.client ?? ""}`);
                await tx.unsafe(`set local role ${role}`);
                await tx`select set_config('request.jwt.claims', ${claims}, true)`;
                await tx.unsafe(`set app.client = '${c}'`); // session-level, on purpose
                await tx`insert into items (client, seq) values (${c}, ${seq})`;
                const [mine] = await tx`select current_user as role,
                    current_setting('request.jwt.claims', true) as claims,
                    current_setting('app.client') as client,
                    (select count(*)::int from items where client = ${c}) as rows`;
                assert.deepEqual(
                  { ...mine },
                  { role, claims, client: String(c), rows: seq + 1 },
                );
              });
            }
            return observed;
          });
          for (const [c, observed] of seen.entries()) {
            for (const o of observed) {
              const [role, claims, clientSetting] = o.split("|");
              assert.equal(role, "postgres", `client ${c} started a transaction as ${role}`);
              assert.equal(claims, "", `client ${c} saw claims ${claims}`);
              assert.ok(
                clientSetting === "" || clientSetting === String(c),
                `client ${c} saw app.client = ${clientSetting}`,
              );
            }
          }
          const counts = await admin<{ client: number; n: number }[]>`
            select client, count(*)::int as n from items group by client order by client`;
          assert.deepEqual(
            counts.map((r) => [r.client, r.n]),
            Array.from({ length: CLIENTS }, (_, c) => [c, TRANSACTIONS]),
          );
        } finally {
          await Promise.all(clients.map((s) => s.end()));
        }
      },
    );

    await t.step(
      "a plain SET ROLE or SET search_path is never seen by another client",
      async () => {
        const a = await RawClient.connect(db.port);
        const b = await RawClient.connect(db.port);
        try {
          assert.equal((await a.client.query("set role tester_1")).error, undefined);
          assert.equal((await a.client.query("set search_path = pg_catalog")).error, undefined);
          assert.deepEqual((await a.client.query("select current_user")).rows, [["tester_1"]]);
          const seen = await b.client.query("select current_user, current_setting('search_path')");
          assert.deepEqual(seen.rows, [["postgres", "public"]]);
          // The session went to b in between: a's session state is gone too (transaction pooling).
          assert.deepEqual((await a.client.query("select current_user")).rows, [["postgres"]]);
        } finally {
          a.client.close();
          b.client.close();
        }
      },
    );

    await t.step(
      "a client's startup settings come back with the session to that client",
      async () => {
        const a = await RawClient.connect(db.port, {
          application_name: "client-a",
          options: "-c search_path=pg_catalog,public --statement-timeout=5s",
        });
        const b = await RawClient.connect(db.port, { application_name: "client-b" });
        try {
          const statuses = a.startup.filter((m) => m.type === "S").map((m) =>
            decoder.decode(m.bytes.subarray(5)).split("\0").slice(0, 2).join("=")
          );
          assert.ok(statuses.includes("application_name=client-a"), statuses.join(", "));
          assert.ok(statuses.includes("client_encoding=UTF8"));
          const read = "select current_setting('application_name'), " +
            "current_setting('search_path'), current_setting('statement_timeout')";
          assert.deepEqual((await b.client.query(read)).rows, [["client-b", "public", "0"]]);
          assert.deepEqual((await a.client.query(read)).rows, [[
            "client-a",
            "pg_catalog,public",
            "5s",
          ]]);
          assert.deepEqual((await b.client.query(read)).rows, [["client-b", "public", "0"]]);
        } finally {
          a.client.close();
          b.client.close();
        }
      },
    );

    await t.step("a client that disconnects mid-transaction is rolled back at once", async () => {
      const { client: dying } = await RawClient.connect(db.port);
      const r = await dying.query("begin; insert into items (client, seq) values (100, 0)");
      assert.equal(r.status, "T");
      // Half an extended-protocol unit too, never synced.
      await dying.send(parse("", "insert into items (client, seq) values (100, 1)"), bind(""));
      dying.close();
      const other = client(db);
      try {
        const [{ n }] = await other`select count(*)::int as n from items where client = 100`;
        assert.equal(n, 0);
      } finally {
        await other.end();
      }
    });

    await t.step(
      "an implicit transaction left unsynced by a dying client is not committed",
      async () => {
        const { client: dying } = await RawClient.connect(db.port);
        await dying.send(
          parse("", "insert into items (client, seq) values (101, 0)"),
          bind(""),
          execute(),
          message("H"),
        );
        const flushed = await dying.until((m) => m.type === "C");
        assert.equal(flushed.at(-1)?.type, "C");
        dying.close();
        const other = client(db);
        try {
          const [{ n }] = await other`select count(*)::int as n from items where client = 101`;
          assert.equal(n, 0);
        } finally {
          await other.end();
        }
      },
    );

    await t.step("an error in one client's transaction leaves the others unaffected", async () => {
      const clients = Array.from({ length: 6 }, () => client(db));
      try {
        const outcomes = await all(6, async (c) => {
          const sql = clients[c];
          const results: string[] = [];
          for (let i = 0; i < 10; i++) {
            try {
              await sql.begin(async (tx) => {
                await tx`insert into items (client, seq) values (${200 + c}, ${i})`;
                if (c % 2 === 0) await tx`select 1 / ${0}::int`;
                if (c % 2 === 0) await tx.unsafe(`selec broken syntax`);
              });
              results.push("ok");
            } catch (err) {
              results.push((err as { code?: string }).code ?? String(err));
            }
          }
          return results;
        });
        for (const [c, results] of outcomes.entries()) {
          assert.deepEqual(results, Array(10).fill(c % 2 === 0 ? "22012" : "ok"));
        }
        const counts = await admin<{ client: number; n: number }[]>`
          select client, count(*)::int as n from items where client >= 200 group by client
          order by client`;
        assert.deepEqual(counts.map((r) => [r.client, r.n]), [[201, 10], [203, 10], [205, 10]]);
      } finally {
        await Promise.all(clients.map((s) => s.end()));
      }
    });

    await t.step(
      "named prepared statements keep working while other clients use the session",
      async () => {
        const named = Array.from({ length: 3 }, () => client(db, { prepare: true }));
        const plain = Array.from({ length: 3 }, () => client(db));
        try {
          await all(6, async (c) => {
            const sql = c < 3 ? named[c] : plain[c - 3];
            for (let i = 0; i < 20; i++) {
              const [row] = await sql`select ${c}::int as c, ${i}::int as i,
              (select count(*)::int from items where client = ${c}) as n`;
              assert.deepEqual({ ...row }, { c, i, n: 15 });
              await sql.begin(async (tx) => {
                const [again] = await tx`select ${i}::int * 2 as twice`;
                assert.equal(again.twice, i * 2);
              });
            }
          });
        } finally {
          await Promise.all([...named, ...plain].map((s) => s.end()));
        }
      },
    );

    await t.step("a client cannot bind another client's named statement", async () => {
      const a = await RawClient.connect(db.port);
      const b = await RawClient.connect(db.port);
      try {
        await a.client.send(parse("mine", "select 'a'"), sync());
        assert.equal(toResult(await a.client.until((m) => m.type === "Z")).error, undefined);
        await b.client.send(bind("mine"), execute(), sync());
        const r = toResult(await b.client.until((m) => m.type === "Z"));
        assert.equal(r.error?.C, "26000", JSON.stringify(r.error));
        await a.client.send(bind("mine"), execute(), sync());
        assert.deepEqual(toResult(await a.client.until((m) => m.type === "Z")).rows, [["a"]]);
      } finally {
        a.client.close();
        b.client.close();
      }
    });

    await t.step("pipelined units of one client are answered in order", async () => {
      const { client: raw } = await RawClient.connect(db.port);
      try {
        await raw.send(
          parse("", "select 1"),
          bind(""),
          execute(),
          sync(),
          query("select 2; select 3"),
          parse("", "select 4"),
          bind(""),
          execute(),
          sync(),
        );
        const rows: (string | null)[][] = [];
        for (let i = 0; i < 3; i++) {
          rows.push(...toResult(await raw.until((m) => m.type === "Z")).rows);
        }
        assert.deepEqual(rows, [["1"], ["2"], ["3"], ["4"]]);
      } finally {
        raw.close();
      }
    });

    await t.step(
      "COPY FROM STDIN is refused with an error and the session keeps serving",
      async () => {
        const { client: raw } = await RawClient.connect(db.port);
        try {
          const r = await raw.query("copy items from stdin");
          assert.equal(r.error?.C, "0A000");
          assert.match(r.error?.M ?? "", /COPY FROM STDIN is not supported/);
          await raw.send(
            parse("", "COPY items (client, seq) FROM STDIN"),
            bind(""),
            execute(),
            sync(),
          );
          const e = toResult(await raw.until((m) => m.type === "Z"));
          assert.equal(e.error?.C, "0A000");
          assert.deepEqual((await raw.query("select 'still here'")).rows, [["still here"]]);
          const out = await raw.query("copy (select 1, 'x') to stdout");
          assert.equal(out.error, undefined);
          assert.ok(out.types.startsWith("Hd"), out.types);
        } finally {
          raw.close();
        }
      },
    );

    const bin = findPostgresBin();
    await t.step({
      name: "psql connects while another client is connected",
      ignore: requireTool("psql", bin !== undefined, "apt-get install postgresql; .ci/run does"),
      fn: async () => {
        const held = client(db);
        try {
          await held`select 1`;
          const out = await new Deno.Command(`${bin}/psql`, {
            args: [db.url, "-XAtc", "select count(*) from items where client < 20"],
            stdout: "piped",
            stderr: "piped",
            env: { PGCONNECT_TIMEOUT: "10" },
          }).output();
          assert.equal(decoder.decode(out.stderr), "");
          assert.equal(decoder.decode(out.stdout).trim(), "300");
          const [{ n }] = await held`select count(*)::int as n from items where client < 20`;
          assert.equal(n, 300);
        } finally {
          await held.end();
        }
      },
    });
  } finally {
    await admin.end();
    await db.stop();
  }
});

Deno.test({
  name: "`startPglite()` enforces its limits: startup checks, maxClients, idle transactions",
  sanitizeOps: false,
  sanitizeResources: false,
}, async (t) => {
  const db = await startPglite({ port: 0, maxClients: 2, idleTransactionTimeoutMs: 300 });
  try {
    await t.step("SSLRequest is answered 'N' and the startup goes on in clear text", async () => {
      const raw = await RawClient.open(db.port);
      try {
        const ssl = new Uint8Array(8);
        new DataView(ssl.buffer).setInt32(0, 8);
        new DataView(ssl.buffer).setInt32(4, SSL_REQUEST);
        await raw.send(ssl);
        assert.equal(await raw.readByte(), "N".charCodeAt(0));
        const startup = await raw.login();
        assert.deepEqual([...new Set(startup.map((m) => m.type))], ["R", "S", "K", "Z"]);
      } finally {
        raw.close();
      }
    });

    await t.step(
      "a wrong user, an unknown database or a bad setting fail the connection",
      async () => {
        for (
          const [params, code] of [
            [{ user: "anon" }, "28000"],
            [{ database: "other" }, "3D000"],
            [{ DateStyle: "nonsense" }, "22023"],
          ] as const
        ) {
          const { client: raw, startup } = await RawClient.connect(db.port, params);
          const err = startup.find((m) => m.type === "E");
          assert.equal(err && readErrorFields(err.bytes).C, code, JSON.stringify(params));
          assert.deepEqual(await raw.until(() => false), []);
          assert.ok(raw.eof);
          raw.close();
        }
      },
    );

    await t.step("clients past maxClients are refused", async () => {
      const a = await RawClient.connect(db.port);
      const b = await RawClient.connect(db.port);
      const { client: c, startup } = await RawClient.connect(db.port);
      try {
        const err = startup.find((m) => m.type === "E");
        assert.equal(err && readErrorFields(err.bytes).C, "53300");
      } finally {
        for (const raw of [a.client, b.client, c]) raw.close();
      }
    });

    await t.step("a client idle in a transaction is disconnected and rolled back", async () => {
      const { client: idle } = await RawClient.connect(db.port);
      const other = client(db);
      try {
        await idle.query("create table if not exists kept (n int)");
        assert.equal((await idle.query("begin; insert into kept values (1)")).status, "T");
        // This waits for the session until the idle client is timed out.
        const [{ n }] = await other`select count(*)::int as n from kept`;
        assert.equal(n, 0);
        const last = await idle.until(() => false);
        assert.deepEqual(last.map((m) => readErrorFields(m.bytes).C), ["25P03"]);
        assert.ok(idle.eof);
      } finally {
        idle.close();
        await other.end();
      }
    });
  } finally {
    await db.stop();
  }
});

/** The SQLSTATE and message postgres.js reports for a connection that fails. */
async function loginError(url: string, opts: postgres.Options<Record<string, never>> = {}) {
  const sql = postgres(url, { max: 1, prepare: false, connect_timeout: 10, ...opts });
  try {
    await sql`select 1`;
    return undefined;
  } catch (err) {
    const e = err as { code?: string; message?: string };
    return { code: e.code, message: e.message };
  } finally {
    await sql.end({ timeout: 1 });
  }
}

Deno.test({
  name: "`startPglite()` checks the password by SCRAM-SHA-256 and lets only `postgres` log in",
  sanitizeOps: false,
  sanitizeResources: false,
}, async (t) => {
  const db = await startPglite({ port: 0 });
  const at = `127.0.0.1:${db.port}/postgres`;
  try {
    await t.step("the URL carries Supabase's local password and postgres.js logs in", async () => {
      assert.equal(db.url, `postgresql://postgres:postgres@${at}`);
      const sql = client(db);
      try {
        const [{ user }] = await sql`select current_user as user`;
        assert.equal(user, "postgres");
      } finally {
        await sql.end();
      }
    });

    await t.step("a wrong password fails with 28P01 as in Postgres", async () => {
      assert.deepEqual(await loginError(`postgresql://postgres:anything@${at}`), {
        code: "28P01",
        message: 'password authentication failed for user "postgres"',
      });
    });

    await t.step("no password fails with 28P01", async () => {
      const err = await loginError(`postgresql://postgres@${at}`);
      assert.equal(err?.code, "28P01");
    });

    await t.step("a role other than postgres is refused even with the password", async () => {
      for (const user of ["supabase_admin", "anon", "authenticated", "service_role"]) {
        const err = await loginError(`postgresql://${user}:postgres@${at}`);
        assert.equal(err?.code, "28000", user);
      }
    });

    await t.step("the server answers AuthenticationOk only after a valid proof", async () => {
      const { client: wrong, startup } = await RawClient.connect(db.port, {}, "nope");
      try {
        const codes = startup.filter((m) => m.type === "R").map((m) => m.bytes[8]);
        assert.deepEqual(codes, [10, 11], "SASL, SASLContinue, and no SASLFinal nor Ok");
        const err = startup.at(-1);
        assert.equal(err?.type, "E");
        assert.equal(readErrorFields(err!.bytes).C, "28P01");
        assert.deepEqual(await wrong.until(() => false), []);
        assert.ok(wrong.eof);
      } finally {
        wrong.close();
      }
      const { client: right, startup: ok } = await RawClient.connect(db.port);
      try {
        const codes = ok.filter((m) => m.type === "R").map((m) => m.bytes[8]);
        assert.deepEqual(codes, [10, 11, 12, 0]);
        assert.deepEqual((await right.query("select 1")).rows, [["1"]]);
      } finally {
        right.close();
      }
    });

    await t.step("a query sent instead of the SASL answer is not run", async () => {
      const raw = await RawClient.open(db.port);
      try {
        await raw.send(buildStartup({ user: "postgres", database: "postgres" }));
        const sasl = await raw.next();
        assert.equal(sasl?.type, "R");
        await raw.send(query("create table sneaked (n int)"));
        const rest = await raw.until(() => false);
        assert.deepEqual(rest.map((m) => readErrorFields(m.bytes).C), ["08P01"]);
      } finally {
        raw.close();
      }
      const sql = client(db);
      try {
        const [{ t }] = await sql`select to_regclass('public.sneaked')::text as t`;
        assert.equal(t, null);
      } finally {
        await sql.end();
      }
    });
  } finally {
    await db.stop();
  }
});

Deno.test({
  name: "`startPglite()` takes its password from the `password` option and puts it in the URL",
  sanitizeOps: false,
  sanitizeResources: false,
}, async () => {
  const db = await startPglite({ port: 0, password: "s3cr:t/@pw" });
  try {
    assert.equal(
      db.url,
      `postgresql://postgres:${encodeURIComponent("s3cr:t/@pw")}@127.0.0.1:${db.port}/postgres`,
    );
    const sql = client(db);
    try {
      assert.deepEqual([...await sql`select 1 as one`], [{ one: 1 }]);
    } finally {
      await sql.end();
    }
    const err = await loginError(`postgresql://postgres:postgres@127.0.0.1:${db.port}/postgres`);
    assert.equal(err?.code, "28P01");
  } finally {
    await db.stop();
  }
});

const psqlBin = findPostgresBin();

Deno.test({
  name: "`startPglite()` refuses psql with a wrong or no password and admits the right one",
  ignore: requireTool("psql", psqlBin !== undefined, "Debian package `postgresql`"),
  sanitizeOps: false,
  sanitizeResources: false,
}, async () => {
  const db = await startPglite({ port: 0 });
  const psql = (password: string | undefined) =>
    new Deno.Command(`${psqlBin}/psql`, {
      args: [
        "-h",
        "127.0.0.1",
        "-p",
        String(db.port),
        "-U",
        "postgres",
        "-w",
        "-XAtc",
        "select 42",
      ],
      stdout: "piped",
      stderr: "piped",
      clearEnv: true,
      env: {
        PGCONNECT_TIMEOUT: "10",
        PATH: Deno.env.get("PATH") ?? "",
        ...password === undefined ? {} : { PGPASSWORD: password },
      },
    }).output();
  try {
    const wrong = await psql("anything");
    assert.notEqual(wrong.code, 0);
    assert.match(
      decoder.decode(wrong.stderr),
      /password authentication failed for user "postgres"/,
    );
    const none = await psql(undefined);
    assert.notEqual(none.code, 0);
    assert.match(
      decoder.decode(none.stderr),
      /no password supplied|password authentication failed/,
    );
    const right = await psql("postgres");
    assert.equal(decoder.decode(right.stderr), "");
    assert.equal(decoder.decode(right.stdout).trim(), "42");
  } finally {
    await db.stop();
  }
});

Deno.test("`copiesFromStdin()` finds COPY FROM STDIN outside comments and quoted text", () => {
  assert.equal(copiesFromStdin("copy t from stdin"), true);
  assert.equal(copiesFromStdin("select 1;\n  COPY t (a, b) FROM STDIN WITH (format csv)"), true);
  assert.equal(copiesFromStdin("/* note */ copy t from\n stdin;"), true);
  assert.equal(copiesFromStdin("copy t to stdout"), false);
  assert.equal(copiesFromStdin("copy (select * from stdin_rows) to stdout"), false);
  assert.equal(copiesFromStdin("select 'copy t from stdin'"), false);
  assert.equal(copiesFromStdin("-- copy t from stdin\nselect 1"), false);
  assert.equal(copiesFromStdin("select $x$; copy t from stdin $x$"), false);
  assert.equal(copiesFromStdin("insert into copy_log values ('from stdin')"), false);
});

Deno.test("`parseOptions()` reads -c and -- switches and refuses anything else", () => {
  assert.deepEqual(parseOptions("-c search_path=a,b --statement-timeout=5s -cwork_mem=64kB"), {
    ok: [["search_path", "a,b"], ["statement_timeout", "5s"], ["work_mem", "64kB"]],
  });
  assert.deepEqual(parseOptions("-c application_name=with\\ space"), {
    ok: [["application_name", "with space"]],
  });
  assert.ok("error" in parseOptions("-D /data"));
  assert.ok("error" in parseOptions("-c nameonly"));
});

Deno.test("`buildBatch()` sends a client's statement again only where the session lost it", () => {
  const statements = new Map<string, Uint8Array>();
  const msg = (bytes: Uint8Array): Message => ({ type: String.fromCharCode(bytes[0]), bytes });
  const first = buildBatch([msg(parse("s1", "select 1")), msg(sync())], statements, new Set());
  assert.equal(first.injected, 0);
  assert.deepEqual(first.parsed, ["s1"]);
  assert.equal(first.endsUnit, true);

  const use = [msg(bind("s1")), msg(execute()), msg(sync())];
  assert.equal(buildBatch(use, statements, new Set(["s1"])).injected, 0);
  const again = buildBatch(use, statements, new Set());
  assert.equal(again.injected, 1);
  const types = [...new MessageReaderOf(again.bytes)].join("");
  assert.equal(types, "CPBES");
  // While PGlite skips to the next Sync nothing is sent again.
  assert.equal(buildBatch(use, statements, null).injected, 0);
  // A statement the client closed is not brought back.
  const closed = buildBatch(
    [msg(close("S", "s1")), ...use],
    statements,
    new Set(),
  );
  assert.equal(closed.injected, 0);
  assert.deepEqual(closed.closed, ["s1"]);
  assert.equal(
    buildBatch([msg(parse("", "select 1")), msg(message("H"))], statements, new Set()).endsUnit,
    false,
  );
  assert.equal(buildBatch([msg(message("H"))], statements, new Set()).endsUnit, undefined);
});

Deno.test("`readAnswer()` strips the answers to re-sent statements and reads the status", () => {
  const closeComplete = message("3");
  const parseComplete = message("1");
  const bindComplete = message("2");
  const ready = message("Z", encoder.encode("T"));
  const ok = readAnswer(concat([closeComplete, parseComplete, bindComplete, ready]), 1);
  assert.deepEqual([...new MessageReaderOf(ok.bytes)], ["2", "Z"]);
  assert.equal(ok.status, "T");
  assert.equal(ok.failed, false);

  const error = message("E", encoder.encode("C"), cstr("42P01"), new Uint8Array([0]));
  const failed = readAnswer(concat([closeComplete, error, message("Z", encoder.encode("I"))]), 1);
  assert.deepEqual([...new MessageReaderOf(failed.bytes)], ["E", "Z"]);
  assert.equal(failed.error?.C, "42P01");
  assert.equal(failed.failedAfterLastReady, false);
  assert.equal(readAnswer(error).failedAfterLastReady, true);
});

/** The types of the messages in a buffer. */
class MessageReaderOf {
  constructor(readonly bytes: Uint8Array) {}
  *[Symbol.iterator]() {
    const reader = new MessageReader();
    reader.push(this.bytes);
    for (let m = reader.next(); m; m = reader.next()) yield m.type;
  }
}
