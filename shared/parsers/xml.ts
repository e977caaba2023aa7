/**
 * A small SAX-style XML tokenizer for the Office Open XML readers (DOCX, XLSX).
 *
 * Text is pushed in pieces (decoded from an inflated ZIP entry) and tokenized into open tags, close
 * tags and text; nothing is kept but the unconsumed tail of the input. It tracks the UTF-8 byte
 * offset of every token so a reader can stop after any token and later resume at that offset (see
 * `resumeOffset()`), which is what makes extraction resumable across worker steps.
 *
 * Supported: elements, attributes (lazily decoded), the five predefined entities and character
 * references, CDATA (as text), comments, processing instructions and a DOCTYPE without an internal
 * subset (skipped). Namespaces are not resolved: names are compared as written ("w:p").
 */

/** Malformed XML. */
export class XmlError extends Error {
  override name = "XmlError";
}

export interface XmlHandler {
  /** An element starts; `tok.attr(name)` reads its attributes; `selfClosing` for `<a/>`. */
  open(name: string, tok: XmlTokenizer, selfClosing: boolean): void;
  /** An element ends (also called right after `open` for a self-closing element). */
  close(name: string, tok: XmlTokenizer): void;
  /** Character data (entities decoded); only delivered while `tok.wantText` is true. */
  text(text: string, tok: XmlTokenizer): void;
}

const ENTITY = /&(#x[0-9a-fA-F]+|#[0-9]+|amp|lt|gt|quot|apos);/g;
const NAMED: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };

/** Decodes the predefined entities and character references of XML. */
export function decodeXmlEntities(text: string): string {
  if (text.indexOf("&") < 0) return text;
  return text.replace(ENTITY, (whole, name: string) => {
    if (name[0] !== "#") return NAMED[name];
    const code = name[1] === "x" ? parseInt(name.slice(2), 16) : parseInt(name.slice(1), 10);
    return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
  });
}

/** The UTF-8 length of `text.slice(from, to)`. */
export function utf8Length(text: string, from = 0, to = text.length): number {
  let n = 0;
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < to) {
      n += 4; // a surrogate pair is one 4-byte sequence
      i++;
    } else n += 3;
  }
  return n;
}

function isSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 13;
}

export class XmlTokenizer {
  /** Set by the handler: whether text between tags is decoded and delivered. */
  wantText = false;
  private buf = "";
  private pos = 0;
  /** Byte offset (in the whole entry) of buf[0]. */
  private bufByte: number;
  /** Whether buf is pure ASCII (then char offsets are byte offsets). */
  private ascii = true;
  private stopRequested = false;
  /** Bounds of the current tag's attributes in buf, for attr(). */
  private attrFrom = 0;
  private attrTo = 0;
  /** Total input consumed, in bytes, since construction (for budgets). */
  private consumedBytes = 0;
  /** Element names seen, by length and first character: reused instead of sliced again. */
  private readonly names = new Map<number, string[]>();
  /** Elements opened since the start of tokenizing (to check that they close in order). */
  private readonly open: string[] = [];
  private readonly fromStart: boolean;

  /**
   * `startByte`: where the input starts in the document. Started mid-document (a resumed read),
   * the elements already open there may close without having been seen.
   */
  constructor(private readonly handler: XmlHandler, startByte = 0) {
    this.bufByte = startByte;
    this.fromStart = startByte === 0;
  }

  /** Asks the tokenizer to stop after the current token. */
  stop(): void {
    this.stopRequested = true;
  }

  get stopped(): boolean {
    return this.stopRequested;
  }

  /** The byte offset where tokenizing would continue: just after the last token processed. */
  resumeOffset(): number {
    return this.bufByte + (this.ascii ? this.pos : utf8Length(this.buf, 0, this.pos));
  }

  /** Bytes tokenized so far by this tokenizer. */
  get bytesRead(): number {
    return this.consumedBytes + (this.ascii ? this.pos : utf8Length(this.buf, 0, this.pos));
  }

  /** Appends decoded text; `ascii` says whether it was pure ASCII (byte length = length). */
  push(text: string): void {
    if (this.pos > 0) {
      const consumed = this.ascii ? this.pos : utf8Length(this.buf, 0, this.pos);
      this.bufByte += consumed;
      this.consumedBytes += consumed;
      this.buf = this.buf.slice(this.pos);
      this.pos = 0;
      if (!this.ascii) this.ascii = isAscii(this.buf);
    }
    this.buf = this.buf.length === 0 ? text : this.buf + text;
    if (this.ascii && !isAscii(text)) this.ascii = false;
  }

  /**
   * Tokenizes what has been pushed. Stops at an incomplete token (waiting for more input) unless
   * `final`, or after the token during which the handler called `stop()`. Throws XmlError.
   */
  run(final: boolean): void {
    const buf = this.buf;
    const len = buf.length;
    const h = this.handler;
    while (!this.stopRequested && this.pos < len) {
      const pos = this.pos;
      const lt = buf.indexOf("<", pos);
      if (lt !== pos) {
        const end = lt < 0 ? len : lt;
        if (lt < 0 && !final) {
          // Deliver complete text early only if it is large; otherwise wait for the rest.
          if (!this.wantText || end - pos < 65536) return;
        }
        if (this.wantText) h.text(decodeXmlEntities(buf.slice(pos, end)), this);
        this.pos = end;
        continue;
      }
      const next = buf.charCodeAt(pos + 1);
      if (next === 47 /* / */) {
        const gt = buf.indexOf(">", pos + 2);
        if (gt < 0) return this.incomplete(final);
        let nameEnd = gt;
        while (nameEnd > pos + 2 && isSpace(buf.charCodeAt(nameEnd - 1))) nameEnd--;
        this.pos = gt + 1;
        const name = this.name(buf, pos + 2, nameEnd);
        if (this.open.length > 0) {
          if (this.open.pop() !== name) throw new XmlError(`mismatched </${name}>`);
        } else if (this.fromStart) throw new XmlError(`unexpected </${name}>`);
        h.close(name, this);
        continue;
      }
      if (next === 33 /* ! */) {
        if (buf.startsWith("<!--", pos)) {
          const end = buf.indexOf("-->", pos + 4);
          if (end < 0) return this.incomplete(final);
          this.pos = end + 3;
        } else if (buf.startsWith("<![CDATA[", pos)) {
          const end = buf.indexOf("]]>", pos + 9);
          if (end < 0) return this.incomplete(final);
          if (this.wantText) h.text(buf.slice(pos + 9, end), this);
          this.pos = end + 3;
        } else if (buf.startsWith("<!DOCTYPE", pos)) {
          const end = buf.indexOf(">", pos);
          if (end < 0) return this.incomplete(final);
          if (buf.lastIndexOf("[", end) > pos) throw new XmlError("DTD subsets are not supported");
          this.pos = end + 1;
        } else if (pos + 9 > len && !final) {
          return;
        } else throw new XmlError("malformed markup");
        continue;
      }
      if (next === 63 /* ? */) {
        const end = buf.indexOf("?>", pos + 2);
        if (end < 0) return this.incomplete(final);
        this.pos = end + 2;
        continue;
      }
      // An open tag: the name, then attributes up to '>' (quoted values may contain '>').
      let i = pos + 1;
      while (i < len) {
        const c = buf.charCodeAt(i);
        if (isSpace(c) || c === 47 || c === 62) break;
        i++;
      }
      if (i === pos + 1 && i < len) throw new XmlError("malformed tag");
      const nameEnd = i;
      let gt = -1;
      while (i < len) {
        const c = buf.charCodeAt(i);
        if (c === 62) {
          gt = i;
          break;
        }
        if (c === 34 || c === 39) {
          const q = buf.indexOf(c === 34 ? '"' : "'", i + 1);
          if (q < 0) break;
          i = q + 1;
        } else if (c === 60) throw new XmlError("'<' inside a tag");
        else i++;
      }
      if (gt < 0) return this.incomplete(final);
      const selfClosing = buf.charCodeAt(gt - 1) === 47;
      const name = this.name(buf, pos + 1, nameEnd);
      this.attrFrom = nameEnd;
      this.attrTo = selfClosing ? gt - 1 : gt;
      this.pos = gt + 1;
      if (!selfClosing) this.open.push(name);
      h.open(name, this, selfClosing);
      if (selfClosing) h.close(name, this);
    }
  }

  /** buf.slice(from, to), reusing an equal name seen before (fewer short-lived strings). */
  private name(buf: string, from: number, to: number): string {
    const key = (to - from) * 65536 + buf.charCodeAt(from);
    let list = this.names.get(key);
    if (list) {
      for (const candidate of list) if (buf.startsWith(candidate, from)) return candidate;
    } else this.names.set(key, list = []);
    const name = buf.slice(from, to);
    if (list.length < 8) list.push(name);
    return name;
  }

  private incomplete(final: boolean): void {
    if (final) throw new XmlError("unexpected end of document");
  }

  /** Throws unless every element opened since the start was closed (call at the end). */
  checkComplete(): void {
    if (this.open.length > 0) throw new XmlError(`<${this.open[this.open.length - 1]}> not closed`);
  }

  /** The decoded value of attribute `name` of the tag just opened, or undefined. */
  attr(name: string): string | undefined {
    const buf = this.buf;
    let i = this.attrFrom;
    const end = this.attrTo;
    while (i < end) {
      while (i < end && isSpace(buf.charCodeAt(i))) i++;
      const nameStart = i;
      while (i < end) {
        const c = buf.charCodeAt(i);
        if (c === 61 || isSpace(c)) break;
        i++;
      }
      const nameEnd = i;
      while (i < end && isSpace(buf.charCodeAt(i))) i++;
      if (buf.charCodeAt(i) !== 61) return undefined; // not `name=`: malformed, give up
      i++;
      while (i < end && isSpace(buf.charCodeAt(i))) i++;
      const quote = buf.charCodeAt(i);
      if (quote !== 34 && quote !== 39) return undefined;
      const close = buf.indexOf(quote === 34 ? '"' : "'", i + 1);
      if (close < 0 || close > end) return undefined;
      if (
        nameEnd - nameStart === name.length && buf.startsWith(name, nameStart)
      ) return decodeXmlEntities(buf.slice(i + 1, close));
      i = close + 1;
    }
    return undefined;
  }
}

function isAscii(text: string): boolean {
  // deno-lint-ignore no-control-regex
  return !/[^\x00-\x7f]/.test(text);
}
