/**
 * Receives the files of an upload request: the multipart body is read as a stream, each file is
 * checked (uploads/checks.ts) while its bytes go on to Storage, so no file and no request
 * is ever held in memory. A file is uploaded once its first bytes decide its type; if a later
 * check refuses it, its upload is aborted. One refused file refuses the request: the rest of the
 * body is read (to answer with the right error), and every object this request stored is removed.
 * Content the workbench already has (same SHA-256) is not stored again.
 */
import { type CheckedFile, FileCheck, type UploadLimits } from "./uploads/checks.ts";
import { MIME_TYPES } from "./uploads/file_type.ts";
import { HttpError } from "../../shared/http.ts";
import { log } from "../../shared/log.ts";
import { boundaryOf, MultipartError, type Part, readMultipart } from "./uploads/multipart.ts";
import { type ObjectStore, WORKBENCH_BUCKET, workbenchObjectPath } from "../../shared/storage.ts";

/** A file that passed: stored at `path`, or not stored (`path` null) as its content is known. */
export interface Received {
  file: CheckedFile;
  fileId: string;
  path: string | null;
}

export interface ReceiveOptions {
  workbenchId: string;
  limits: UploadLimits;
  store: ObjectStore;
  /** True when the workbench already has a file with this content. */
  isKnown(sha256: string): Promise<boolean>;
}

export async function receiveUploads(req: Request, opts: ReceiveOptions): Promise<Received[]> {
  const { limits } = opts;
  const contentType = req.headers.get("content-type") ?? "";
  if (!contentType.toLowerCase().startsWith("multipart/form-data")) {
    throw new HttpError(415, "unsupported_media_type", "Upload files as multipart/form-data.");
  }
  if (Number(req.headers.get("content-length") ?? "0") > limits.maxRequestBytes) {
    throw requestTooLarge(limits.maxRequestBytes);
  }
  const boundary = boundaryOf(contentType);
  if (!boundary || !req.body) throw unreadable();

  const run = new UploadRun(opts);
  try {
    let files = 0;
    let refusal: HttpError | undefined;
    const body = limitBytes(req.body, limits.maxRequestBytes);
    for await (const part of readMultipart(body, boundary)) {
      if (part.name !== "file" || part.filename === undefined) continue; // other fields: skipped
      files++;
      // After a refusal the rest is only read through (the reader skips unread parts).
      if (refusal || files > limits.maxFilesPerRequest) continue;
      refusal = await run.receive(part);
    }
    if (files === 0) {
      throw new HttpError(
        400,
        "no_files",
        'Attach one or more files in the multipart field "file".',
      );
    }
    if (files > limits.maxFilesPerRequest) {
      throw new HttpError(
        413,
        "too_many_files",
        `Upload at most ${limits.maxFilesPerRequest} files at once.`,
      );
    }
    if (refusal) throw refusal;
    return run.received;
  } catch (err) {
    await removeObjects(opts.store, run.stored);
    throw err instanceof MultipartError ? unreadable() : err;
  } finally {
    await removeObjects(opts.store, run.abandoned);
  }
}

/** Removes objects, logging (not throwing) when Storage fails: these are leftovers. */
export async function removeObjects(store: ObjectStore, paths: string[]): Promise<void> {
  if (paths.length === 0) return;
  await store.remove(WORKBENCH_BUCKET, paths).catch((err) =>
    log.warn("could not remove uploaded objects", { paths, error: String(err) })
  );
}

/** The files of one request: what passed, what was stored, what was abandoned. */
class UploadRun {
  received: Received[] = [];
  /** Objects written by this request (removed if the request fails). */
  stored: string[] = [];
  /** Uploads stopped on purpose (removed in any case, should Storage have kept anything). */
  abandoned: string[] = [];
  #hashes = new Set<string>();

  constructor(private readonly opts: ReceiveOptions) {}

  /** Checks one file and stores it; returns its refusal, if any (other errors are thrown). */
  async receive(part: Part): Promise<HttpError | undefined> {
    const check = new FileCheck(part.filename ?? "", this.opts.limits);
    const ahead = await readAhead(check, part);
    if (check.refused) return await refusalOf(check, part);
    if (ahead.ended) {
      // A small file is checked whole before anything is stored.
      const file = await finishCheck(check);
      if (file instanceof HttpError) return file;
      if (await this.#isDuplicate(file.sha256)) this.#accept(file, null);
      else await this.#upload(check, part, ahead.chunks, file);
      return;
    }
    return await this.#upload(check, part, ahead.chunks);
  }

  async #isDuplicate(sha256: string): Promise<boolean> {
    return this.#hashes.has(sha256) || await this.opts.isKnown(sha256);
  }

  #accept(file: CheckedFile, path: string | null, fileId = crypto.randomUUID()): void {
    if (path) this.#hashes.add(file.sha256);
    this.received.push({ file, fileId, path });
  }

  /**
   * Streams the file to Storage: the chunks read ahead, then the rest of the part, each checked
   * on its way. `checked` is given when the whole file was read ahead; otherwise the checks end
   * with the part, and a refusal or known content aborts the upload.
   */
  async #upload(
    check: FileCheck,
    part: Part,
    ahead: Uint8Array[],
    checked?: CheckedFile,
  ): Promise<HttpError | undefined> {
    const fileId = crypto.randomUUID();
    const path = workbenchObjectPath(this.opts.workbenchId, fileId, check.name);
    let file = checked;
    let stop: Stop | undefined;
    const body = new ReadableStream<Uint8Array>({
      pull: async (controller) => {
        try {
          const early = ahead.shift();
          if (early) return controller.enqueue(early); // checked while reading ahead
          const chunk = file ? null : await part.body.read();
          if (chunk !== null) {
            await pushChecked(check, chunk);
            return controller.enqueue(chunk);
          }
          if (!file) {
            const finished = await finishCheck(check);
            if (finished instanceof HttpError) throw new Stop("refused", finished);
            file = finished;
            if (await this.#isDuplicate(file.sha256)) throw new Stop("duplicate");
          }
          controller.close();
        } catch (err) {
          stop = err instanceof Stop ? err : new Stop("failed", err);
          controller.error(err);
        }
      },
    }, { highWaterMark: 0 });

    const mimeType = file?.mimeType ?? MIME_TYPES[check.type!];
    this.stored.push(path);
    let storageError: unknown;
    await this.opts.store.upload(WORKBENCH_BUCKET, path, body, mimeType).catch((err) =>
      storageError = err
    );
    if (!stop && !storageError && file) {
      this.#accept(file, path, fileId);
      return;
    }
    // Not kept: Storage aborted the upload, and the path is removed in case it kept anything.
    this.stored = this.stored.filter((p) => p !== path);
    this.abandoned.push(path);
    if (!stop) throw storageError ?? new Error("Storage took the upload before its end");
    if (stop.reason === "duplicate") {
      this.#accept(file!, null);
      return;
    }
    if (stop.reason === "refused") return stop.error as HttpError;
    if (stop.reason === "oversized") return await refusalOf(check, part);
    throw stop.error; // reading the request failed
  }
}

/** Why an upload was stopped before its end. */
class Stop extends Error {
  constructor(
    readonly reason: "refused" | "oversized" | "duplicate" | "failed",
    readonly error?: unknown,
  ) {
    super(reason);
  }
}

/** Pushes a chunk that is being sent on; stops the upload once the file is sure to be refused. */
async function pushChecked(check: FileCheck, chunk: Uint8Array): Promise<void> {
  await check.push(chunk);
  if (check.refused) throw new Stop("oversized");
}

/** Reads until the first bytes decide the file's type (a small file: to its end). */
async function readAhead(check: FileCheck, part: Part) {
  const chunks: Uint8Array[] = [];
  while (check.type === undefined && !check.refused) {
    const chunk = await part.body.read();
    if (chunk === null) return { chunks, ended: true };
    await check.push(chunk);
    chunks.push(chunk);
  }
  return { chunks, ended: false };
}

/** The checked file, or the HttpError that refuses it. */
async function finishCheck(check: FileCheck): Promise<CheckedFile | HttpError> {
  try {
    return await check.finish();
  } catch (err) {
    if (err instanceof HttpError) return err;
    throw err;
  }
}

/** Reads the rest of a refused file (its size may be what refuses it) and says why. */
async function refusalOf(check: FileCheck, part: Part): Promise<HttpError> {
  for (let chunk = await part.body.read(); chunk !== null; chunk = await part.body.read()) {
    await check.push(chunk);
  }
  const outcome = await finishCheck(check);
  if (outcome instanceof HttpError) return outcome;
  throw new Error("a refused file passed its checks"); // `refused` is final: unreachable
}

/** The request body, failing with 413 past `max` bytes and with 400 when it cannot be read. */
function limitBytes(body: ReadableStream<Uint8Array>, max: number): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  let received = 0;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const next = await reader.read().catch(() => null);
      if (next === null) return controller.error(unreadable()); // e.g. the client went away
      if (next.done) return controller.close();
      received += next.value.byteLength;
      if (received > max) {
        await reader.cancel().catch(() => {});
        return controller.error(requestTooLarge(max));
      }
      controller.enqueue(next.value);
    },
    cancel: (reason) => reader.cancel(reason),
  }, { highWaterMark: 0 });
}

const requestTooLarge = (max: number) =>
  new HttpError(
    413,
    "request_too_large",
    `An upload request may carry at most ${max} bytes; send fewer files at once.`,
  );

const unreadable = () =>
  new HttpError(400, "invalid_multipart", "The multipart body could not be read.");
