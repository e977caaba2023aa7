/** The language model client (Groq), as chat and the report narrative call it. */
export * from "./groq.ts";
