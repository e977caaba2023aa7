/**
 * A fake Sentry ingest on 127.0.0.1: `POST /api/<project>/envelope/` records each envelope (its
 * raw text, the headers, the parsed lines) and answers 200 `{"id"}` as Relay does. `dsn` is a DSN
 * pointing at it.
 */

export interface SentryEnvelopeRecord {
  path: string;
  headers: Headers;
  raw: string;
  // deno-lint-ignore no-explicit-any
  lines: any[];
}

export interface FakeSentry {
  dsn: string;
  envelopes: SentryEnvelopeRecord[];
  close(): Promise<void>;
}

export function startFakeSentry(project = "42", key = "publickey123"): FakeSentry {
  const envelopes: SentryEnvelopeRecord[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    const path = new URL(req.url).pathname;
    if (req.method !== "POST" || path !== `/api/${project}/envelope/`) {
      return new Response("not found", { status: 404 });
    }
    const raw = await req.text();
    const lines = raw.split("\n").filter((l) => l.length > 0).map((l) => JSON.parse(l));
    envelopes.push({ path, headers: req.headers, raw, lines });
    return Response.json({ id: lines[0]?.event_id ?? null });
  });
  const { port } = server.addr as Deno.NetAddr;
  return {
    dsn: `http://${key}@127.0.0.1:${port}/${project}`,
    envelopes,
    close: () => server.shutdown(),
  };
}
