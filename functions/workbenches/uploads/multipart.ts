/**
 * A streaming multipart/form-data reader: parts come one after the other, each with a body that is
 * read as the request arrives, so no part (and no request) is ever held whole. Header values are
 * read as UTF-8 and kept as sent (like Deno's `Request.formData()`, which keeps `%22` as is).
 */

export class MultipartError extends Error {
  override name = "MultipartError";
}

export interface PartBody extends AsyncIterable<Uint8Array> {
  /** The next bytes of the part, or null at its end. */
  read(): Promise<Uint8Array | null>;
}

export interface Part {
  /** The field name. */
  name: string;
  /** Present for a file (possibly ""); absent for a plain field. */
  filename?: string;
  contentType?: string;
  /** Read it as far as you like: the next part skips what is left. */
  body: PartBody;
}

/** The boundary parameter of a multipart Content-Type, if any. */
export function boundaryOf(contentType: string): string | undefined {
  const m = /;\s*boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  return m ? (m[1] ?? m[2]).trim() : undefined;
}

const MAX_HEADER_BYTES = 16 * 1024;
const CRLFCRLF = new Uint8Array([13, 10, 13, 10]);

function indexOf(hay: Uint8Array, needle: Uint8Array, from: number): number {
  const first = needle[0];
  const last = hay.length - needle.length;
  for (let i = hay.indexOf(first, from); i >= 0 && i <= last; i = hay.indexOf(first, i + 1)) {
    let j = 1;
    while (j < needle.length && hay[i + j] === needle[j]) j++;
    if (j === needle.length) return i;
  }
  return -1;
}

/** The unread bytes of a stream, refilled a chunk at a time. */
class Buffered {
  buf: Uint8Array = new Uint8Array(0);
  pos = 0;
  #ended = false;
  constructor(private readonly reader: ReadableStreamDefaultReader<Uint8Array>) {}

  get available(): number {
    return this.buf.length - this.pos;
  }

  /** Appends the next chunk; false at the end of the stream. */
  async more(): Promise<boolean> {
    if (this.#ended) return false;
    const { value, done } = await this.reader.read();
    if (done) {
      this.#ended = true;
      return false;
    }
    const rest = this.buf.subarray(this.pos);
    if (rest.length === 0) this.buf = value;
    else {
      // Only the few bytes that might start a delimiter are carried over.
      const joined = new Uint8Array(rest.length + value.length);
      joined.set(rest);
      joined.set(value, rest.length);
      this.buf = joined;
    }
    this.pos = 0;
    return true;
  }

  /** Makes at least `n` bytes available, or fails at the end of the stream. */
  async need(n: number, what: string): Promise<void> {
    while (this.available < n) {
      if (!await this.more()) throw new MultipartError(`the body ends ${what}`);
    }
  }

  /** The position of `needle` from the current position, reading on; -1 if the stream ends. */
  async find(needle: Uint8Array, maxDistance: number): Promise<number> {
    let from = this.pos;
    for (;;) {
      const at = indexOf(this.buf, needle, from);
      if (at >= 0) return at;
      if (this.available > maxDistance) return -1;
      // Where a match could still begin, relative to the unread bytes.
      const resume = Math.max(0, this.buf.length - needle.length + 1 - this.pos);
      if (!await this.more()) return -1;
      from = this.pos + resume; // `more()` moved the unread bytes to the front
    }
  }
}

function parseHeaders(raw: string): Omit<Part, "body"> {
  const headers = new Map<string, string>();
  for (const line of raw.split("\r\n")) {
    const colon = line.indexOf(":");
    if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1));
  }
  const disposition = headers.get("content-disposition") ?? "";
  if (!/^\s*form-data\s*(;|$)/i.test(disposition)) {
    throw new MultipartError("a part is not form-data");
  }
  const params = new Map<string, string>();
  const re = /;\s*([^=;\s]+)\s*=\s*(?:"([^"]*)"|([^;]*))/g;
  for (let m = re.exec(disposition); m; m = re.exec(disposition)) {
    const key = m[1].toLowerCase();
    if (!params.has(key)) params.set(key, m[2] ?? m[3].trim());
  }
  const name = params.get("name");
  if (name === undefined) throw new MultipartError("a part has no name");
  const filename = params.get("filename");
  const contentType = headers.get("content-type")?.trim();
  return {
    name,
    ...(filename !== undefined ? { filename } : {}),
    ...(contentType ? { contentType } : {}),
  };
}

/**
 * Reads `body` (multipart/form-data with `boundary`) part by part. Throws MultipartError when
 * the body is not well-formed; errors of the stream itself propagate as they are.
 */
export async function* readMultipart(
  body: ReadableStream<Uint8Array>,
  boundary: string,
): AsyncGenerator<Part> {
  if (!boundary || boundary.length > 200) throw new MultipartError("bad boundary");
  const enc = new TextEncoder();
  const dashBoundary = enc.encode(`--${boundary}`);
  const delimiter = enc.encode(`\r\n--${boundary}`);
  const reader = body.getReader();
  const input = new Buffered(reader);
  try {
    // The preamble (usually empty) runs to the first boundary.
    const first = await input.find(dashBoundary, Infinity);
    if (first < 0) throw new MultipartError("no boundary in the body");
    if (first > 0 && !(input.buf[first - 2] === 13 && input.buf[first - 1] === 10)) {
      throw new MultipartError("the first boundary does not start a line");
    }
    input.pos = first + dashBoundary.length;
    for (;;) {
      // After a boundary: "--" ends the body; otherwise optional blanks and CRLF.
      await input.need(2, "after a boundary");
      if (input.buf[input.pos] === 45 && input.buf[input.pos + 1] === 45) return;
      for (;;) {
        await input.need(2, "after a boundary");
        const c = input.buf[input.pos];
        if (c !== 32 && c !== 9) break;
        input.pos++;
      }
      if (input.buf[input.pos] !== 13 || input.buf[input.pos + 1] !== 10) {
        throw new MultipartError("a boundary is not followed by a line end");
      }
      // Headers end with an empty line (right away when there are none).
      const end = await input.find(CRLFCRLF, MAX_HEADER_BYTES);
      if (end < 0) throw new MultipartError("part headers are missing or too long");
      // `find` may have moved the unread bytes; they still start at `pos` (the line end).
      const raw = new TextDecoder().decode(input.buf.subarray(input.pos + 2, end));
      input.pos = end + CRLFCRLF.length;
      const part: Part = { ...parseHeaders(raw), body: partBody(input, delimiter) };
      yield part;
      while (await part.body.read() !== null) { /* skip what the reader left */ }
    }
  } finally {
    reader.releaseLock();
  }
}

function partBody(input: Buffered, delimiter: Uint8Array): PartBody {
  let done = false;
  const read = async (): Promise<Uint8Array | null> => {
    for (;;) {
      if (done) return null;
      const at = indexOf(input.buf, delimiter, input.pos);
      if (at >= 0) {
        const chunk = input.buf.subarray(input.pos, at);
        input.pos = at + delimiter.length;
        done = true;
        if (chunk.length > 0) return chunk;
        return null;
      }
      // Everything but a possible start of the delimiter can go.
      const safe = input.buf.length - delimiter.length + 1;
      if (safe > input.pos) {
        const chunk = input.buf.subarray(input.pos, safe);
        input.pos = safe;
        return chunk;
      }
      if (!await input.more()) throw new MultipartError("the body ends inside a part");
    }
  };
  return {
    read,
    async *[Symbol.asyncIterator]() {
      for (let chunk = await read(); chunk !== null; chunk = await read()) yield chunk;
    },
  };
}
