/**
 * The KPI module: report types, what each needs (and whether a workbench may hold it), and the
 * figures computed from uploaded tables. No I/O of its own: give it tables (shared/reports
 * `readTables` re-reads a CSV/XLSX with the indexing parsers), get figures with provenance;
 * `checkInputs` runs its query in the caller's transaction. It loads no parser, so the reports
 * function stays light. Usable from chat as well as from the report worker.
 */
import { cashFlow } from "./cash_flow.ts";
import { financialSummary } from "./financial.ts";
import type { SourceTable } from "./tables.ts";
import type { KpiResult, ReportType } from "./types.ts";
import { variance } from "./variance.ts";

export { MissingInputError } from "./financial.ts";
export { describeSource, type SourceTable } from "./tables.ts";
export { formatMoney, formatPercent, formatValue, parseAmount } from "./numbers.ts";
export { matchLineItem, normaliseLabel } from "./labels.ts";
export * from "./types.ts";
export {
  checkInputs,
  type InputCheck,
  mayHoldInput,
  missingInputDetails,
  REPORT_INPUTS,
} from "./inputs.ts";

export interface KpiOptions {
  varianceThresholdPct?: number;
}

export function computeKpis(
  type: ReportType,
  tables: SourceTable[],
  opts: KpiOptions = {},
): KpiResult {
  switch (type) {
    case "financial_summary":
      return financialSummary(tables);
    case "cash_flow":
      return cashFlow(tables);
    case "variance":
      return variance(tables, opts.varianceThresholdPct);
  }
}
