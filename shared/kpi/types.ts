/** The KPI module's data: figures with provenance, and what a report type computes. */

/** Where a figure comes from: a cell of an uploaded table. */
export interface Provenance {
  file: string;
  /** XLSX sheet name; absent for CSV. */
  sheet?: string;
  /** 1-based row number in the sheet or file (the header is row 1 in a CSV). */
  row: number;
  /** For a sum over a range of rows: the last row of the range. */
  last_row?: number;
  /** Column name from the header, and its letter (A, B, ...). */
  column: string;
  /** The line label or description of that row, as written. */
  label?: string;
}

export type Unit = "money" | "percent" | "months" | "count";

export interface Figure {
  value: number;
  unit: Unit;
  /** A cell of the file it was read from (stated figures). */
  source?: Provenance;
  /** How it was computed, e.g. "revenue − COGS" (derived figures). */
  formula?: string;
  /** Sources of the inputs of a derived figure or of a sum. */
  inputs?: Provenance[];
  /**
   * On a stated figure that disagrees with its derivation: what the derivation gives, and how.
   * The table shows the stated value, the report shows both (a footnote) and warns.
   */
  computed?: { value: number; formula: string };
  /**
   * On a derived figure that disagrees with a value the file states for it: that value and its
   * cell. The table shows the derived value, the report shows both (a footnote) and warns.
   */
  stated?: { value: number; source: Provenance };
}

export interface KpiRow {
  key: string;
  label: string;
  unit: Unit;
  /** One per column (period); null when it cannot be computed. */
  cells: (Figure | null)[];
  /** The row's figure for the whole period (the total column), when the report has one. */
  total?: Figure | null;
  /** Variance reports: whether the variance is favourable (revenue above budget, cost below). */
  favourable?: boolean | null;
}

/**
 * What became of one line of the table the report read: the KPI input it was counted in (by its
 * label, or by where it sits: an unknown line among the expenses is an operating expense), or
 * null when it was not used. Nothing is dropped silently: every line with figures is here.
 */
export interface LineUse {
  label: string;
  /** The line's label cell (for a line item that is a column: its header cell). */
  source: Provenance;
  used_as: string | null;
  how: "label" | "position" | "not_used";
  note?: string;
}

/** A named figure outside the table (averages, runway, flagged lines). */
export interface KpiScalar {
  key: string;
  label: string;
  figure: Figure;
}

export interface ChartSeries {
  name: string;
  values: (number | null)[];
}

export interface KpiResult {
  report_type: ReportType;
  /** ISO currency code guessed from the symbols in the cells (INR, USD, EUR, GBP), else null. */
  currency: string | null;
  /** Column headings of the KPI table (periods, or "Budget", "Actual", ...). */
  columns: string[];
  rows: KpiRow[];
  scalars: KpiScalar[];
  chart: { title: string; labels: string[]; series: ChartSeries[] };
  warnings: string[];
  /** Every cell a figure was read from, once. */
  sources: Provenance[];
  /** Heading of the total column (rows carry `total`), when the periods add up to one. */
  total_column?: string;
  /** Every line of the table read, and what it was used as (financial summaries). */
  lines?: LineUse[];
}

export type ReportType = "financial_summary" | "cash_flow" | "variance";
export const REPORT_TYPES: readonly ReportType[] = ["financial_summary", "cash_flow", "variance"];
