/**
 * `GET /` → every series in the Prometheus text format, computed by one statement
 * (`private.metrics()`). Never public: the bearer token must be a service key or METRICS_TOKEN
 * (compared in constant time); anything else, a user's token included, gets 401 or 403.
 */
import { timingSafeEqual } from "../../shared/auth.ts";
import { HttpError, type Route } from "../../shared/http.ts";
import type { MetricsDeps } from "./deps.ts";
import { exposition, type Sample } from "./exposition.ts";
import { z } from "zod";

function requireScraper(req: Request, deps: MetricsDeps): void {
  const token = /^Bearer\s+(\S+)$/i.exec(req.headers.get("authorization") ?? "")?.[1];
  if (!token) {
    throw new HttpError(
      401,
      "missing_token",
      "An Authorization: Bearer <token> header is required.",
    );
  }
  const isMetricsToken = deps.metricsToken !== undefined &&
    timingSafeEqual(token, deps.metricsToken);
  if (!isMetricsToken && !deps.verifier.isServiceKey(token)) {
    throw new HttpError(403, "forbidden", "Metrics are for the service role or METRICS_TOKEN.");
  }
}

export function metricsRoute(deps: MetricsDeps): Route {
  return {
    method: "GET",
    pattern: "/",
    doc: {
      summary: "Every series in the Prometheus text format (for a scraper)",
      description: "The bearer is METRICS_TOKEN or the service key; a user's token is 403.",
      auth: "metrics",
      responses: {
        200: {
          description: "The Prometheus text exposition (version 0.0.4)",
          content: { "text/plain": z.string() },
        },
      },
    },
    handler: async (req) => {
      requireScraper(req, deps);
      const rows = await deps.sql()<Sample[]>`select name, labels, value from private.metrics()`;
      return new Response(exposition(rows.map((r) => ({ ...r, value: Number(r.value) }))), {
        headers: {
          "content-type": "text/plain; version=0.0.4; charset=utf-8",
          "cache-control": "no-store",
        },
      });
    },
  };
}
