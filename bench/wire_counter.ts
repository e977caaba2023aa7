/**
 * A TCP relay in front of the database that counts round trips: every frontend `Query` ('Q', a
 * simple-protocol statement), every `Sync` ('S', the end of an extended-protocol batch) and every
 * `Flush` ('H') is one wait for the server. postgres.js without prepared statements sends a
 * statement that has parameters in two: Parse/Describe/Flush, waits for the parameter types, then
 * Bind/Execute/Sync; so such a statement is two round trips, one without parameters one. The bench points the functions' `SUPABASE_DB_URL` at it,
 * so it sees only what the functions send, whatever the engine (PGlite's pooler or native
 * PostgreSQL); nothing in a function changes.
 */

export interface WireCounter {
  port: number;
  /** Round trips ('Q' + 'S' + 'H') relayed so far. */
  roundTrips(): number;
  /** Where to relay to (may be set after the relay started, before the first connection). */
  setTarget(host: string, port: number): void;
  stop(): Promise<void>;
}

export function startWireCounter(): WireCounter {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  let target: { host: string; port: number } | undefined;
  let trips = 0;
  const conns = new Set<Deno.Conn>();

  const relayClient = async (client: Deno.Conn, server: Deno.Conn) => {
    // Startup: untyped messages (SSLRequest / GSSENCRequest, then StartupMessage).
    let startup = true;
    let buf = new Uint8Array(0);
    const chunk = new Uint8Array(64 * 1024);
    for (;;) {
      const n = await client.read(chunk).catch(() => null);
      if (n === null) break;
      const data = chunk.subarray(0, n);
      // Parse what can be parsed of the message stream (only to count; bytes go on unchanged).
      const joined = new Uint8Array(buf.length + n);
      joined.set(buf);
      joined.set(data, buf.length);
      let off = 0;
      for (;;) {
        if (startup) {
          if (joined.length - off < 8) break;
          const len = new DataView(joined.buffer, joined.byteOffset + off).getUint32(0);
          const code = new DataView(joined.buffer, joined.byteOffset + off).getUint32(4);
          if (joined.length - off < len) break;
          off += len;
          if (code !== 80877103 && code !== 80877104) startup = false;
        } else {
          if (joined.length - off < 5) break;
          const type = joined[off]!;
          const len = new DataView(joined.buffer, joined.byteOffset + off + 1).getUint32(0);
          if (joined.length - off < 1 + len) break;
          if (type === 0x51 /* Q */ || type === 0x53 /* S */ || type === 0x48 /* H */) trips++;
          off += 1 + len;
        }
      }
      buf = joined.slice(off);
      try {
        let written = 0;
        while (written < data.length) written += await server.write(data.subarray(written));
      } catch {
        break;
      }
    }
    try {
      server.closeWrite();
    } catch {
      // already closed
    }
  };

  const relayServer = async (server: Deno.Conn, client: Deno.Conn) => {
    try {
      await server.readable.pipeTo(client.writable);
    } catch {
      // either side closed
    }
  };

  (async () => {
    for await (const client of listener) {
      if (!target) {
        client.close();
        continue;
      }
      const t = target;
      (async () => {
        let server: Deno.Conn;
        try {
          server = await Deno.connect({ hostname: t.host, port: t.port });
        } catch {
          client.close();
          return;
        }
        // Without it Nagle's algorithm meets delayed ACKs: ~40 ms stalls per round trip.
        for (const c of [client, server] as Deno.TcpConn[]) c.setNoDelay(true);
        conns.add(client);
        conns.add(server);
        await Promise.all([relayClient(client, server), relayServer(server, client)]);
        for (const c of [client, server]) {
          conns.delete(c);
          try {
            c.close();
          } catch {
            // closed
          }
        }
      })();
    }
  })().catch(() => {});

  return {
    port: (listener.addr as Deno.NetAddr).port,
    roundTrips: () => trips,
    setTarget(host, port) {
      target = { host, port };
    },
    stop() {
      listener.close();
      for (const c of conns) {
        try {
          c.close();
        } catch {
          // closed
        }
      }
      return Promise.resolve();
    },
  };
}
