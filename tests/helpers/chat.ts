/** Helpers for the chat end-to-end tests: calls through supabase-js, uploads, SSE answers. */
import { createParser, type EventSourceMessage } from "eventsource-parser";
import { call, errorBody, eventually, type TestUser } from "./stack.ts";

export { call };

// deno-lint-ignore no-explicit-any
export type Json = any;

export interface Upload {
  name: string;
  bytes: Uint8Array;
}

export const text = (s: string) => new TextEncoder().encode(s);

/** Uploads files into a workbench and waits until each is indexed or failed. */
export async function uploadAndWait(
  user: TestUser,
  workbenchId: string,
  files: Upload[],
  timeoutMs = 60_000,
): Promise<Record<string, Json>> {
  const fd = new FormData();
  for (const f of files) fd.append("file", new Blob([f.bytes as BlobPart]), f.name);
  const res = await call(user.client, `workbenches/${workbenchId}/files`, { body: fd });
  if (res.status !== 201 && res.status !== 200) {
    throw new Error(`upload failed: ${res.status} ${JSON.stringify(res.body)}`);
  }
  const ids: string[] = res.body.files.map((f: Json) => f.id);
  return await eventually(
    async () => {
      const { body } = await call(user.client, `workbenches/${workbenchId}/files?limit=100`);
      const got = (body.files as Json[]).filter((f) => ids.includes(f.id));
      return got.length === ids.length &&
          got.every((f) => f.status === "indexed" || f.status === "error")
        ? Object.fromEntries(got.map((f) => [f.file_name, f]))
        : undefined;
    },
    `files ${ids.join(", ")} to be indexed`,
    timeoutMs,
  );
}

export async function newWorkbench(user: TestUser, name: string, companyId?: string) {
  const res = await call(user.client, "workbenches", {
    body: { name, ...(companyId ? { company_id: companyId } : {}) },
  });
  if (res.status !== 201) throw new Error(`workbench: ${JSON.stringify(res.body)}`);
  return res.body.id as string;
}

export async function openSession(user: TestUser, workbenchId: string): Promise<string> {
  const res = await call(user.client, "chat/sessions", { body: { workbench_id: workbenchId } });
  if (res.status !== 201 && res.status !== 200) {
    throw new Error(`session: ${res.status} ${JSON.stringify(res.body)}`);
  }
  return res.body.id;
}

export function ask(user: TestUser, sessionId: string, content: string) {
  return call(user.client, `chat/sessions/${sessionId}/messages`, { body: { content } });
}

export interface StreamOptions {
  /** Goes away (aborts the request) once this many `delta` events have arrived. */
  abortAfterDeltas?: number;
  /** Runs once, when the first `delta` arrives (the stream keeps being read meanwhile). */
  onFirstDelta?: () => Promise<unknown>;
}

/**
 * Asks with `Accept: text/event-stream` through supabase-js (which hands back the Response for
 * that content type) and parses the stream with eventsource-parser.
 */
export async function askStream(
  user: TestUser,
  sessionId: string,
  content: string,
  opts: StreamOptions = {},
): Promise<{ status: number; events: EventSourceMessage[]; body?: Json }> {
  const client = new AbortController();
  const { data, error } = await user.client.functions.invoke(
    `chat/sessions/${sessionId}/messages`,
    { body: { content }, headers: { Accept: "text/event-stream" }, signal: client.signal },
  );
  if (error) {
    const e = await errorBody(error);
    return { status: e.status, events: [], body: e.body };
  }
  const res = data as Response;
  const events: EventSourceMessage[] = [];
  let side: Promise<unknown> | undefined;
  const parser = createParser({
    onEvent: (e) => {
      events.push(e);
      if (e.event === "delta" && !side && opts.onFirstDelta) side = opts.onFirstDelta();
    },
  });
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  while (true) {
    const deltas = events.filter((e) => e.event === "delta").length;
    if (opts.abortAfterDeltas !== undefined && deltas >= opts.abortAfterDeltas) {
      client.abort();
      await reader.cancel().catch(() => {});
      break;
    }
    const { value, done } = await reader.read();
    if (done) break;
    parser.feed(value);
  }
  await side;
  return { status: res.status, events };
}

export const parsed = (e: EventSourceMessage): Json => JSON.parse(e.data);
