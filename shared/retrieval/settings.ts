/**
 * Retrieval settings: how many passages an answer gets, how the two ranked lists are weighed, and
 * how much of the prompt the passages may take. They come from the function's environment
 * (`RETRIEVAL_*`), with the defaults below (chosen on `task eval`, see docs/retrieval.md); the
 * database-side setting (the chunk count at which a workbench gets its own vector index) is in
 * `private.settings` instead, because the database acts on it.
 */
import { z } from "zod";

export interface RetrievalSettings {
  /** Passages returned (before the context budget). */
  topK: number;
  /**
   * The former RRF constant. Unused: the search fuses the lists by score (docs/retrieval.md); kept
   * so `RETRIEVAL_RRF_K` and the SQL signature stay valid.
   */
  rrfK: number;
  /** Weight of the vector list in the fusion (0 disables it). */
  vectorWeight: number;
  /** Weight of the full-text list in the fusion (0 disables it). */
  textWeight: number;
  /** Candidates taken from each list before fusion. */
  candidates: number;
  /** Tokens (≈ 4 characters each, see shared/chunking.ts) the passages may take in a prompt. */
  contextTokens: number;
  /** HNSW `ef_search` when a workbench has its own vector index. */
  efSearch: number;
  /** Matching rows a full-text list ranks at most (bounds a query made of common words). */
  textScanLimit: number;
}

export const DEFAULT_RETRIEVAL_SETTINGS: Readonly<RetrievalSettings> = Object.freeze({
  topK: 8,
  rrfK: 60,
  vectorWeight: 1,
  textWeight: 1,
  candidates: 20,
  contextTokens: 6000,
  efSearch: 400,
  textScanLimit: 200,
});

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const weight = z.coerce.number().min(0).max(10);

export const RetrievalSettingsSchema = z.object({
  topK: int(1, 50),
  rrfK: int(1, 1000),
  vectorWeight: weight,
  textWeight: weight,
  candidates: int(1, 200),
  contextTokens: int(200, 100_000),
  efSearch: int(10, 1000),
  textScanLimit: int(20, 5000),
}).refine((s) => s.vectorWeight + s.textWeight > 0, {
  message: "vectorWeight and textWeight cannot both be 0",
});

const ENV_NAMES: Record<keyof RetrievalSettings, string> = {
  topK: "RETRIEVAL_TOP_K",
  rrfK: "RETRIEVAL_RRF_K",
  vectorWeight: "RETRIEVAL_VECTOR_WEIGHT",
  textWeight: "RETRIEVAL_TEXT_WEIGHT",
  candidates: "RETRIEVAL_CANDIDATES",
  contextTokens: "RETRIEVAL_CONTEXT_TOKENS",
  efSearch: "RETRIEVAL_EF_SEARCH",
  textScanLimit: "RETRIEVAL_TEXT_SCAN_LIMIT",
};

/** The env variable of each setting (for docs/retrieval.md and error messages). */
export const RETRIEVAL_ENV_NAMES: Readonly<Record<keyof RetrievalSettings, string>> = ENV_NAMES;

/**
 * Settings from `RETRIEVAL_*` variables; unset or empty ones keep their default. Throws a readable
 * error naming the variable when one is out of range (a deployment mistake, found at start-up).
 */
export function retrievalSettingsFromEnv(
  env: Record<string, string | undefined>,
  base: RetrievalSettings = DEFAULT_RETRIEVAL_SETTINGS,
): RetrievalSettings {
  const raw: Record<string, unknown> = { ...base };
  for (const [key, name] of Object.entries(ENV_NAMES)) {
    const value = env[name]?.trim();
    if (value) raw[key] = value;
  }
  const parsed = RetrievalSettingsSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const key = issue?.path[0] as keyof RetrievalSettings | undefined;
    throw new Error(
      `invalid retrieval setting ${key ? ENV_NAMES[key] : ""}: ${issue?.message ?? "invalid"}`,
    );
  }
  return parsed.data;
}

/** `base` with `overrides` applied and checked (for callers that tune per request, and tests). */
export function withSettings(
  overrides: Partial<RetrievalSettings> | undefined,
  base: RetrievalSettings = DEFAULT_RETRIEVAL_SETTINGS,
): RetrievalSettings {
  if (!overrides) return base;
  return RetrievalSettingsSchema.parse({ ...base, ...overrides });
}
