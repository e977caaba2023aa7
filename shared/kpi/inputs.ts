/**
 * What each report type needs, and how to tell from a table's indexed text (its header and first
 * rows, as the chunker wrote them) that a file may hold it. This only picks candidate files and
 * answers 422 early; the numbers themselves are always read from the file (tables.ts).
 */
import { normaliseLabel } from "./labels.ts";
import type { ReportType } from "./types.ts";

export interface ReportInput {
  /** What to upload, for the 422 answer. */
  need: string;
  /** Whether normalised table text looks like this input. */
  matches(text: string): boolean;
}

const has = (text: string, re: RegExp) => re.test(text);

export const REPORT_INPUTS: Record<ReportType, ReportInput> = {
  financial_summary: {
    need:
      "a P&L (income statement) table as CSV or XLSX: line items such as Revenue, COGS, Operating expenses and Net income as rows with periods as columns, or columns period, account, amount",
    matches: (t) =>
      has(t, /\b(revenue|revenues|sales|turnover|total income)\b/) &&
      has(t, /\b(cost of|cogs|expenses|net income|net profit|profit|ebitda|opex)\b/),
  },
  cash_flow: {
    need:
      "a bank statement (date, description, debit and credit or amount, balance) or a cash-flow table (inflows and outflows by period) as CSV or XLSX",
    matches: (t) =>
      (has(t, /\bdate\b/) &&
        (has(t, /\b(debit|withdrawal|withdrawals|money out)\b/) &&
            has(t, /\b(credit|deposit|deposits|money in)\b/) ||
          has(t, /\bbalance\b/) && has(t, /\bamount\b/))) ||
      (has(t, /\b(inflows?|receipts)\b/) && has(t, /\b(outflows?|payments)\b/)),
  },
  variance: {
    need:
      "a budget-vs-actual table as CSV or XLSX: a line item column with Budget and Actual columns",
    matches: (t) => has(t, /\b(budget|budgeted|plan|planned)\b/) && has(t, /\b(actual|actuals)\b/),
  },
};

/** Whether the indexed text of a table may hold the input of `type`. */
export function mayHoldInput(type: ReportType, text: string): boolean {
  return REPORT_INPUTS[type].matches(normaliseLabel(text));
}
