/**
 * Sentry (shared/sentry.ts through shared/http.ts `serve()`): an unhandled error of a function is
 * sent to the DSN's envelope endpoint with the request id, function and route, and nothing of the
 * request's body, query string or token; an HttpError is not sent; without a DSN nothing is sent.
 */
import assert from "node:assert/strict";
import { parseDsn } from "../../shared/sentry.ts";
import { HttpError, serve } from "../../shared/http.ts";
import { startFakeSentry } from "../fakes/sentry.ts";

const SECRET_BODY = "the-secret-body-9f3a";
const TOKEN = "eyJhbGciOiJIUzI1NiJ9.secret-token-77.sig";

function failing(fail: "crash" | "http", sentryDsn: string) {
  return serve("demo", async (req) => {
    await req.text();
    if (fail === "http") throw new HttpError(404, "not_found", "No.");
    throw new Error("boom in the handler");
  }, { sentryDsn });
}

function request(): Request {
  return new Request("http://localhost/functions/v1/demo/things/abc?token=query-secret-55", {
    method: "POST",
    headers: { authorization: `Bearer ${TOKEN}`, "x-request-id": "req-sentry-0001" },
    body: SECRET_BODY,
  });
}

Deno.test("`parseDsn()` finds the envelope endpoint and key of a DSN, with a path prefix", () => {
  assert.deepEqual(parseDsn("https://k1@o1.ingest.sentry.io/123"), {
    envelopeUrl: "https://o1.ingest.sentry.io/api/123/envelope/",
    publicKey: "k1",
    dsn: "https://k1@o1.ingest.sentry.io/123",
  });
  assert.equal(
    parseDsn("https://k@host/sentry/9")?.envelopeUrl,
    "https://host/sentry/api/9/envelope/",
  );
  assert.equal(parseDsn("https://host/9"), undefined);
  assert.equal(parseDsn(undefined), undefined);
});

Deno.test("`serve()` sends an unhandled error to Sentry with ids and route, no body or token", async () => {
  const sentry = startFakeSentry();
  try {
    const res = await failing("crash", sentry.dsn)(request());
    assert.equal(res.status, 500);
    await res.body?.cancel();
    assert.equal(sentry.envelopes.length, 1);
    const [envelope] = sentry.envelopes;
    assert.match(envelope!.headers.get("x-sentry-auth") ?? "", /sentry_key=publickey123/);
    const [head, item, event] = envelope!.lines;
    assert.equal(head.event_id, event.event_id);
    assert.equal(item.type, "event");
    assert.equal(event.tags.request_id, "req-sentry-0001");
    assert.equal(event.tags.function, "demo");
    assert.equal(event.tags.route, "/things/abc");
    assert.equal(event.exception.values[0].value, "boom in the handler");
    for (const secret of [SECRET_BODY, "secret-token-77", "query-secret-55"]) {
      assert.ok(!envelope!.raw.includes(secret), `the envelope holds ${secret}`);
    }
  } finally {
    await sentry.close();
  }
});

Deno.test("`serve()` sends nothing for an HttpError, nor without a DSN", async () => {
  const sentry = startFakeSentry();
  try {
    const refused = await failing("http", sentry.dsn)(request());
    assert.equal(refused.status, 404);
    await refused.body?.cancel();
    const crashed = await failing("crash", "")(request());
    assert.equal(crashed.status, 500);
    await crashed.body?.cancel();
    assert.equal(sentry.envelopes.length, 0);
  } finally {
    await sentry.close();
  }
});
