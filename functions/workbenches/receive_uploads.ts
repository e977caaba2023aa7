/**
 * Receives the files of an upload request: the multipart body is read as a stream, each file is
 * checked (shared/uploads/checks.ts) while its bytes go on to Storage, so no file and no request
 * is ever held in memory. A file is uploaded once its first bytes decide its type; if a later
 * check refuses it, its upload is aborted. One refused file refuses the request: the rest of the
 * body is read (to answer with the right error), and every object this request stored is removed.
 * Content the workbench already has (same SHA-256) is not stored again.
 */
import { type CheckedFile, FileCheck, type UploadLimits } from "../../shared/uploads/checks.ts";
import { MIME_TYPES } from "../../shared/uploads/file_type.ts";
import { HttpError } from "../../shared/http.ts";
import { log } from "../../shared/log.ts";
import { boundaryOf, type Part, readMultipart } from "../../shared/uploads/multipart.ts";
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

/** Removes objects, logging (not throwing) when Storage fails: these are leftovers. */
export async function removeObjects(store: ObjectStore, paths: string[]): Promise<void> {
  if (paths.length === 0) return;
  await store.remove(WORKBENCH_BUCKET, paths).catch((err) =>
    log.warn("could not remove uploaded objects", { paths, error: String(err) })
  );
}

/** The request body, failing with 413 as soon as it passes `max` bytes. */
function limitBytes(body: ReadableStream<Uint8Array>, max: number): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  let received = 0;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const { value, done } = await reader.read();
      if (done) return controller.close();
      received += value.byteLength;
      if (received > max) {
        await reader.cancel().catch(() => {});
        return controller.error(requestTooLarge(max));
      }
      controller.enqueue(value);
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

/** Reading errors as HTTP errors: ours (413) as they are, anything else a 400. */
function asReadError(err: unknown): HttpError {
  return err instanceof HttpError ? err : unreadable();
}

/** The parts of the body, whose reads fail only with HttpErrors. */
async function* parts(body: ReadableStream<Uint8Array>, boundary: string): AsyncGenerator<Part> {
  const source = readMultipart(body, boundary);
  for (;;) {
    const next = await source.next().catch((err) => {
      throw asReadError(err);
    });
    if (next.done) return;
    const part = next.value;
    const read = part.body.read;
    yield {
      ...part,
      body: { ...part.body, read: () => read().catch((e) => Promise.reject(asReadError(e))) },
    };
  }
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
    for await (const part of parts(limitBytes(req.body, limits.maxRequestBytes), boundary)) {
      if (part.name !== "file" || part.filename === undefined) continue; // other fields: skipped
      files++;
      // After a refusal the rest is only read through (the reader skips unread parts).
      if (refusal || files > limits.maxFilesPerRequest) continue;
      const outcome = await run.receive(part);
      if (outcome instanceof HttpError) refusal = outcome;
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
    throw err;
  } finally {
    await removeObjects(opts.store, run.abandoned);
  }
}

/** Why an upload stream was stopped before its end. */
const REFUSED = Symbol("refused");
const DUPLICATE = Symbol("duplicate");

/** A file's refusal, told apart from the errors that end the request at once. */
class Refusal {
  constructor(readonly error: HttpError) {}
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

/** The files of one request: what was stored, what was abandoned, what passed. */
class UploadRun {
  received: Received[] = [];
  /** Objects written by this request (removed if the request fails). */
  stored: string[] = [];
  /** Uploads aborted on purpose (removed in any case, should anything have been kept). */
  abandoned: string[] = [];
  #hashes = new Set<string>();

  constructor(private readonly opts: ReceiveOptions) {}

  async #isDuplicate(sha256: string): Promise<boolean> {
    return this.#hashes.has(sha256) || await this.opts.isKnown(sha256);
  }

  /** Checks one file and stores it; a refusal is returned (other errors are thrown). */
  async receive(part: Part): Promise<HttpError | void> {
    const check = new FileCheck(part.filename ?? "", this.opts.limits);
    // Read ahead until the first bytes decide the type (a small file: to its end).
    const ahead: Uint8Array[] = [];
    let ended = false;
    while (check.type === undefined && !check.refused) {
      const chunk = await part.body.read();
      if (chunk === null) {
        ended = true;
        break;
      }
      await check.push(chunk);
      ahead.push(chunk);
    }
    if (check.refused) return await this.#refusal(check, part);
    let file: CheckedFile | undefined;
    if (ended) {
      const finished = await finishCheck(check);
      if (finished instanceof HttpError) return finished;
      file = finished;
      if (await this.#isDuplicate(file.sha256)) return this.#accept(file, null);
    }

    const fileId = crypto.randomUUID();
    const path = workbenchObjectPath(this.opts.workbenchId, fileId, check.name);
    let stop: unknown;
    const body = new ReadableStream<Uint8Array>({
      pull: async (controller) => {
        try {
          const queued = ahead.shift();
          if (queued) return controller.enqueue(queued);
          const chunk = ended ? null : await part.body.read();
          if (chunk !== null) {
            await check.push(chunk);
            if (check.refused) throw REFUSED;
            return controller.enqueue(chunk);
          }
          if (!file) {
            const finished = await finishCheck(check);
            if (finished instanceof HttpError) throw new Refusal(finished);
            file = finished;
            if (await this.#isDuplicate(file.sha256)) throw DUPLICATE;
          }
          controller.close();
        } catch (err) {
          stop = err;
          controller.error(err);
        }
      },
    }, { highWaterMark: 0 });

    this.stored.push(path);
    try {
      const mimeType = file?.mimeType ?? MIME_TYPES[check.type!];
      await this.opts.store.upload(WORKBENCH_BUCKET, path, body, mimeType);
      if (stop === undefined && file) {
        this.#hashes.add(file.sha256);
        return this.#accept(file, path, fileId);
      }
    } catch (err) {
      if (stop === undefined) throw err; // Storage failed
    }
    // The upload was stopped on purpose: nothing of it is to be kept.
    this.stored.pop();
    this.abandoned.push(path);
    if (stop === DUPLICATE) return this.#accept(file!, null);
    if (stop === REFUSED) return await this.#refusal(check, part);
    if (stop instanceof Refusal) return stop.error;
    throw stop;
  }

  #accept(file: CheckedFile, path: string | null, fileId = crypto.randomUUID()): void {
    this.received.push({ file, fileId, path });
  }

  /** Reads the rest of a refused file (its size may be what refuses it) and says why. */
  async #refusal(check: FileCheck, part: Part): Promise<HttpError> {
    for (let chunk = await part.body.read(); chunk !== null; chunk = await part.body.read()) {
      await check.push(chunk);
    }
    const finished = await finishCheck(check);
    if (finished instanceof HttpError) return finished;
    throw new Error("a refused file passed its checks"); // unreachable: `refused` is final
  }
}
