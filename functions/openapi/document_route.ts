/** `GET /openapi` (no login): the OpenAPI 3.1 document of every function, as JSON. */
import { z } from "zod";
import { json, type Route } from "../../shared/http.ts";
import type { OpenapiDeps } from "./deps.ts";

export function documentRoute(deps: OpenapiDeps): Route {
  return {
    method: "GET",
    pattern: "/",
    doc: {
      summary: "This API reference (OpenAPI 3.1)",
      auth: "none",
      responses: {
        200: {
          description: "The OpenAPI document",
          schema: z.looseObject({ openapi: z.literal("3.1.0"), paths: z.looseObject({}) }),
        },
      },
    },
    handler: () => json(deps.document, 200, { "cache-control": "public, max-age=300" }),
  };
}
