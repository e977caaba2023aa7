/**
 * The SSE response of one answer: `meta`, whatever the body sends (`delta`…), then `done` with the
 * JSON body, or `error` with the error envelope (the turn's marker released; nothing counted).
 * When the client goes away the stream's `cancel` runs (the answer stops); a body that then
 * returns undefined (it saved the answer as interrupted) gets no `done`.
 */
import type { Warning } from "../../shared/chat/mod.ts";
import type { Sql } from "../../shared/db.ts";
import { errorResponse, HttpError } from "../../shared/http.ts";
import { log } from "../../shared/log.ts";
import { SSE_HEADERS, sseEvent } from "./sse.ts";
import type { PhaseTimer } from "../../shared/timing.ts";
import { abortTurn, type StartedTurn } from "./turn_store.ts";

export type Send = (event: string, data: unknown) => void;

export interface EventStreamTurn {
  sql: Sql;
  started: StartedTurn;
  sessionId: string;
  warnings: Warning[];
  requestId: string;
  timer: PhaseTimer;
}

/** The `error` event's data: the envelope plus the status the JSON form would have had. */
async function errorEvent(err: unknown, requestId: string): Promise<unknown> {
  const e = err instanceof HttpError
    ? err
    : new HttpError(500, "internal_error", "Something went wrong on our side.");
  if (!(err instanceof HttpError)) {
    log.error("chat stream failed", { request_id: requestId, error: String(err) });
  }
  const envelope = await errorResponse(e.status, e.code, e.message, requestId, e.details).json();
  return { ...envelope, status: e.status };
}

export function eventStream(
  turn: EventStreamTurn,
  body: (send: Send) => Promise<unknown | undefined>,
  cancel: () => void = () => {},
): Response {
  let closed = false;
  const stream = new ReadableStream<Uint8Array>({
    async start(controller) {
      const send: Send = (event, data) => {
        if (!closed) controller.enqueue(sseEvent(event, data));
      };
      send("meta", {
        session_id: turn.sessionId,
        user_message_id: turn.started.userMessageId,
        assistant_message_id: turn.started.assistantMessageId,
        warnings: turn.warnings,
      });
      try {
        const done = await body(send);
        if (done !== undefined) send("done", done);
      } catch (err) {
        await abortTurn(turn.sql, turn.sessionId, turn.started);
        send("error", await errorEvent(err, turn.requestId));
      }
      if (!closed) {
        closed = true;
        controller.close();
      }
    },
    cancel() {
      closed = true;
      cancel();
    },
  });
  return new Response(stream, {
    status: 200,
    headers: { ...SSE_HEADERS, "server-timing": turn.timer.header() },
  });
}
