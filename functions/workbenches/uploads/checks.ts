/**
 * The checks an uploaded file must pass, run on its bytes as they stream past (nothing here does
 * I/O, and nothing holds a whole file): size, type (extension and content must agree, decided from
 * the first bytes; a ZIP's entries decide between Word document and workbook), real expanded size
 * of a DOCX/XLSX (inflated and counted, never kept), page count of a PDF (read from its index) and
 * what its compressed streams inflate to (counted, never kept), and the SHA-256 that identifies
 * duplicates.
 *
 * Refusals are HttpErrors (413/415) with the codes clients see.
 */
import { createHash, type Hash } from "node:crypto";
import { HttpError } from "../../../shared/http.ts";
import { hasVisibleText, stripBidi, stripControls } from "../../../shared/validation.ts";
import {
  decideType,
  type FileType,
  kindOfHead,
  kindOfZip,
  MIME_TYPES,
  SNIFF_BYTES,
  typeFromExtension,
} from "./file_type.ts";
import { countPdfPages, type PdfBytes } from "./pdf_pages.ts";
import { PdfStreamInspector } from "./pdf_streams.ts";
import { ZipInspector } from "./zip_inspector.ts";

export interface UploadLimits {
  maxFileBytes: number;
  /** The whole multipart body, counted while it is read. */
  maxRequestBytes: number;
  maxFilesPerRequest: number;
  maxPdfPages: number;
  /** What a DOCX or XLSX may expand to (zip bombs). */
  maxExpandedBytes: number;
  /** What a PDF's compressed streams other than images may inflate to, in all (PDF bombs). */
  maxPdfInflatedBytes: number;
}

export const DEFAULT_LIMITS: UploadLimits = {
  maxFileBytes: 20 * 1024 * 1024,
  maxRequestBytes: 50 * 1024 * 1024,
  maxFilesPerRequest: 20,
  maxPdfPages: 200,
  maxExpandedBytes: 150 * 1024 * 1024,
  maxPdfInflatedBytes: 100 * 1024 * 1024,
};

/**
 * A PDF's page count is read from its first and last `pdfWindowBytes` (the whole file when it is
 * smaller than both together); an index outside them means no count at upload.
 */
export const DEFAULT_PDF_WINDOW_BYTES = 4 * 1024 * 1024;

/** What a file that passed is stored as. */
export interface CheckedFile {
  name: string;
  type: FileType;
  mimeType: string;
  size: number;
  sha256: string;
  /** PDFs whose page count could be read; null otherwise (the worker counts). */
  pages: number | null;
}

/**
 * The name shown for a file: its base name, NFC, without control or bidirectional formatting
 * characters (`\u202etxt.exe` would display as `exe.txt`), trimmed, at most 255 characters;
 * `untitled` when nothing visible is left.
 */
export function displayName(name: string): string {
  const base = stripControls(stripBidi(name.normalize("NFC")).split(/[\\/]/).pop() ?? "").trim();
  return (hasVisibleText(base) ? base : "untitled").slice(0, 255);
}

function join(chunks: Uint8Array[], total: number): Uint8Array {
  if (chunks.length === 1) return chunks[0];
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** The first `limit` bytes of a stream, and the last `limit` bytes, as chunks (no copies). */
class Ends {
  head: Uint8Array[] = [];
  headBytes = 0;
  tail: Uint8Array[] = [];
  tailBytes = 0;
  constructor(readonly limit: number) {}

  push(chunk: Uint8Array): void {
    if (this.headBytes < this.limit) {
      const take = chunk.subarray(0, this.limit - this.headBytes);
      this.head.push(take);
      this.headBytes += take.length;
    }
    this.tail.push(chunk);
    this.tailBytes += chunk.length;
    while (this.tailBytes - this.tail[0].length >= this.limit) {
      this.tailBytes -= this.tail.shift()!.length;
    }
  }

  /** The file's bytes as one window when the ends cover it, else a head and a tail window. */
  windows(size: number): PdfBytes {
    const tailStart = size - this.tailBytes;
    if (tailStart <= this.headBytes) {
      const head = join(this.head, this.headBytes);
      const tail = join(this.tail, this.tailBytes);
      const whole = new Uint8Array(size);
      whole.set(tail, tailStart);
      whole.set(head.subarray(0, Math.min(head.length, size)));
      return { size, windows: [{ start: 0, bytes: whole }] };
    }
    return {
      size,
      windows: [
        { start: 0, bytes: join(this.head, this.headBytes) },
        { start: tailStart, bytes: join(this.tail, this.tailBytes) },
      ],
    };
  }
}

/**
 * Checks one file as its bytes arrive: `push()` each chunk in order, then `finish()`, which
 * resolves to what to store or throws the refusal. `type` is the type to store under as soon as
 * the first bytes decide it, and `refused` says early that `finish()` will throw, so a caller can
 * stop sending the file elsewhere (it should still push the rest, to count the size).
 */
export class FileCheck {
  readonly name: string;
  #limits: UploadLimits;
  #pdfWindowBytes: number;
  #size = 0;
  #hash: Hash = createHash("sha256");
  #head: Uint8Array[] = [];
  #headBytes = 0;
  #kind: ReturnType<typeof kindOfHead> | undefined;
  #type: FileType | undefined;
  #typeRefusal: HttpError | undefined;
  #zip: ZipInspector | undefined;
  /** A ZIP under an extension that is not docx/xlsx: refused once its entries name what it is. */
  #zipMismatch = false;
  #pdf: Ends | undefined;
  #pdfStreams: PdfStreamInspector | undefined;

  constructor(fileName: string, limits: UploadLimits = DEFAULT_LIMITS, opts: {
    pdfWindowBytes?: number;
  } = {}) {
    this.name = displayName(fileName);
    this.#limits = limits;
    this.#pdfWindowBytes = opts.pdfWindowBytes ?? DEFAULT_PDF_WINDOW_BYTES;
  }

  /** Bytes pushed so far. */
  get size(): number {
    return this.#size;
  }

  /** The type the file will be stored as, once known (a later refusal is still possible). */
  get type(): FileType | undefined {
    return this.#typeRefusal ? undefined : this.#type;
  }

  /** True when `finish()` is certain to throw whatever bytes come next. */
  get refused(): boolean {
    return this.#size > this.#limits.maxFileBytes || this.#typeRefusal !== undefined ||
      this.#zipMismatch || (this.#zip?.overCap ?? false) || (this.#pdfStreams?.overCap ?? false);
  }

  async push(chunk: Uint8Array): Promise<void> {
    this.#size += chunk.length;
    if (this.#size > this.#limits.maxFileBytes) {
      this.#release(); // from here on only the size matters
      return;
    }
    if (this.#typeRefusal) return;
    // A refused ZIP is still read, for its entry names (they say what it is).
    if (!this.refused) this.#hash.update(chunk);
    if (this.#kind === undefined) {
      this.#head.push(chunk);
      this.#headBytes += chunk.length;
      if (this.#headBytes >= SNIFF_BYTES) await this.#decide(true);
      return;
    }
    this.#pdf?.push(chunk);
    if (this.#pdfStreams) {
      this.#pdfStreams.push(chunk);
      await this.#pdfStreams.settle();
    }
    if (this.#zip) {
      this.#zip.push(chunk);
      await this.#zip.settle();
    }
  }

  async finish(): Promise<CheckedFile> {
    if (this.#size > this.#limits.maxFileBytes) {
      throw new HttpError(
        413,
        "file_too_large",
        `${this.name} is ${this.#size} bytes; the limit is ${this.#limits.maxFileBytes} bytes (${
          Math.round(this.#limits.maxFileBytes / 1024 / 1024)
        } MB).`,
        { file_name: this.name, size_bytes: this.#size, limit_bytes: this.#limits.maxFileBytes },
      );
    }
    if (this.#kind === undefined) await this.#decide(false);
    let pages: number | null = null;
    if (this.#zip) {
      const zip = await this.#zip.finish();
      const detected = decideType(this.name, zip.complete ? kindOfZip(zip.names) : "zip");
      if (detected.type === null) throw this.#refusal(detected.reason, detected.message);
      this.#type = detected.type;
      if (zip.overCap) {
        throw new HttpError(
          413,
          "document_too_large",
          `${this.name} expands to more than ${this.#limits.maxExpandedBytes} bytes of content; that is the limit.`,
          { file_name: this.name },
        );
      }
    }
    if (this.#typeRefusal) throw this.#typeRefusal;
    if (this.#pdfStreams && (await this.#pdfStreams.finish()).overCap) {
      throw new HttpError(
        413,
        "document_too_large",
        `${this.name} decompresses to more than ${this.#limits.maxPdfInflatedBytes} bytes of content; that is the limit.`,
        { file_name: this.name },
      );
    }
    if (this.#pdf) {
      const counted = countPdfPages(this.#pdf.windows(this.#size));
      pages = counted.pages;
      if (pages !== null && pages > this.#limits.maxPdfPages) {
        throw new HttpError(
          413,
          "pdf_too_many_pages",
          `${this.name} has ${pages} pages; the limit is ${this.#limits.maxPdfPages} pages per PDF.`,
          { file_name: this.name, page_count: pages, limit_pages: this.#limits.maxPdfPages },
        );
      }
    }
    const type = this.#type!;
    this.#release();
    return {
      name: this.name,
      type,
      mimeType: MIME_TYPES[type],
      size: this.#size,
      sha256: this.#hash.digest("hex"),
      pages,
    };
  }

  #refusal(reason: "unsupported" | "mismatch", message: string): HttpError {
    return new HttpError(
      415,
      reason === "mismatch" ? "file_type_mismatch" : "unsupported_file_type",
      message,
      { file_name: this.name },
    );
  }

  /** Decides the kind from the first bytes (`more`: the file goes on after them). */
  async #decide(more: boolean): Promise<void> {
    const head = join(this.#head, this.#headBytes);
    const chunks = this.#head;
    this.#head = [];
    this.#kind = kindOfHead(head, more);
    const claimed = typeFromExtension(this.name);
    if (this.#kind === "zip") {
      // The entries decide: a Word document, a workbook, or another archive.
      this.#zip = new ZipInspector({ inflateCap: this.#limits.maxExpandedBytes });
      if (claimed === "docx" || claimed === "xlsx") this.#type = claimed;
      else if (claimed !== null) {
        this.#zipMismatch = true; // refused; the entries still say what it is
        this.#zip.stopInflating();
      }
      for (const c of chunks) this.#zip.push(c);
      await this.#zip.settle();
      return;
    }
    const detected = decideType(this.name, this.#kind);
    if (detected.type === null) {
      this.#typeRefusal = this.#refusal(detected.reason, detected.message);
      return;
    }
    this.#type = detected.type;
    if (this.#kind === "pdf") {
      this.#pdf = new Ends(this.#pdfWindowBytes);
      this.#pdfStreams = new PdfStreamInspector({ cap: this.#limits.maxPdfInflatedBytes });
      for (const c of chunks) {
        this.#pdf.push(c);
        this.#pdfStreams.push(c);
      }
      await this.#pdfStreams.settle();
    }
  }

  #release(): void {
    this.#head = [];
    this.#pdf = undefined;
    this.#pdfStreams?.stop();
    this.#pdfStreams = undefined;
    this.#zip?.stopInflating();
  }
}
