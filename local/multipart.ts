/**
 * A byte-level multipart/form-data reader for the local Storage API. supabase-js sends the file
 * under an empty field name, which the platform's `Request.formData()` drops.
 */

export interface Part {
  name: string;
  filename?: string;
  contentType?: string;
  data: Uint8Array;
}

function indexOf(hay: Uint8Array, needle: Uint8Array, from: number): number {
  outer: for (let i = from; i <= hay.length - needle.length; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

export function boundaryOf(contentType: string): string | undefined {
  const m = /boundary=(?:"([^"]+)"|([^;]+))/i.exec(contentType);
  return m ? (m[1] ?? m[2]).trim() : undefined;
}

export function parseMultipart(body: Uint8Array, boundary: string): Part[] {
  const enc = new TextEncoder();
  const delimiter = enc.encode(`--${boundary}`);
  const headerEnd = enc.encode("\r\n\r\n");
  const parts: Part[] = [];
  let at = indexOf(body, delimiter, 0);
  while (at >= 0) {
    let cursor = at + delimiter.length;
    if (body[cursor] === 45 && body[cursor + 1] === 45) break; // closing "--"
    cursor += 2; // CRLF after the delimiter
    const headersStop = indexOf(body, headerEnd, cursor);
    if (headersStop < 0) break;
    const headers = new TextDecoder().decode(body.subarray(cursor, headersStop));
    const next = indexOf(body, enc.encode(`\r\n--${boundary}`), headersStop + 4);
    if (next < 0) break;
    const disposition = /content-disposition:([^\r\n]*)/i.exec(headers)?.[1] ?? "";
    parts.push({
      name: /\bname="([^"]*)"/i.exec(disposition)?.[1] ?? "",
      filename: /\bfilename="([^"]*)"/i.exec(disposition)?.[1],
      contentType: /content-type:\s*([^\r\n]*)/i.exec(headers)?.[1]?.trim(),
      data: body.slice(headersStop + 4, next),
    });
    at = next + 2;
  }
  return parts;
}
