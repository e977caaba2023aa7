/**
 * Office Open XML packages (DOCX, XLSX): parts by name, relationships, and driving the XML
 * tokenizer over a part, from its start or from a byte offset where an earlier step stopped.
 */
import {
  entryPieces,
  findEntry,
  readEntryText,
  readZipDirectory,
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
    await streamXml(this.bytes, entry, new XmlTokenizer(handler), 0);
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

/**
 * Feeds the entry's XML from byte `start` (which must be a token boundary) into `tok`, calling
 * `between` after each inflated piece (a step issues its inserts and checks its budget there).
 * Returns true when the whole part was tokenized, false when the handler stopped it.
 */
export async function streamXml(
  bytes: Uint8Array,
  entry: ZipEntry,
  tok: XmlTokenizer,
  start: number,
  between?: () => Promise<void>,
): Promise<boolean> {
  const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: start > 0 });
  for await (const piece of entryPieces(bytes, entry, start)) {
    tok.push(decoder.decode(piece, { stream: true }));
    tok.run(false);
    if (tok.stopped) return false;
    if (between) {
      await between();
      if (tok.stopped) return false;
    }
  }
  tok.push(decoder.decode());
  tok.run(true);
  if (!tok.stopped) tok.checkComplete();
  return !tok.stopped;
}
