/**
 * The Postgres v3 wire protocol, as much as the pooler needs: framing of what clients send
 * (startup packets, then typed messages), builders of the backend messages the pooler writes
 * itself, and a reader of what PGlite answers.
 */

export const PROTOCOL_3_0 = 196608;
export const SSL_REQUEST = 80877103;
export const GSSENC_REQUEST = 80877104;
export const CANCEL_REQUEST = 80877102;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** One typed message, header included (type byte + int32 length + body). */
export interface Message {
  type: string;
  bytes: Uint8Array;
}

export function concat(parts: Uint8Array[]): Uint8Array {
  let size = 0;
  for (const p of parts) size += p.length;
  const out = new Uint8Array(size);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Accumulates bytes from a socket and cuts them into protocol messages (copies, safe to keep). */
export class MessageReader {
  #buf: Uint8Array = new Uint8Array(64 * 1024);
  #start = 0;
  #end = 0;

  push(chunk: Uint8Array): void {
    if (this.#end + chunk.length > this.#buf.length) {
      const used = this.#end - this.#start;
      if (used + chunk.length <= this.#buf.length) {
        this.#buf.copyWithin(0, this.#start, this.#end);
      } else {
        const grown = new Uint8Array(2 ** Math.ceil(Math.log2(used + chunk.length)));
        grown.set(this.#buf.subarray(this.#start, this.#end));
        this.#buf = grown;
      }
      this.#start = 0;
      this.#end = used;
    }
    this.#buf.set(chunk, this.#end);
    this.#end += chunk.length;
  }

  get buffered(): number {
    return this.#end - this.#start;
  }

  /** A startup-phase packet (int32 length, then body; no type byte), or null when incomplete. */
  nextUntyped(): Uint8Array | null {
    if (this.buffered < 4) return null;
    const len = int32(this.#buf, this.#start);
    if (len < 8 || len > 10_000) throw new ProtocolError(`invalid startup packet length ${len}`);
    return this.#take(len);
  }

  /** A typed message, or null when incomplete. */
  next(): Message | null {
    if (this.buffered < 5) return null;
    const len = int32(this.#buf, this.#start + 1);
    if (len < 4) throw new ProtocolError(`invalid message length ${len}`);
    const bytes = this.#take(1 + len);
    return bytes && { type: String.fromCharCode(bytes[0]), bytes };
  }

  #take(n: number): Uint8Array | null {
    if (this.buffered < n) return null;
    const out = this.#buf.slice(this.#start, this.#start + n);
    this.#start += n;
    if (this.#start === this.#end) this.#start = this.#end = 0;
    return out;
  }
}

export class ProtocolError extends Error {}

function view(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

export function int32(b: Uint8Array, at: number): number {
  return view(b).getInt32(at);
}

/** Reads a NUL-terminated string at `at`; returns it and the offset after its NUL. */
export function cstring(b: Uint8Array, at: number): [string, number] {
  const end = b.indexOf(0, at);
  if (end < 0) throw new ProtocolError("unterminated string");
  return [decoder.decode(b.subarray(at, end)), end + 1];
}

/** The key/value pairs of a StartupMessage (the packet after its length and version). */
export function startupParams(packet: Uint8Array): Map<string, string> {
  const params = new Map<string, string>();
  let at = 8;
  while (at < packet.length && packet[at] !== 0) {
    const [key, afterKey] = cstring(packet, at);
    const [value, afterValue] = cstring(packet, afterKey);
    params.set(key, value);
    at = afterValue;
  }
  return params;
}

export function buildStartup(params: Record<string, string>): Uint8Array {
  const body = concat([
    new Uint8Array([0, 3, 0, 0]),
    ...Object.entries(params).flatMap(([k, v]) => [cstr(k), cstr(v)]),
    new Uint8Array([0]),
  ]);
  const out = new Uint8Array(4 + body.length);
  view(out).setInt32(0, out.length);
  out.set(body, 4);
  return out;
}

function cstr(s: string): Uint8Array {
  return encoder.encode(s + "\0");
}

export function message(type: string, ...body: Uint8Array[]): Uint8Array {
  const payload = concat(body);
  const out = new Uint8Array(5 + payload.length);
  out[0] = type.charCodeAt(0);
  view(out).setInt32(1, 4 + payload.length);
  out.set(payload, 5);
  return out;
}

function i32(n: number): Uint8Array {
  const b = new Uint8Array(4);
  view(b).setInt32(0, n);
  return b;
}

// --- frontend messages the pooler sends to PGlite itself ---

export const query = (sql: string) => message("Q", cstr(sql));
export const sync = () => message("S");
export const close = (kind: "S" | "P", name: string) =>
  message("C", encoder.encode(kind), cstr(name));
/** Execute of a portal that never exists: an error that aborts whatever the session was doing. */
export const executeMissingPortal = () => message("E", cstr("pooler_no_such_portal"), i32(0));

// --- backend messages the pooler writes to clients ---

export const authenticationOk = () => message("R", i32(0));
/** AuthenticationSASL: the mechanisms offered, as a list of strings ending in an empty one. */
export const authenticationSasl = (mechanisms: string[]) =>
  message("R", i32(10), ...mechanisms.map(cstr), new Uint8Array([0]));
export const authenticationSaslContinue = (data: string) =>
  message("R", i32(11), encoder.encode(data));
export const authenticationSaslFinal = (data: string) =>
  message("R", i32(12), encoder.encode(data));
export const parameterStatus = (name: string, value: string) =>
  message("S", cstr(name), cstr(value));
export const backendKeyData = (pid: number, key: number) => message("K", i32(pid), i32(key));
export const readyForQuery = (status: string) => message("Z", encoder.encode(status));
export const negotiateProtocolVersion = (minor: number, unrecognized: string[]) =>
  message("v", i32(PROTOCOL_3_0 + minor), i32(unrecognized.length), ...unrecognized.map(cstr));

export interface ErrorFields {
  severity: "ERROR" | "FATAL" | "WARNING" | "NOTICE";
  code: string;
  message: string;
  detail?: string;
  hint?: string;
}

function fields(f: ErrorFields): Uint8Array[] {
  const out = [
    encoder.encode("S"),
    cstr(f.severity),
    encoder.encode("V"),
    cstr(f.severity),
    encoder.encode("C"),
    cstr(f.code),
    encoder.encode("M"),
    cstr(f.message),
  ];
  if (f.detail) out.push(encoder.encode("D"), cstr(f.detail));
  if (f.hint) out.push(encoder.encode("H"), cstr(f.hint));
  out.push(new Uint8Array([0]));
  return out;
}

export const errorResponse = (f: ErrorFields) => message("E", ...fields(f));
export const noticeResponse = (f: ErrorFields) => message("N", ...fields(f));

// --- reading frontend message bodies ---

/** Parse: statement name, query text, and the rest (parameter type OIDs) untouched. */
export function readParse(m: Uint8Array): { name: string; sql: string; rest: Uint8Array } {
  const [name, afterName] = cstring(m, 5);
  const [sql, afterSql] = cstring(m, afterName);
  return { name, sql, rest: m.subarray(afterSql) };
}

export function buildParse(name: string, sql: string, rest: Uint8Array): Uint8Array {
  return message("P", cstr(name), cstr(sql), rest);
}

/** Bind: the statement it binds (after the portal name). */
export function readBindStatement(m: Uint8Array): string {
  const [, afterPortal] = cstring(m, 5);
  return cstring(m, afterPortal)[0];
}

/** Describe or Close: 'S' (statement) or 'P' (portal), and the name. */
export function readTarget(m: Uint8Array): { kind: string; name: string } {
  return { kind: String.fromCharCode(m[5]), name: cstring(m, 6)[0] };
}

/** SASLInitialResponse ('p' during authentication): the mechanism and the client's first data. */
export function readSaslInitialResponse(m: Uint8Array): { mechanism: string; data: string } {
  const [mechanism, after] = cstring(m, 5);
  if (after + 4 > m.length) throw new ProtocolError("truncated SASLInitialResponse");
  const len = int32(m, after);
  const data = len < 0 ? new Uint8Array(0) : m.subarray(after + 4, after + 4 + len);
  return { mechanism, data: decoder.decode(data) };
}

/** SASLResponse ('p' after the first): the client's data. */
export function readSaslResponse(m: Uint8Array): string {
  return decoder.decode(m.subarray(5));
}

/** SASLInitialResponse as a client sends it. */
export function buildSaslInitialResponse(mechanism: string, data: string): Uint8Array {
  const bytes = encoder.encode(data);
  return message("p", cstr(mechanism), i32(bytes.length), bytes);
}

export const buildSaslResponse = (data: string) => message("p", encoder.encode(data));

export function readQuery(m: Uint8Array): string {
  return cstring(m, 5)[0];
}

// --- reading what PGlite answers ---

/** Splits a buffer of complete backend messages; PGlite always answers whole messages. */
export function* backendMessages(out: Uint8Array): Generator<Message> {
  let at = 0;
  while (at + 5 <= out.length) {
    const len = int32(out, at + 1);
    const end = at + 1 + len;
    yield { type: String.fromCharCode(out[at]), bytes: out.subarray(at, end) };
    at = end;
  }
}

export function readParameterStatus(m: Uint8Array): [string, string] {
  const [name, after] = cstring(m, 5);
  return [name, cstring(m, after)[0]];
}

/** The first column of a DataRow as text (undefined when NULL). */
export function readFirstColumn(m: Uint8Array): string | undefined {
  if (m.length < 11 || view(m).getInt16(5) < 1) return undefined;
  const len = int32(m, 7);
  return len < 0 ? undefined : decoder.decode(m.subarray(11, 11 + len));
}

export function readCommandTag(m: Uint8Array): string {
  return cstring(m, 5)[0];
}

/** The fields of an ErrorResponse or NoticeResponse, keyed by their one-letter codes. */
export function readErrorFields(m: Uint8Array): Record<string, string> {
  const out: Record<string, string> = {};
  let at = 5;
  while (at < m.length && m[at] !== 0) {
    const code = String.fromCharCode(m[at]);
    const [value, after] = cstring(m, at + 1);
    out[code] = value;
    at = after;
  }
  return out;
}
