/**
 * What a grounded answer is built from that the chat and the report narrative share: the prompt
 * (system rules, quoted data, sources) and the preflight warnings about files not indexed.
 */
export * from "./preflight.ts";
export * from "./prompt.ts";
