/**
 * Office Open XML packages (DOCX, XLSX): parts by name, relationships, and driving the XML
 * tokenizer over a part, from its start or from a byte offset where an earlier step stopped.
 */
import {
  entryPieces,
  EntryReader,
  findEntry,
  readEntryText,
  readZipDirectory,
  type SavedPoint,
  type ZipEntry,
} from "./zip_reader.ts";
import { type XmlHandler, XmlTokenizer } from "./xml.ts";

export interface Relationship {
  id: string;
  type: string;
  /** The target part's name, resolved against the source part ("xl/worksheets/sheet1.xml"). */
  target: string;
}

export class OoxmlPackage {
  private constructor(
    readonly bytes: Uint8Array,
    private readonly entries: Map<string, ZipEntry>,
  ) {}

  /** Reads the ZIP directory; throws (ZipFormatError) when the bytes are not a ZIP. */
  static open(bytes: Uint8Array): OoxmlPackage {
    return new OoxmlPackage(bytes, readZipDirectory(bytes));
  }

  part(name: string): ZipEntry | undefined {
    return findEntry(this.entries, name);
  }

  /** The whole (small) part as text, or undefined when it is missing. */
  async text(name: string): Promise<string | undefined> {
    const entry = this.part(name);
    return entry ? await readEntryText(this.bytes, entry) : undefined;
  }

  /** Tokenizes a whole (small) part with `handler`; false when the part is missing. */
  async parse(name: string, handler: XmlHandler): Promise<boolean> {
    const entry = this.part(name);
    if (!entry) return false;
    const decoder = new TextDecoder("utf-8", { fatal: true });
    const tok = new XmlTokenizer(handler);
    for await (const piece of entryPieces(this.bytes, entry)) {
      tok.push(decoder.decode(piece, { stream: true }));
      tok.run(false);
    }
    tok.push(decoder.decode());
    tok.run(true);
    tok.checkComplete();
    return true;
  }

  /** The relationships of `source` ("" for the package), from its `_rels/*.rels` part. */
  async relationships(source: string): Promise<Relationship[]> {
    const slash = source.lastIndexOf("/");
    const folder = slash >= 0 ? source.slice(0, slash + 1) : "";
    const relsName = `${folder}_rels/${source.slice(slash + 1)}.rels`;
    const rels: Relationship[] = [];
    await this.parse(relsName, {
      open(name, tok) {
        if (name !== "Relationship" || tok.attr("TargetMode") === "External") return;
        const id = tok.attr("Id");
        const type = tok.attr("Type");
        const target = tok.attr("Target");
        if (id && type && target) {
          rels.push({ id, type, target: resolvePartName(folder, target) });
        }
      },
      close() {},
      text() {},
    });
    return rels;
  }

  /** The target of the package's first relationship whose type ends with `/typeSuffix`. */
  async mainPart(typeSuffix: string): Promise<string | undefined> {
    const rels = await this.relationships("");
    return rels.find((r) => r.type.endsWith(`/${typeSuffix}`))?.target;
  }
}

/** Resolves a relationship target against the source part's folder ("xl/" + "../a.xml"). */
export function resolvePartName(folder: string, target: string): string {
  const parts = (target.startsWith("/") ? target.slice(1) : folder + target).split("/");
  const out: string[] = [];
  for (const p of parts) {
    if (p === "..") out.pop();
    else if (p !== "." && p !== "") out.push(p);
  }
  return out.join("/");
}

/** Where a read of a part starts: a byte offset at a token boundary, and an inflate checkpoint. */
export interface PartPosition {
  offset: number;
  point?: SavedPoint;
}

/** How a read of a part ended. */
export interface PartRead {
  /** The whole part was tokenized (the handler did not stop it). */
  complete: boolean;
  /** Where to resume after the last token processed (when stopped). */
  next(): PartPosition;
}

/**
 * Feeds the entry's XML from `from` into `tok` (made with the same start offset), calling
 * `between` after each piece (a step issues its inserts and checks its budget there).
 */
export async function streamXml(
  bytes: Uint8Array,
  entry: ZipEntry,
  tok: XmlTokenizer,
  from: PartPosition,
  between?: () => Promise<void>,
): Promise<PartRead> {
  const reader = new EntryReader(bytes, entry, from.offset, from.point);
  const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: from.offset > 0 });
  const stopped = (): PartRead => ({
    complete: false,
    next() {
      const offset = tok.resumeOffset();
      const point = reader.checkpoint(offset);
      return point ? { offset, point } : { offset };
    },
  });
  for (const piece of reader.pieces()) {
    tok.push(decoder.decode(piece, { stream: true }));
    tok.run(false);
    if (tok.stopped) return stopped();
    reader.release(tok.resumeOffset());
    if (between) await between();
  }
  tok.push(decoder.decode());
  tok.run(true);
  if (tok.stopped) return stopped();
  tok.checkComplete();
  return { complete: true, next: () => ({ offset: entry.size }) };
}
