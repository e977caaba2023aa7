/** Prose of the API reference that is not attached to one route. */

export const PAGE_DESCRIPTION: Record<string, string> = {
  limit: "Page size (1–100, default 50).",
  offset: "Rows to skip; pass the previous answer's `next_offset`.",
};

export const SSE_DESCRIPTION = [
  "With `Accept: text/event-stream` the answer streams as Server-Sent Events:",
  "",
  "- `meta`: `{session_id, user_message_id, assistant_message_id, warnings}` once, first;",
  "- `delta`: `{text}` for each piece of the answer;",
  "- `done`: the JSON answer (the same body as without streaming) once, last;",
  "- `error`: `{error, status}` (the error envelope and the status it would have had) instead of `done`, when the answer fails",
  "  mid-stream.",
].join("\n");
