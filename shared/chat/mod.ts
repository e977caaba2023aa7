/**
 * What a grounded answer is built from that the chat, the WhatsApp channel worker and the report
 * narrative share: the prompt (system rules, quoted data, sources), the preflight warnings about
 * files not indexed, the question's terms, the figures from the cells (typed rows), the citation
 * filter and sources, and the answer without a model (the extract).
 */
export * from "./cells.ts";
export * from "./citations.ts";
export * from "./extractive.ts";
export * from "./preflight.ts";
export * from "./prompt.ts";
export * from "./snippet.ts";
export * from "./terms.ts";
