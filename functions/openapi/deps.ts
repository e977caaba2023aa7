/**
 * What the openapi function needs: the API reference, generated from every function's routes by
 * `deno task openapi` into docs/openapi.json (openapi/document.ts) and bundled as JSON, so this
 * function loads no other function's code.
 */
import document from "../../docs/openapi.json" with { type: "json" };

export interface OpenapiDeps {
  document: unknown;
}

export function openapiDepsFromEnv(): OpenapiDeps {
  return { document };
}
