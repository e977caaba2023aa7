/**
 * The subset of the Supabase Storage API that supabase-js `storage.from(bucket).upload / download /
 * remove / createSignedUrl` and the signed-URL GET use, served under /storage/v1 with the bytes on
 * disk and the metadata in `storage.objects`. Locally only the service role may read and write
 * objects directly (Supabase would apply storage.objects policies); anyone holding a valid signed
 * URL may download.
 */
import { dirname, resolve, sep } from "node:path";
import type { Sql } from "../shared/db.ts";
import type { LocalKeys } from "./keys.ts";
import { boundaryOf, parseMultipart } from "./multipart.ts";

export interface StorageDeps {
  sql: () => Sql;
  keys: LocalKeys;
  root: string;
}

function storageError(status: number, error: string, message: string): Response {
  return Response.json({ statusCode: String(status), error, message }, { status });
}

function splitObjectPath(rest: string): { bucket: string; name: string } | null {
  let parts: string[];
  try {
    parts = rest.split("/").filter(Boolean).map(decodeURIComponent);
  } catch {
    return null;
  }
  if (parts.length < 2) return null;
  // Decoding happens after splitting, so an encoded separator must not survive in a segment.
  if (parts.some((p) => p === "." || p === ".." || /[\/\\\0]/.test(p))) return null;
  return { bucket: parts[0], name: parts.slice(1).join("/") };
}

export function createStorageServer(deps: StorageDeps) {
  const root = resolve(deps.root);
  const filePath = (bucket: string, name: string) => {
    const path = resolve(root, bucket, name);
    if (!path.startsWith(root + sep)) {
      throw new Error(`object path escapes the storage root: ${name}`);
    }
    return path;
  };

  async function bucketRow(bucket: string) {
    const [row] = await deps.sql()<
      { id: string; file_size_limit: string | null; public: boolean }[]
    >`
      select id, file_size_limit, public from storage.buckets where id = ${bucket}`;
    return row;
  }

  async function serveFile(
    bucket: string,
    name: string,
    download: string | null,
  ): Promise<Response> {
    const [obj] = await deps.sql()<{ metadata: { mimetype?: string } | null }[]>`
      select metadata from storage.objects where bucket_id = ${bucket} and name = ${name}`;
    if (!obj) return storageError(404, "not_found", "Object not found");
    let bytes: Uint8Array;
    try {
      bytes = await Deno.readFile(filePath(bucket, name));
    } catch {
      return storageError(404, "not_found", "Object not found");
    }
    const headers: Record<string, string> = {
      "content-type": obj.metadata?.mimetype ?? "application/octet-stream",
      "content-length": String(bytes.byteLength),
    };
    if (download !== null) {
      const fileName = download || name.split("/").pop()!;
      headers["content-disposition"] = `attachment; filename="${encodeURIComponent(fileName)}"`;
    }
    return new Response(bytes as BodyInit, { headers });
  }

  async function upload(
    req: Request,
    bucket: string,
    name: string,
    upsert: boolean,
  ): Promise<Response> {
    const b = await bucketRow(bucket);
    if (!b) return storageError(404, "Bucket not found", "Bucket not found");
    let bytes: Uint8Array;
    let mimetype = req.headers.get("content-type") ?? "application/octet-stream";
    let cacheControl = req.headers.get("cache-control") ?? "max-age=3600";
    const boundary = boundaryOf(mimetype);
    if (mimetype.startsWith("multipart/form-data") && boundary) {
      const parts = parseMultipart(new Uint8Array(await req.arrayBuffer()), boundary);
      const file = parts.find((p) => p.filename !== undefined);
      if (!file) return storageError(400, "invalid_request", "No file in the multipart body");
      bytes = file.data;
      mimetype = file.contentType || "application/octet-stream";
      const cc = parts.find((p) => p.name === "cacheControl");
      if (cc) cacheControl = `max-age=${new TextDecoder().decode(cc.data)}`;
    } else {
      try {
        bytes = new Uint8Array(await req.arrayBuffer());
      } catch {
        // The client gave up on the upload (e.g. a refused file aborts its stream): nothing stored.
        return storageError(400, "aborted", "The upload was aborted before it completed");
      }
    }
    if (b.file_size_limit !== null && bytes.byteLength > Number(b.file_size_limit)) {
      return storageError(413, "Payload too large", "The object exceeded the maximum allowed size");
    }
    const metadata = {
      size: bytes.byteLength,
      mimetype,
      cacheControl,
      eTag: `"${crypto.randomUUID()}"`,
      lastModified: new Date().toISOString(),
    };
    const rows = await deps.sql()<{ id: string }[]>`
      insert into storage.objects (bucket_id, name, metadata)
      values (${bucket}, ${name}, ${deps.sql().json(metadata)})
      on conflict (bucket_id, name) do update
        set metadata = excluded.metadata, updated_at = now()
        where ${upsert}
      returning id`;
    if (rows.length === 0) return storageError(409, "Duplicate", "The resource already exists");
    const path = filePath(bucket, name);
    await Deno.mkdir(dirname(path), { recursive: true });
    await Deno.writeFile(path, bytes);
    return Response.json({ Key: `${bucket}/${name}`, Id: rows[0].id });
  }

  async function remove(bucket: string, prefixes: string[]): Promise<Response> {
    const rows = await deps.sql()<{ name: string }[]>`
      delete from storage.objects where bucket_id = ${bucket} and name = any(${prefixes})
      returning id, bucket_id, name, metadata, created_at, updated_at`;
    for (const row of rows) {
      await Deno.remove(filePath(bucket, row.name)).catch(() => {});
    }
    return Response.json(rows);
  }

  async function sign(bucket: string, name: string, expiresIn: number): Promise<Response> {
    const token = await deps.keys.signUrl(`${bucket}/${name}`, Math.max(1, Math.floor(expiresIn)));
    const encoded = name.split("/").map(encodeURIComponent).join("/");
    return Response.json({ signedURL: `/object/sign/${bucket}/${encoded}?token=${token}` });
  }

  async function handle(req: Request, path: string, url: URL): Promise<Response> {
    // Signed-URL download: the token is the credential.
    if (req.method === "GET" && path.startsWith("/object/sign/")) {
      const target = splitObjectPath(path.slice("/object/sign/".length));
      const token = url.searchParams.get("token");
      if (!target || !token) return storageError(400, "InvalidSignature", "Missing token");
      try {
        const signed = await deps.keys.verifyUrl(token);
        if (signed !== `${target.bucket}/${target.name}`) throw new Error("url mismatch");
      } catch {
        return storageError(400, "InvalidSignature", "The signature is invalid or has expired");
      }
      return serveFile(target.bucket, target.name, url.searchParams.get("download"));
    }

    const token = /^Bearer\s+(\S+)$/i.exec(req.headers.get("authorization") ?? "")?.[1];
    if (!token) {
      return storageError(
        400,
        "Unauthorized",
        "headers must have required property 'authorization'",
      );
    }
    let role: unknown;
    try {
      const credential = await deps.keys.verify(token);
      role = credential.kind === "api_key" ? credential.role : credential.claims.role;
    } catch {
      return storageError(400, "Unauthorized", "invalid signature");
    }
    if (role !== "service_role") {
      return storageError(
        403,
        "Unauthorized",
        "The local storage API accepts the service role only",
      );
    }

    if (path === "/bucket" && req.method === "GET") {
      return Response.json(await deps.sql()`select * from storage.buckets order by id`);
    }
    if (path === "/bucket" && req.method === "POST") {
      const body = await req.json() as {
        id?: string;
        name?: string;
        public?: boolean;
        file_size_limit?: number;
      };
      const id = body.id ?? body.name;
      if (!id) return storageError(400, "invalid_request", "Bucket name is required");
      const rows = await deps.sql()`
        insert into storage.buckets (id, name, public, file_size_limit)
        values (${id}, ${body.name ?? id}, ${body.public ?? false}, ${body.file_size_limit ?? null})
        on conflict do nothing returning id`;
      if (rows.length === 0) return storageError(409, "Duplicate", "The resource already exists");
      return Response.json({ name: id });
    }
    if (path.startsWith("/object/sign/") && req.method === "POST") {
      const target = splitObjectPath(path.slice("/object/sign/".length));
      if (!target) return storageError(400, "invalid_request", "Invalid object path");
      const body = await req.json() as { expiresIn?: number };
      const [exists] = await deps.sql()`
        select 1 from storage.objects where bucket_id = ${target.bucket} and name = ${target.name}`;
      if (!exists) return storageError(404, "not_found", "Object not found");
      return sign(target.bucket, target.name, body.expiresIn ?? 60);
    }
    if (path.startsWith("/object/")) {
      let rest = path.slice("/object/".length);
      if (rest.startsWith("authenticated/")) rest = rest.slice("authenticated/".length);
      if (req.method === "DELETE" && !rest.includes("/")) {
        const body = await req.json() as { prefixes?: string[] };
        return remove(decodeURIComponent(rest), body.prefixes ?? []);
      }
      const target = splitObjectPath(rest);
      if (!target) return storageError(400, "invalid_request", "Invalid object path");
      if (req.method === "GET") {
        return serveFile(target.bucket, target.name, url.searchParams.get("download"));
      }
      if (req.method === "POST") {
        return upload(req, target.bucket, target.name, req.headers.get("x-upsert") === "true");
      }
      if (req.method === "PUT") return upload(req, target.bucket, target.name, true);
    }
    return storageError(404, "not_found", `no route for ${req.method} /storage/v1${path}`);
  }

  return { handle };
}
