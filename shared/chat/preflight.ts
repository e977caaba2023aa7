/**
 * Preflight: what the caller should know before the answer, also told to the model. Files still
 * pending or processing, files that failed (with their messages), files the question names that
 * the workbench does not have, and a workbench with nothing indexed (then nothing is searched or
 * spent).
 */

export interface WorkbenchFileState {
  id: string;
  file_name: string;
  status: "pending" | "processing" | "indexed" | "error";
  error_message: string | null;
}

export interface Warning {
  code:
    | "file_pending"
    | "file_processing"
    | "file_error"
    | "file_not_found"
    | "no_indexed_files"
    | "source_deleted"
    | "unverified_figure";
  message: string;
  /** `unverified_figure`: the number as the answer writes it. */
  number?: string;
  file_id?: string;
  file_name?: string;
  /** Stored answers only: the file this warning named was deleted (its name and id removed). */
  deleted?: true;
}

const NAMED_FILE = /[\p{L}\p{N}_()&+-][\p{L}\p{N}_.()&+-]*\.(?:pdf|docx|xlsx|csv|txt|md)\b/giu;

/** File names the question mentions ("in budget.xlsx …"), as written. */
export function mentionedFileNames(question: string): string[] {
  return [...new Set(question.match(NAMED_FILE) ?? [])].slice(0, 20);
}

/** Whether the workbench has a file the mention means (case-insensitive, or a name ending in it). */
export function hasFileNamed(files: { file_name: string }[], mention: string): boolean {
  const m = mention.toLowerCase();
  return files.some((f) => {
    const name = f.file_name.toLowerCase();
    return name === m || name.endsWith(` ${m}`) || name.endsWith(`_${m}`) || name.endsWith(`-${m}`);
  });
}

/**
 * The preflight's bounds: files not yet indexed it lists, files a question's names may match.
 * The chat's `private.start_chat_turn` reads with these same numbers (written in its SQL).
 */
export const PREFLIGHT_UNINDEXED_LIMIT = 50;
export const PREFLIGHT_NAMED_LIMIT = 100;

const escapeLike = (s: string) => s.replace(/[\\%_]/g, (c) => `\\${c}`);

/**
 * What the database matches mentions with, the rule of `hasFileNamed` as SQL: the lower-cased
 * names themselves (`= any`) and `like any` patterns for names ending in " m", "_m" or "-m".
 */
export function namedFileFilter(mentions: string[]): { exact: string[]; suffixes: string[] } {
  const names = mentions.map((m) => m.toLowerCase());
  return {
    exact: names,
    suffixes: names.flatMap((m) => [" ", "_", "-"].map((sep) => `%${escapeLike(sep + m)}`)),
  };
}

/** Both lists the preflight reads (files not indexed, files named), each file once. */
export function mergeFileStates(...lists: WorkbenchFileState[][]): WorkbenchFileState[] {
  const seen = new Map<string, WorkbenchFileState>();
  for (const f of lists.flat()) if (!seen.has(f.id)) seen.set(f.id, f);
  return [...seen.values()];
}

/**
 * The warnings for a question. `files` are the workbench's files that are not indexed plus those
 * the question names; `indexedCount` is how many files are indexed.
 */
export function preflightWarnings(
  question: string,
  files: WorkbenchFileState[],
  indexedCount: number,
): Warning[] {
  const warnings: Warning[] = [];
  for (const f of files) {
    if (f.status === "pending" || f.status === "processing") {
      warnings.push({
        code: f.status === "pending" ? "file_pending" : "file_processing",
        message: `${f.file_name} is still being indexed; this answer cannot use it yet.`,
        file_id: f.id,
        file_name: f.file_name,
      });
    } else if (f.status === "error") {
      warnings.push({
        code: "file_error",
        message: `${f.file_name} could not be indexed: ${f.error_message ?? "unknown error"}`,
        file_id: f.id,
        file_name: f.file_name,
      });
    }
  }
  for (const mention of mentionedFileNames(question)) {
    if (!hasFileNamed(files, mention)) {
      warnings.push({
        code: "file_not_found",
        message: `The question names ${mention}, which is not in this workbench.`,
        file_name: mention,
      });
    }
  }
  if (indexedCount === 0) {
    warnings.push({
      code: "no_indexed_files",
      message: "No file in this workbench is indexed yet, so there is nothing to search.",
    });
  }
  return warnings;
}

/** The answer when nothing is indexed (no model call, nothing counted). */
export function nothingToSearchAnswer(warnings: Warning[]): string {
  const waiting = warnings.filter((w) => w.code === "file_pending" || w.code === "file_processing");
  const failed = warnings.filter((w) => w.code === "file_error");
  const parts = ["There is nothing to search in this workbench yet: no file is indexed."];
  if (waiting.length > 0) {
    parts.push(`${waiting.length} file(s) are still being indexed; ask again when they are ready.`);
  }
  if (failed.length > 0) parts.push(`${failed.length} file(s) could not be indexed.`);
  if (waiting.length === 0 && failed.length === 0) parts.push("Upload files to ask about them.");
  return parts.join(" ");
}
