/**
 * What a route says about itself for the API reference (docs/openapi.json): who may call it, its
 * query and body schemas, its answers and the error codes it can send. A route declares this once,
 * next to its handler (`Route.doc` in shared/http.ts); the router serves the route and
 * `openapi/document.ts` reads the same route list to write the document, so a new route is in the
 * reference as soon as it is routed (tests/api/openapi_test.ts fails on a route without a doc).
 *
 * Only zod and plain data here: functions carry their docs in their bundles, and the conversion to
 * JSON Schema (`z.toJSONSchema`) runs in the generator, never in a function.
 */
import { z } from "zod";

/**
 * Who may call: `none` (public), `user` (a signed-in user's access token), `service` (the
 * project's service key), `webhook` (the provider's signature header), `optional_service` (public,
 * more with the service key), `user_or_service` (a user's token, or the service key: the admin
 * API), `metrics` (the service key or METRICS_TOKEN as the bearer), `channel_secret` (a channel's
 * shared secret in `X-Channel-Secret`: ManyChat's External Request).
 */
export type RouteAuth =
  | "none"
  | "user"
  | "service"
  | "webhook"
  | "optional_service"
  | "user_or_service"
  | "metrics"
  | "channel_secret";

export interface RouteResponseDoc {
  description: string;
  /** The JSON body; omitted for an empty answer (204). */
  schema?: z.ZodType;
  /** Other media types of the same answer (e.g. `text/event-stream`), each with its schema. */
  content?: Record<string, z.ZodType>;
  example?: unknown;
}

export interface RouteDoc {
  summary: string;
  description?: string;
  auth: RouteAuth;
  /** The query string (snake_case names; camelCase is accepted too). */
  query?: z.ZodType;
  /** The JSON request body. */
  body?: z.ZodType;
  /** The body may be left out (e.g. `DELETE /me`'s first call). */
  bodyOptional?: boolean;
  /** A body other than JSON, by media type (e.g. `multipart/form-data`). */
  bodyContent?: Record<string, z.ZodType>;
  bodyExample?: unknown;
  /** Extra request headers the route reads (name → description). */
  headers?: Record<string, string>;
  /** Answers other than errors, by status. */
  responses: Record<number, RouteResponseDoc>;
  /** Error codes this route itself can answer, by status (the common ones are added). */
  errors?: Record<number, string[]>;
}

/** The one list envelope (shared/pagination.ts): `{items, next_offset}`. */
export function listOf(item: z.ZodType) {
  return z.object({
    items: z.array(item),
    next_offset: z.number().int().nullable().describe("The offset of the next page; null: last"),
  });
}

/** Timestamps as the API sends them (ISO 8601). */
export const Timestamp = z.string().describe("ISO 8601 timestamp");

/** The error envelope every error answer has (shared/http.ts `errorResponse()`). */
export const ErrorEnvelope = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    request_id: z.string(),
    details: z.unknown().optional(),
  }),
});
