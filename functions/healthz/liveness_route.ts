/** `GET /healthz`: liveness only; touches nothing else. */
import { json, type Route } from "../../shared/http.ts";
import type { HealthzDeps } from "./deps.ts";

export function livenessRoute(_deps: HealthzDeps): Route {
  return {
    method: "GET",
    pattern: "/",
    handler: () => json({ status: "ok", time: new Date().toISOString() }),
  };
}
