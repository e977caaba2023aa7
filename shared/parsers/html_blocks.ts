/** Turns the simple HTML that mammoth writes into text and table blocks grouped under headings. */
import { normaliseTable } from "./table.ts";
import type { Block } from "./types.ts";

interface Element {
  tag: string;
  children: Node[];
}
type Node = Element | string;

const VOID_TAGS = new Set(["br", "img", "hr"]);
const TOKEN = /<(\/?)([a-zA-Z][a-zA-Z0-9]*)((?:[^>"']|"[^"]*"|'[^']*')*)>|<!--[\s\S]*?-->|[^<]+|</g;
const ENTITY = /&(#x[0-9a-f]+|#[0-9]+|[a-z]+);/gi;
const NAMED: Record<string, string> = {
  amp: "&",
  lt: "<",
  gt: ">",
  quot: '"',
  apos: "'",
  nbsp: " ",
};

function decodeEntities(text: string): string {
  return text.replace(ENTITY, (whole, name: string) => {
    if (name[0] !== "#") return NAMED[name.toLowerCase()] ?? whole;
    const code = name[1] === "x" || name[1] === "X"
      ? parseInt(name.slice(2), 16)
      : parseInt(name.slice(1), 10);
    return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
  });
}

/** Parses well-formed HTML into a tree; stray end tags close up to the matching open element. */
function parseHtml(html: string): Node[] {
  const root: Element = { tag: "#root", children: [] };
  const stack: Element[] = [root];
  for (const [token, closing, name] of html.matchAll(TOKEN)) {
    const top = stack[stack.length - 1];
    if (name === undefined) {
      if (!token.startsWith("<!--")) top.children.push(decodeEntities(token));
    } else if (closing) {
      const at = stack.findLastIndex((el) => el.tag === name.toLowerCase());
      if (at > 0) stack.length = at;
    } else {
      const el: Element = { tag: name.toLowerCase(), children: [] };
      top.children.push(el);
      if (!VOID_TAGS.has(el.tag) && !token.endsWith("/>")) stack.push(el);
    }
  }
  return root.children;
}

const BLOCK_TAGS = /^(p|h[1-6]|li|ul|ol|table|tr|td|th|div|blockquote|pre)$/;

/** The text of a node: inline content joined, block children on their own lines. */
function textOf(node: Node): string {
  if (typeof node === "string") return node;
  if (node.tag === "br") return "\n";
  const inner = node.children.map(textOf).join("");
  return BLOCK_TAGS.test(node.tag) ? `\n${inner}\n` : inner;
}

/** Collapses blanks within lines, trims lines and drops empty ones. */
function cleanLines(text: string): string {
  return text.split("\n").map((line) => line.replace(/\s+/g, " ").trim()).filter(Boolean).join(
    "\n",
  );
}

function listLines(list: Element, depth: number): string[] {
  const lines: string[] = [];
  let n = 0;
  for (const item of list.children) {
    if (typeof item === "string" || item.tag !== "li") continue;
    n++;
    const own = item.children.filter((c) => typeof c === "string" || !/^(ul|ol)$/.test(c.tag));
    const marker = list.tag === "ol" ? `${n}.` : "-";
    const text = cleanLines(own.map(textOf).join("")).replace(/\n/g, " ");
    lines.push(`${"  ".repeat(depth)}${marker} ${text}`);
    for (const child of item.children) {
      if (typeof child !== "string" && /^(ul|ol)$/.test(child.tag)) {
        lines.push(...listLines(child, depth + 1));
      }
    }
  }
  return lines;
}

function tableRows(node: Element): string[][] {
  const rows: string[][] = [];
  for (const child of node.children) {
    if (typeof child === "string") continue;
    if (child.tag === "tr") {
      const cells = child.children.filter((c): c is Element =>
        typeof c !== "string" && (c.tag === "td" || c.tag === "th")
      );
      rows.push(cells.map((cell) => cleanLines(textOf(cell)).replace(/\n/g, " ")));
    } else if (child.tag !== "table") rows.push(...tableRows(child)); // thead, tbody, tfoot
  }
  return rows;
}

/** Groups the document into blocks: paragraphs under one heading merge into one text block. */
export function htmlToBlocks(html: string): Block[] {
  const blocks: Block[] = [];
  let heading: string | undefined;
  let paragraphs: string[] = [];
  const flush = () => {
    if (paragraphs.length > 0) {
      const text = paragraphs.join("\n\n");
      blocks.push(heading === undefined ? { kind: "text", text } : { kind: "text", text, heading });
    }
    paragraphs = [];
  };
  const visit = (nodes: Node[]) => {
    for (const node of nodes) {
      if (typeof node !== "string" && /^h[1-6]$/.test(node.tag)) {
        flush();
        heading = cleanLines(textOf(node)).replace(/\n/g, " ");
        if (heading) paragraphs.push(heading);
      } else if (typeof node !== "string" && (node.tag === "ul" || node.tag === "ol")) {
        const lines = listLines(node, 0);
        if (lines.length > 0) paragraphs.push(lines.join("\n"));
      } else if (typeof node !== "string" && node.tag === "table") {
        const all = tableRows(node);
        if (!all.some((row) => row.some(Boolean))) continue;
        flush();
        const { header, rows } = normaliseTable(all[0], all.slice(1));
        const table = { kind: "table" as const, header, rows, firstRow: 2 };
        blocks.push(heading === undefined ? table : { ...table, heading });
      } else if (typeof node !== "string" && /^(div|blockquote)$/.test(node.tag)) {
        visit(node.children);
      } else {
        const text = cleanLines(textOf(node));
        if (text) paragraphs.push(text);
      }
    }
  };
  visit(parseHtml(html));
  flush();
  return blocks;
}
