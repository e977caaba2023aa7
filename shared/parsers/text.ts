/** Plain text and Markdown extraction: strict UTF-8 decoding, Markdown split at ATX headings. */
import { type ExtractResult, ParseError, type TextBlock } from "./types.ts";

/** Decodes strict UTF-8 (a leading BOM is dropped) and normalises CRLF / CR newlines to LF. */
export function decodeUtf8(bytes: Uint8Array): string {
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new ParseError("the file is not UTF-8 text");
  }
  return text.replace(/\r\n?/g, "\n");
}

const ATX_HEADING = /^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$/;
const FENCE = /^ {0,3}(`{3,}|~{3,})/;

/** Splits Markdown into sections, one per ATX heading (headings inside code fences ignored). */
function markdownSections(text: string): TextBlock[] {
  const blocks: TextBlock[] = [];
  let lines: string[] = [];
  let heading: string | undefined;
  let fence: string | undefined;
  const flush = () => {
    const body = lines.join("\n").trim();
    if (body) {
      blocks.push(
        heading === undefined ? { kind: "text", text: body } : {
          kind: "text",
          text: body,
          heading,
        },
      );
    }
    lines = [];
  };
  for (const line of text.split("\n")) {
    const fenceMatch = FENCE.exec(line);
    if (fenceMatch) {
      const marker = fenceMatch[1];
      if (fence === undefined) fence = marker;
      else if (marker[0] === fence[0] && marker.length >= fence.length) fence = undefined;
    }
    const match = fence === undefined && !fenceMatch ? ATX_HEADING.exec(line) : null;
    if (match) {
      flush();
      heading = (match[2] ?? "").trim();
    }
    lines.push(line);
  }
  flush();
  return blocks;
}

/** Extracts a .txt file as one block, or a .md file as one block per heading section. */
export function extractPlainText(bytes: Uint8Array, type: "txt" | "md"): Promise<ExtractResult> {
  return Promise.resolve().then(() => {
    const text = decodeUtf8(bytes);
    if (!text.trim()) throw new ParseError("the file is empty");
    const blocks: TextBlock[] = type === "md"
      ? markdownSections(text)
      : [{ kind: "text", text: text.trim() }];
    return { blocks };
  });
}
