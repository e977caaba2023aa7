/**
 * Citations in an answer: `[n]` (or `[n, m]`) markers that refer to the numbered passages of the
 * prompt. Markers whose numbers match no passage are removed, also while the answer streams (a
 * marker split across deltas is held back until it is complete), and the passages cited become the
 * answer's `sources`, in the order they are first cited.
 */
import { type Passage, passageLocation } from "../retrieval/mod.ts";
import { snippetFor } from "./snippet.ts";
import type { QuestionTerms } from "./terms.ts";

export interface Source {
  number: number;
  file_id: string;
  file_name: string;
  chunk_id: string;
  chunk_index: number;
  page: number | null;
  sheet: string | null;
  row_start: number | null;
  row_end: number | null;
  heading: string | null;
  location: string;
  snippet: string;
  score: number;
}

/**
 * A source of a stored answer whose file was deleted afterwards (private.redact_chat_file): the
 * number stays so the answer's `[n]` still resolves; the file's id, name and snippet are gone.
 */
export interface DeletedSource {
  number: number;
  deleted: true;
}

/** A marker with the spaces before it (dropped with the marker when none of its numbers is valid). */
const MARKER = /(\s*)\[(\s*\d{1,3}(?:\s*,\s*\d{1,3})*\s*)\]/g;
/** An unfinished marker (or spaces that may precede one) at the end of the text so far. */
const UNFINISHED = /\s*(?:\[[\d\s,]{0,38})?$/;

export interface CitationFilter {
  /** Text that can be shown now (spaces and an unfinished marker at the end are held back). */
  push(delta: string): string;
  /** The rest, at the end of the stream. */
  flush(): string;
  /** Passage numbers cited so far, in order of first citation. */
  cited(): number[];
}

/**
 * Removes markers that match none of `count` passages as text streams in: what `push` and `flush`
 * return, concatenated, is exactly `cleanCitations` of the whole text.
 */
export function createCitationFilter(count: number): CitationFilter {
  let pending = "";
  const cited: number[] = [];
  const clean = (s: string) =>
    s.replace(MARKER, (_all, spaces: string, inner: string) => {
      const keep = inner.split(",").map((n) => Number(n.trim()))
        .filter((n) => Number.isInteger(n) && n >= 1 && n <= count);
      for (const n of keep) if (!cited.includes(n)) cited.push(n);
      return keep.length > 0 ? spaces + keep.map((n) => `[${n}]`).join("") : "";
    });
  return {
    push(delta) {
      const text = clean(pending + delta);
      const hold = UNFINISHED.exec(text)?.[0] ?? "";
      pending = text.slice(text.length - hold.length);
      return text.slice(0, text.length - hold.length);
    },
    flush() {
      const rest = pending;
      pending = "";
      return rest;
    },
    cited: () => [...cited],
  };
}

/** Removes markers that match none of `count` passages; returns the text and the numbers cited. */
export function cleanCitations(text: string, count: number): { text: string; cited: number[] } {
  const filter = createCitationFilter(count);
  const out = filter.push(text) + filter.flush();
  return { text: out, cited: filter.cited() };
}

/** The `sources` of an answer: one per cited passage number, in citation order. */
export function buildSources(passages: Passage[], cited: number[], terms: QuestionTerms): Source[] {
  return cited.flatMap((n) => {
    const p = passages[n - 1];
    if (!p) return [];
    return [{
      number: n,
      file_id: p.fileId,
      file_name: p.fileName,
      chunk_id: p.chunkId,
      chunk_index: p.chunkIndex,
      page: p.page ?? null,
      sheet: p.sheet ?? null,
      row_start: p.rowStart ?? null,
      row_end: p.rowEnd ?? null,
      heading: p.heading ?? null,
      location: passageLocation(p),
      snippet: snippetFor(p, terms),
      score: Math.round(p.score * 10_000) / 10_000,
    }];
  });
}
