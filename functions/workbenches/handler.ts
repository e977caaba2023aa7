/**
 * Workbenches and their files: create and list workbenches, upload files (multipart, field
 * `file`, repeatable), list and delete files, and summarise indexing status. Reads run as the
 * caller (RLS); writes that clients may not do directly (file rows, storage) use the service role
 * after the caller's workbench role has been checked. Other tenants' workbenches are 404.
 */
import { z } from "zod";
import { type JwtVerifier, requireUser } from "../../shared/auth.ts";
import type { Claims } from "../../shared/auth.ts";
import { asCaller as asCallerWith, type Sql, type Tx } from "../../shared/db.ts";
import { HttpError, json, readJson, readQuery, router, validate } from "../../shared/http.ts";
import { log } from "../../shared/log.ts";
import { paged, PageQuery } from "../../shared/pagination.ts";
import {
  detectFileType,
  type FileType,
  MIME_TYPES,
  ParseError,
  pdfPageCount,
  zipExpandedSize,
  zipInflatedSize,
} from "../../shared/parsers/mod.ts";
import { type ObjectStore, WORKBENCH_BUCKET, workbenchObjectPath } from "../../shared/storage.ts";

export interface UploadLimits {
  maxFileBytes: number;
  /** The whole multipart body (an Edge Function has 256 MB of memory). */
  maxRequestBytes: number;
  maxFilesPerRequest: number;
  maxPdfPages: number;
  /** What a DOCX or XLSX may expand to (zip bombs). */
  maxExpandedBytes: number;
}

export const DEFAULT_LIMITS: UploadLimits = {
  maxFileBytes: 20 * 1024 * 1024,
  maxRequestBytes: 50 * 1024 * 1024,
  maxFilesPerRequest: 20,
  maxPdfPages: 200,
  maxExpandedBytes: 150 * 1024 * 1024,
};

export interface WorkbenchesDeps {
  sql: () => Sql;
  verifier: JwtVerifier;
  store: ObjectStore;
  limits?: UploadLimits;
}

type Role = "owner" | "editor" | "viewer";
const RANK: Record<Role, number> = { viewer: 0, editor: 1, owner: 2 };
const NOT_FOUND = "Workbench not found.";

const Id = z.uuid();
const WorkbenchInput = z.object({
  name: z.string().trim().min(1).max(200),
  description: z.string().trim().max(2000).optional(),
  company_id: z.uuid().optional(),
});
const ListQuery = PageQuery.extend({ companyId: z.uuid().optional() });
const FilesQuery = PageQuery.extend({
  status: z.enum(["pending", "processing", "indexed", "error"]).optional(),
});

/** Progress: 20 % for extraction (PDF pages), 80 % for embeddings; 1 once indexed. */
const FILE_COLUMNS = `id, workbench_id, file_name, file_type, mime_type, size_bytes, content_hash,
  status, error_message, page_count, attempts, chunks_done, chunks_total, created_at, updated_at,
  indexed_at,
  round(case when status = 'indexed' then 1 else
    0.2 * case when progress ->> 'phase' = 'embed' then 1
               when file_type = 'pdf' and coalesce(page_count, 0) > 0
                 then least(1, (coalesce((progress ->> 'next_page')::numeric, 1) - 1) / page_count)
               else 0 end
    + 0.8 * case when coalesce(chunks_total, 0) > 0 then chunks_done::numeric / chunks_total
                 else 0 end
  end, 3)::float8 as progress`;

// deno-lint-ignore no-explicit-any
function fileJson(row: any) {
  return { ...row, size_bytes: Number(row.size_bytes) };
}

async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", bytes as BufferSource);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

function displayName(name: string): string {
  const base = (name.split(/[\\/]/).pop() ?? "").trim();
  return (base || "untitled").slice(0, 255);
}

interface Candidate {
  name: string;
  bytes: Uint8Array;
  type: FileType;
  hash: string;
  pages: number | null;
}

export function createWorkbenchesHandler(deps: WorkbenchesDeps) {
  const limits = deps.limits ?? DEFAULT_LIMITS;

  const asCaller = <T>(claims: Claims, fn: (tx: Tx) => Promise<T>) =>
    asCallerWith(deps.sql(), claims, fn, NOT_FOUND);

  /** The caller's role on the workbench: 404 without access, 403 below `min`. */
  const requireRole = async (claims: Claims, workbenchId: string, min: Role): Promise<Role> => {
    const role = await asCaller(claims, async (tx) => {
      const [r] = await tx`select public.workbench_role(${workbenchId}) as role`;
      return r.role as Role | null;
    });
    if (!role) throw new HttpError(404, "not_found", NOT_FOUND);
    if (RANK[role] < RANK[min]) {
      throw new HttpError(
        403,
        "forbidden",
        `This needs the ${min} role on the workbench; you are a ${role}.`,
      );
    }
    return role;
  };

  /** The signed-in caller and the validated workbench id; with `min`, also their role check. */
  const access = async (req: Request, rawId: string, min?: Role) => {
    const user = await requireUser(req, deps.verifier);
    const id = validate(Id, rawId, "workbench id");
    if (min) await requireRole(user.claims, id, min);
    return { user, id };
  };

  async function readCandidates(req: Request): Promise<Candidate[]> {
    const type = req.headers.get("content-type") ?? "";
    if (!type.startsWith("multipart/form-data")) {
      throw new HttpError(415, "unsupported_media_type", "Upload files as multipart/form-data.");
    }
    const tooLarge = () =>
      new HttpError(
        413,
        "request_too_large",
        `An upload request may carry at most ${limits.maxRequestBytes} bytes; send fewer files at once.`,
      );
    if (Number(req.headers.get("content-length") ?? "0") > limits.maxRequestBytes) throw tooLarge();
    // Count while reading: a chunked body has no Content-Length to trust.
    const parts: Uint8Array[] = [];
    let received = 0;
    const reader = req.body?.getReader();
    while (reader) {
      const { value, done } = await reader.read();
      if (done) break;
      received += value.byteLength;
      if (received > limits.maxRequestBytes) {
        await reader.cancel();
        throw tooLarge();
      }
      parts.push(value);
    }
    let form: FormData;
    try {
      const body = new Blob(parts as BlobPart[]);
      parts.length = 0; // the raw chunks are not needed once in the Blob
      form = await new Response(body, { headers: { "content-type": type } }).formData();
    } catch {
      throw new HttpError(400, "invalid_multipart", "The multipart body could not be read.");
    }
    const files = form.getAll("file").filter((v): v is File => v instanceof File);
    if (files.length === 0) {
      throw new HttpError(
        400,
        "no_files",
        'Attach one or more files in the multipart field "file".',
      );
    }
    if (files.length > limits.maxFilesPerRequest) {
      throw new HttpError(
        413,
        "too_many_files",
        `Upload at most ${limits.maxFilesPerRequest} files at once.`,
      );
    }
    const candidates: Candidate[] = [];
    for (const file of files) {
      const name = displayName(file.name);
      if (file.size > limits.maxFileBytes) {
        throw new HttpError(
          413,
          "file_too_large",
          `${name} is ${file.size} bytes; the limit is ${limits.maxFileBytes} bytes (20 MB).`,
          { file_name: name, size_bytes: file.size, limit_bytes: limits.maxFileBytes },
        );
      }
      const bytes = new Uint8Array(await file.arrayBuffer());
      const detected = detectFileType(bytes, name);
      if (detected.type === null) {
        throw new HttpError(
          415,
          detected.reason === "mismatch" ? "file_type_mismatch" : "unsupported_file_type",
          detected.message,
          { file_name: name },
        );
      }
      const type = detected.type;
      if (type === "docx" || type === "xlsx") {
        // The declared sizes first (free), then the real inflated size (the directory can lie).
        const declared = zipExpandedSize(bytes) ?? 0;
        const expanded = declared > limits.maxExpandedBytes
          ? declared
          : zipInflatedSize(bytes, limits.maxExpandedBytes) ?? 0;
        if (expanded > limits.maxExpandedBytes) {
          throw new HttpError(
            413,
            "document_too_large",
            `${name} expands to more than ${limits.maxExpandedBytes} bytes of content; that is the limit.`,
            { file_name: name },
          );
        }
      }
      let pages: number | null = null;
      if (type === "pdf") {
        try {
          pages = await pdfPageCount(bytes);
        } catch (err) {
          // An unreadable PDF is still stored: indexing marks it `error` with the reason.
          if (!(err instanceof ParseError)) throw err;
        }
        if (pages !== null && pages > limits.maxPdfPages) {
          throw new HttpError(
            413,
            "pdf_too_many_pages",
            `${name} has ${pages} pages; the limit is ${limits.maxPdfPages} pages per PDF.`,
            { file_name: name, page_count: pages, limit_pages: limits.maxPdfPages },
          );
        }
      }
      candidates.push({ name, bytes, type, hash: await sha256Hex(bytes), pages });
    }
    return candidates;
  }

  async function store(workbenchId: string, userId: string, c: Candidate) {
    const sql = deps.sql();
    const existing = await sql`select ${sql.unsafe(FILE_COLUMNS)} from public.workbench_files
      where workbench_id = ${workbenchId} and content_hash = ${c.hash}`;
    if (existing.length) {
      if (existing[0].status !== "error") return { ...fileJson(existing[0]), duplicate: true };
      // Uploading a failed file again retries it (once, however many uploads race).
      const [{ requeued }] = await sql`select private.requeue_file(${existing[0].id}) as requeued`;
      const [again] = await sql`select ${sql.unsafe(FILE_COLUMNS)} from public.workbench_files
        where id = ${existing[0].id}`;
      return { ...fileJson(again), duplicate: true, requeued };
    }

    const fileId = crypto.randomUUID();
    const path = workbenchObjectPath(workbenchId, fileId, c.name);
    await deps.store.upload(WORKBENCH_BUCKET, path, c.bytes, MIME_TYPES[c.type]);
    try {
      const [row] = await sql`
        insert into public.workbench_files (id, workbench_id, uploaded_by, file_name, file_type,
          mime_type, size_bytes, content_hash, storage_path, page_count)
        values (${fileId}, ${workbenchId}, ${userId}, ${c.name}, ${c.type}, ${MIME_TYPES[c.type]},
          ${c.bytes.byteLength}, ${c.hash}, ${path}, ${c.pages})
        on conflict (workbench_id, content_hash) do nothing
        returning ${sql.unsafe(FILE_COLUMNS)}`;
      if (row) return { ...fileJson(row), duplicate: false };
    } catch (err) {
      await deps.store.remove(WORKBENCH_BUCKET, [path]).catch(() => {});
      throw err;
    }
    // Someone uploaded the same content concurrently: keep theirs.
    await deps.store.remove(WORKBENCH_BUCKET, [path]).catch(() => {});
    const [row] = await sql`select ${sql.unsafe(FILE_COLUMNS)} from public.workbench_files
      where workbench_id = ${workbenchId} and content_hash = ${c.hash}`;
    return { ...fileJson(row), duplicate: true };
  }

  return router([
    {
      method: "POST",
      pattern: "/",
      handler: async (req) => {
        const user = await requireUser(req, deps.verifier);
        const input = await readJson(req, WorkbenchInput);
        const row = await asCaller(user.claims, async (tx) => {
          const [w] = await tx`
            insert into public.workbench (name, description, company_id)
            values (${input.name}, ${input.description ?? null}, ${input.company_id ?? null})
            returning id, name, description, owner_user_id, company_id, created_at, updated_at`;
          return w;
        }).catch((err) => {
          if (err instanceof HttpError && err.status === 404 && input.company_id) {
            throw new HttpError(404, "not_found", "Company not found.");
          }
          throw err;
        });
        return json({ ...row, role: "owner" }, 201);
      },
    },
    {
      method: "GET",
      pattern: "/",
      handler: async (req, ctx) => {
        const user = await requireUser(req, deps.verifier);
        const q = readQuery(ctx.url, ListQuery);
        const rows = await asCaller(
          user.claims,
          (tx) =>
            tx`select w.id, w.name, w.description, w.owner_user_id, w.company_id, w.created_at,
                    w.updated_at, public.workbench_role(w.id) as role,
                    (select count(*)::int from public.workbench_files f where f.workbench_id = w.id)
                      as file_count
               from public.workbench w
              where (${q.companyId ?? null}::uuid is null or w.company_id = ${
              q.companyId ?? null
            }::uuid)
              order by w.created_at desc, w.id
              limit ${q.limit + 1} offset ${q.offset}`,
        );
        const { items, next_offset } = paged([...rows], q);
        return json({ workbenches: items, next_offset });
      },
    },
    {
      method: "GET",
      pattern: "/:id",
      handler: async (req, ctx) => {
        const { user, id } = await access(req, ctx.params.id);
        const [row] = await asCaller(
          user.claims,
          (tx) =>
            tx`select w.id, w.name, w.description, w.owner_user_id, w.company_id, w.created_at,
                    w.updated_at, public.workbench_role(w.id) as role
               from public.workbench w where w.id = ${id}`,
        );
        if (!row) throw new HttpError(404, "not_found", NOT_FOUND);
        return json(row);
      },
    },
    {
      method: "POST",
      pattern: "/:id/files",
      handler: async (req, ctx) => {
        const { user, id } = await access(req, ctx.params.id, "editor");
        const candidates = await readCandidates(req);
        const files = [];
        for (const c of candidates) files.push(await store(id, user.id, c));
        log.info("files uploaded", {
          workbench_id: id,
          files: files.map((f) => ({ id: f.id, type: f.file_type, duplicate: f.duplicate })),
        });
        const created = files.some((f) => !f.duplicate || ("requeued" in f && f.requeued));
        return json({ files }, created ? 201 : 200);
      },
    },
    {
      method: "GET",
      pattern: "/:id/files",
      handler: async (req, ctx) => {
        const { user, id } = await access(req, ctx.params.id, "viewer");
        const q = readQuery(ctx.url, FilesQuery);
        const rows = await asCaller(
          user.claims,
          (tx) =>
            tx`select ${tx.unsafe(FILE_COLUMNS)} from public.workbench_files
              where workbench_id = ${id}
                and (${q.status ?? null}::text is null or status = ${q.status ?? null})
              order by created_at desc, id
              limit ${q.limit + 1} offset ${q.offset}`,
        );
        const { items, next_offset } = paged([...rows], q);
        return json({ files: items.map(fileJson), next_offset });
      },
    },
    {
      method: "GET",
      pattern: "/:id/files/:fileId",
      handler: async (req, ctx) => {
        const { user, id } = await access(req, ctx.params.id);
        const fileId = validate(Id, ctx.params.fileId, "file id");
        const [row] = await asCaller(
          user.claims,
          (tx) =>
            tx`select ${tx.unsafe(FILE_COLUMNS)} from public.workbench_files
              where workbench_id = ${id} and id = ${fileId}`,
        );
        if (!row) throw new HttpError(404, "not_found", "File not found.");
        return json(fileJson(row));
      },
    },
    {
      method: "DELETE",
      pattern: "/:id/files/:fileId",
      handler: async (req, ctx) => {
        const { user, id } = await access(req, ctx.params.id, "editor");
        const fileId = validate(Id, ctx.params.fileId, "file id");
        // RLS deletes the row (its chunks cascade); then the stored object goes.
        const [row] = await asCaller(
          user.claims,
          (tx) =>
            tx`delete from public.workbench_files where workbench_id = ${id} and id = ${fileId}
             returning storage_path`,
        );
        if (!row) throw new HttpError(404, "not_found", "File not found.");
        // The delete is committed; if Storage fails now, storage_gc (queued by the row's delete
        // trigger) removes the object later.
        if (row.storage_path) {
          await deps.store.remove(WORKBENCH_BUCKET, [row.storage_path]).catch((err) =>
            log.warn("stored object left for storage_gc", {
              path: row.storage_path,
              error: String(err),
            })
          );
        }
        return new Response(null, { status: 204 });
      },
    },
    {
      method: "GET",
      pattern: "/:id/status",
      handler: async (req, ctx) => {
        const { user, id } = await access(req, ctx.params.id, "viewer");
        const { counts, errors, totals } = await asCaller(user.claims, async (tx) => ({
          counts: await tx`select status, count(*)::int as n from public.workbench_files
                            where workbench_id = ${id} group by status`,
          errors: await tx`select id as file_id, file_name, error_message, updated_at
                             from public.workbench_files
                            where workbench_id = ${id} and status = 'error'
                            order by updated_at desc limit 100`,
          totals: (await tx`select coalesce(sum(chunks_done), 0)::int as done,
                                   coalesce(sum(chunks_total), 0)::int as total
                              from public.workbench_files
                             where workbench_id = ${id} and status <> 'error'`)[0],
        }));
        const byStatus = { pending: 0, processing: 0, indexed: 0, error: 0 };
        for (const c of counts) byStatus[c.status as keyof typeof byStatus] = c.n;
        const fileCount = Object.values(byStatus).reduce((a, b) => a + b, 0);
        return json({
          workbench_id: id,
          files: fileCount,
          counts: byStatus,
          ready: fileCount > 0 && byStatus.pending + byStatus.processing === 0,
          chunks: { done: totals.done, total: totals.total },
          errors: [...errors],
        });
      },
    },
  ]);
}
