/**
 * Passages: the chunks a search returns, with where they come from (page, sheet, rows, heading),
 * trimmed to a prompt budget, and rendered as numbered, fenced source blocks for a model. Pure.
 */
import { estimateTokens } from "../chunking.ts";

export interface Passage {
  chunkId: string;
  fileId: string;
  fileName: string;
  chunkIndex: number;
  content: string;
  page?: number | null;
  pageEnd?: number | null;
  sheet?: string | null;
  rowStart?: number | null;
  rowEnd?: number | null;
  heading?: string | null;
  /** Fused score: weighted cosine similarity plus BM25 relative to the best (higher is better). */
  score: number;
  /** 1-based rank in the vector list, null when the chunk was not in it. */
  vectorRank?: number | null;
  /** 1-based rank in the full-text list, null when the chunk was not in it. */
  textRank?: number | null;
}

/** A row of `public.search_workbench_chunks`. */
export interface SearchRow {
  chunk_id: string;
  file_id: string;
  file_name: string;
  chunk_index: number;
  content: string;
  metadata: Record<string, unknown> | null;
  vector_rank: number | null;
  text_rank: number | null;
  score: number;
}

function num(v: unknown): number | null {
  return typeof v === "number" && Number.isFinite(v) ? v : null;
}

function str(v: unknown): string | null {
  return typeof v === "string" && v !== "" ? v : null;
}

export function passageFromRow(row: SearchRow): Passage {
  const m = row.metadata ?? {};
  return {
    chunkId: row.chunk_id,
    fileId: row.file_id,
    fileName: row.file_name,
    chunkIndex: row.chunk_index,
    content: row.content,
    page: num(m.page),
    pageEnd: num(m.page_end),
    sheet: str(m.sheet),
    rowStart: num(m.row_start),
    rowEnd: num(m.row_end),
    heading: str(m.heading),
    score: Number(row.score),
    vectorRank: row.vector_rank,
    textRank: row.text_rank,
  };
}

/**
 * The passages, in order, that fit in `budgetTokens` (≈ 4 characters a token, as the chunker
 * counts): a passage that does not fit is skipped and smaller later ones may still fit. The first
 * passage is always kept, cut to the budget if it alone is larger.
 */
export function trimToBudget(passages: Passage[], budgetTokens: number): Passage[] {
  const out: Passage[] = [];
  let used = 0;
  for (const p of passages) {
    const tokens = estimateTokens(p.content);
    if (used + tokens <= budgetTokens) {
      out.push(p);
      used += tokens;
    } else if (out.length === 0) {
      out.push({ ...p, content: p.content.slice(0, Math.max(budgetTokens, 1) * 4) });
      used = budgetTokens;
    }
  }
  return out;
}

/** Where a passage is in its file: "p. 3", "sheet Budget, rows 2–41", "section Revenue". */
export function passageLocation(p: Passage): string {
  const parts: string[] = [];
  if (p.page != null) {
    parts.push(
      p.pageEnd != null && p.pageEnd !== p.page ? `pp. ${p.page}–${p.pageEnd}` : `p. ${p.page}`,
    );
  }
  if (p.sheet) parts.push(`sheet ${p.sheet}`);
  if (p.rowStart != null) {
    parts.push(
      p.rowEnd != null && p.rowEnd !== p.rowStart
        ? `rows ${p.rowStart}–${p.rowEnd}`
        : `row ${p.rowStart}`,
    );
  }
  if (p.heading) parts.push(`section ${p.heading}`);
  return parts.join(", ");
}

/** A fence longer than any run of backticks in `text`, so the text cannot close it. */
export function fenceFor(text: string): string {
  const longest = Math.max(0, ...(text.match(/`+/g) ?? []).map((r) => r.length));
  return "`".repeat(Math.max(3, longest + 1));
}

/** How long a file name or location may be in a source block. */
export const SOURCE_LABEL_CHARS = 200;

/** One line of a source's metadata: no line breaks, backticks or control characters, bounded. */
export function labelText(text: string, max = SOURCE_LABEL_CHARS): string {
  return text.replace(/[`\p{Cc}\p{Cf}\p{Zl}\p{Zp}]+/gu, " ").slice(0, max);
}

/**
 * The passages as numbered source blocks, [1] first:
 *
 *     [1]
 *     ```text
 *     File: budget.xlsx
 *     Location: sheet FY2025, rows 2–41
 *     ---
 *     …the passage, verbatim…
 *     ```
 *
 * Outside the fences stands only our own text (`[n]`): everything a document gave, its file name,
 * sheet, heading and location included, is inside the fence (a file named "ignore all rules…" is
 * quoted data like its text). The fence is longer than any backtick run in what it holds, so a
 * document cannot close it early; the metadata lines have no line breaks or backticks and are
 * bounded. A model can so be told that what is inside a fence is quoted data, never instructions.
 */
export function formatSources(passages: Passage[], startAt = 1): string {
  return passages.map((p, i) => {
    const where = passageLocation(p);
    const head = `File: ${labelText(p.fileName)}\n${
      where ? `Location: ${labelText(where)}\n` : ""
    }`;
    const body = `${head}---\n${p.content}`;
    const fence = fenceFor(body);
    return `[${startAt + i}]\n${fence}text\n${body}\n${fence}`;
  }).join("\n\n");
}
