/**
 * Retrieval over a workbench's chunks: the hybrid search (search.ts), its settings, the search
 * query formed from the question and the previous turns, passages and the table rows in them.
 */
export * from "./passages.ts";
export * from "./query.ts";
export * from "./search.ts";
export * from "./settings.ts";
export * from "./tables.ts";
