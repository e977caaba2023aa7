/**
 * The KPI module: report types, what each needs (and whether a workbench may hold it), and the
 * figures computed from uploaded tables. No I/O of its own: give it tables (shared/reports
 * `readTables` re-reads a CSV/XLSX with the indexing parsers), get figures with provenance;
 * `checkInputs` runs its query in the caller's transaction. It loads no parser, so the reports
 * function stays light. Usable from chat as well as from the report worker.
 */
export { computeKpis, type KpiOptions } from "./compute.ts";
export { MissingInputError } from "./financial.ts";
export { describeSource, type SourceTable } from "./tables.ts";
export { formatMoney, formatPercent, formatValue, parseAmount, parseCell } from "./numbers.ts";
export { matchLineItem, normaliseLabel } from "./labels.ts";
export { parsePeriod } from "./periods.ts";
export { locateHeader } from "./layout.ts";
export * from "./types.ts";
export {
  checkInputs,
  detectInputs,
  type InputCheck,
  mayHoldInput,
  missingInputDetails,
  REPORT_INPUTS,
  tablesFromChunks,
} from "./inputs.ts";
export {
  statedValues,
  unmatchedNumbers,
  withoutCitations,
  writtenAs,
  type WrittenNumber,
  writtenNumbers,
} from "./written.ts";
export { answerFromCells, type CellFact, type FactOperation, questionPeriods } from "./lookup.ts";
export {
  tablesFromRows,
  typeCell,
  type TypedCell,
  type TypedRow,
  typedRowsOfChunk,
} from "./rows.ts";
