/**
 * Optional error tracking: with `SENTRY_DSN` set, `serve()` (shared/http.ts) sends each unhandled
 * error of every function to Sentry through its envelope endpoint
 * (`POST <scheme>://<host>/api/<project>/envelope/`, one JSON line of envelope headers, one of
 * item headers, one event), without Sentry's SDK. The event carries what finds the failing
 * request in the access log (request id, function, route, method) and the error itself; never the
 * request body, the query string, headers or tokens. Without a DSN nothing is sent. Sending never
 * fails the request: it is bounded by a short timeout and its own errors are dropped.
 */

export interface SentryDsn {
  envelopeUrl: string;
  publicKey: string;
  dsn: string;
}

/** The envelope endpoint and key of a DSN `https://<key>@<host>[/<path>]/<project>`, or undefined. */
export function parseDsn(raw: string | undefined): SentryDsn | undefined {
  if (!raw) return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return undefined;
  }
  const segments = url.pathname.split("/").filter(Boolean);
  const project = segments.pop();
  if (!url.username || !project || !/^https?:$/.test(url.protocol)) return undefined;
  const prefix = segments.length ? `/${segments.join("/")}` : "";
  return {
    envelopeUrl: `${url.protocol}//${url.host}${prefix}/api/${project}/envelope/`,
    publicKey: decodeURIComponent(url.username),
    dsn: raw,
  };
}

export interface ErrorReport {
  functionName: string;
  requestId: string;
  method: string;
  /** The route inside the function (no query string). */
  route: string;
  error: unknown;
}

function frames(stack: string | undefined) {
  // V8 lines: "    at fn (file:///…/x.ts:12:3)"; Sentry wants the innermost frame last.
  return (stack ?? "").split("\n").slice(1).map((line) => {
    const m = /at (?:(.+?) \()?(.+?):(\d+):(\d+)\)?$/.exec(line.trim());
    return m
      ? { function: m[1] ?? "?", filename: m[2], lineno: Number(m[3]), colno: Number(m[4]) }
      : undefined;
  }).filter((f) => f !== undefined).reverse();
}

/** The envelope (text) Sentry's endpoint takes for one error event. */
export function errorEnvelope(dsn: SentryDsn, report: ErrorReport, now = new Date()): string {
  const eventId = crypto.randomUUID().replaceAll("-", "");
  const err = report.error;
  const event = {
    event_id: eventId,
    timestamp: now.getTime() / 1000,
    platform: "javascript",
    level: "error",
    logger: report.functionName,
    transaction: `${report.method} /${report.functionName}${report.route}`,
    tags: {
      function: report.functionName,
      route: report.route,
      method: report.method,
      request_id: report.requestId,
    },
    exception: {
      values: [{
        type: err instanceof Error ? err.name : "Error",
        value: err instanceof Error ? err.message : String(err),
        stacktrace: err instanceof Error ? { frames: frames(err.stack) } : undefined,
      }],
    },
  };
  return [
    JSON.stringify({ event_id: eventId, sent_at: now.toISOString(), dsn: dsn.dsn }),
    JSON.stringify({ type: "event" }),
    JSON.stringify(event),
  ].join("\n") + "\n";
}

/** Sends an unhandled error when a DSN is given (`SENTRY_DSN`); resolves either way, within `timeoutMs`. */
export async function reportError(
  report: ErrorReport,
  rawDsn: string | undefined,
  timeoutMs = 2000,
): Promise<void> {
  const dsn = parseDsn(rawDsn);
  if (!dsn) return;
  try {
    const res = await fetch(dsn.envelopeUrl, {
      method: "POST",
      headers: {
        "content-type": "application/x-sentry-envelope",
        "x-sentry-auth":
          `Sentry sentry_version=7, sentry_key=${dsn.publicKey}, sentry_client=analyst-workbench/1`,
      },
      body: errorEnvelope(dsn, report),
      signal: AbortSignal.timeout(timeoutMs),
    });
    await res.body?.cancel();
  } catch {
    // Error tracking is best effort: the access log has the error already.
  }
}
