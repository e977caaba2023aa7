/** The KPIs of a report type from tables (the one entry point the worker and the check share). */
import { cashFlow } from "./cash_flow.ts";
import { financialSummary } from "./financial.ts";
import type { SourceTable } from "./tables.ts";
import type { KpiResult, ReportType } from "./types.ts";
import { variance } from "./variance.ts";

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
