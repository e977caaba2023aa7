/**
 * The `metrics` function: `GET /` (metrics_route.ts) answers the Prometheus text exposition
 * (exposition.ts) for a scraper holding a service key or METRICS_TOKEN. docs/admin.md has the
 * scrape config and the alerts.
 */
import { router } from "../../shared/http.ts";
import type { MetricsDeps } from "./deps.ts";
import { metricsRoute } from "./metrics_route.ts";

export function createMetricsHandler(deps: MetricsDeps) {
  return router([metricsRoute(deps)]);
}
