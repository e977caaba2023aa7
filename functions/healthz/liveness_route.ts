/** `GET /healthz`: liveness only; touches nothing else. */
import { z } from "zod";
import { json, type Route } from "../../shared/http.ts";
import type { HealthzDeps } from "./deps.ts";

export function livenessRoute(_deps: HealthzDeps): Route {
  return {
    method: "GET",
    pattern: "/",
    doc: {
      summary: "Liveness",
      auth: "none",
      responses: {
        200: {
          description: "Alive",
          schema: z.object({ status: z.literal("ok"), time: z.string() }),
        },
      },
    },
    handler: () => json({ status: "ok", time: new Date().toISOString() }),
  };
}
