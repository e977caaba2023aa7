/**
 * Third-party bundles vendored unmodified (each file's header says which and why): pdf-lib and
 * its fontkit, for the report PDF.
 */
export { default as fontkit } from "./fontkit.js";
export * from "./pdf_lib.js";
