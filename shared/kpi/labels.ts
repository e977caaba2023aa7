/**
 * Line items by any of their usual names. A label matches after normalising: lower case, "&" as
 * "and", accents and punctuation removed, spaces collapsed, and a leading "total"/"net of" kept
 * only where it changes the meaning (so "Total revenue" is revenue, "Net income" is net income).
 */

export type LineItem =
  | "revenue"
  | "other_income"
  | "total_income"
  | "cogs"
  | "cogs_part"
  | "inventory_change"
  | "gross_profit"
  | "opex"
  | "opex_part"
  | "ebitda"
  | "da"
  | "ebit"
  | "interest"
  | "tax"
  | "tax_part"
  | "total_expenses"
  | "pbt"
  | "net_income"
  | "inflows"
  | "outflows"
  | "net_flow"
  | "opening_balance"
  | "closing_balance";

/** Normalised synonyms of each line item (what `normaliseLabel` makes of the usual names). */
export const SYNONYMS: Record<LineItem, string[]> = {
  revenue: [
    "revenue",
    "revenues",
    "sales",
    "net sales",
    "total revenue",
    "total revenues",
    "total sales",
    "net revenue",
    "turnover",
    "revenue from operations",
    "income from operations",
    "operating revenue",
    "gross sales",
    "sales revenue",
  ],
  other_income: ["other income", "other operating income", "non operating income"],
  total_income: ["total income", "total revenue and other income"],
  cogs: [
    "cost of goods sold",
    "cogs",
    "cost of sales",
    "cost of revenue",
    "cost of revenues",
    "direct costs",
    "direct cost",
    "total cost of sales",
  ],
  cogs_part: [
    "cost of materials consumed",
    "cost of raw materials consumed",
    "raw materials consumed",
    "materials consumed",
    "purchases",
    "purchases of stock in trade",
    "purchase of stock in trade",
    "purchases of traded goods",
  ],
  inventory_change: [
    "changes in inventories",
    "change in inventories",
    "changes in inventory",
    "changes in inventories of finished goods work in progress and stock in trade",
    "changes in inventories of finished goods and work in progress",
    "changes in inventories of stock in trade",
    "increase decrease in inventories",
  ],
  gross_profit: ["gross profit", "gross margin", "gross income"],
  opex: [
    "operating expenses",
    "total operating expenses",
    "opex",
    "total opex",
    "operating costs",
    "total operating costs",
    "sganda",
    "selling general and administrative",
    "selling general and administrative expenses",
  ],
  opex_part: [
    "salaries",
    "salaries and wages",
    "wages",
    "payroll",
    "employee benefits expense",
    "employee benefit expense",
    "employee benefits expenses",
    "employee costs",
    "employee cost",
    "staff costs",
    "rent",
    "marketing",
    "sales and marketing",
    "advertising",
    "general and administrative",
    "administrative expenses",
    "research and development",
    "r and d",
    "utilities",
    "professional fees",
    "software",
    "travel",
    "other operating expenses",
    "other expenses",
  ],
  ebitda: ["ebitda", "operating profit before depreciation", "ebitda operating"],
  da: [
    "depreciation and amortisation",
    "depreciation and amortization",
    "d and a",
    "depreciation",
    "depreciation amortisation",
    "depreciation amortization",
    "depreciation and amortisation expense",
    "depreciation and amortization expense",
  ],
  ebit: ["ebit", "operating income", "operating profit", "profit from operations"],
  interest: [
    "interest",
    "interest expense",
    "finance costs",
    "finance cost",
    "finance charges",
    "interest paid",
    "interest and finance charges",
  ],
  tax: [
    "tax",
    "taxes",
    "income tax",
    "income taxes",
    "tax expense",
    "income tax expense",
    "provision for tax",
    "total tax expense",
    "tax expenses",
  ],
  tax_part: ["current tax", "deferred tax", "tax for earlier years", "mat credit"],
  total_expenses: ["total expenses", "total expenditure", "total costs"],
  pbt: [
    "profit before tax",
    "pbt",
    "earnings before tax",
    "income before tax",
    "ebt",
    "profit loss before tax",
  ],
  net_income: [
    "net income",
    "net profit",
    "profit after tax",
    "pat",
    "net earnings",
    "profit for the period",
    "profit for the year",
    "profit loss for the year",
    "profit loss for the period",
    "profit after taxation",
    "net profit after tax",
    "net loss",
    "net income loss",
  ],
  inflows: [
    "inflows",
    "cash inflows",
    "total inflows",
    "receipts",
    "cash receipts",
    "total receipts",
  ],
  outflows: [
    "outflows",
    "cash outflows",
    "total outflows",
    "payments",
    "cash payments",
    "total payments",
  ],
  net_flow: ["net cash flow", "net flow", "net change in cash", "net cash"],
  opening_balance: ["opening balance", "opening cash", "cash at beginning", "beginning balance"],
  closing_balance: [
    "closing balance",
    "closing cash",
    "cash at end",
    "ending balance",
    "cash balance",
  ],
};

/** Lower case, accents and punctuation gone, "&" → "and", spaces collapsed. */
export function normaliseLabel(text: string): string {
  return text
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/&/g, " and ")
    .replace(/\(.*?\)/g, " ")
    .replace(/[^a-z0-9]+/g, " ")
    .trim()
    .replace(/\s+/g, " ");
}

const INDEX = new Map<string, LineItem>();
for (const [item, names] of Object.entries(SYNONYMS) as [LineItem, string[]][]) {
  for (const name of names) INDEX.set(normaliseLabel(name), item);
}

/** The line item a label names, or undefined. */
export function matchLineItem(label: string): LineItem | undefined {
  const norm = normaliseLabel(label);
  if (!norm) return undefined;
  const direct = INDEX.get(norm);
  if (direct) return direct;
  // "Total revenue" / "Less: cost of sales" / "Revenue - net": drop a leading qualifier.
  const stripped = norm.replace(/^(total|less|add|net of)\s+/, "").replace(/\s+(net|total)$/, "");
  return INDEX.get(stripped);
}

/** Header names, normalised, that identify columns of long tables and statements. */
export const COLUMN_NAMES = {
  period: ["period", "month", "quarter", "year", "fiscal period", "fy", "date", "month year"],
  account: [
    "account",
    "line item",
    "item",
    "category",
    "account name",
    "particulars",
    "head",
    "gl account",
  ],
  amount: ["amount", "value", "total", "amount inr", "amount usd", "net amount"],
  date: ["date", "txn date", "transaction date", "value date", "posting date", "booking date"],
  description: ["description", "narration", "particulars", "details", "memo", "remarks"],
  debit: [
    "debit",
    "withdrawal",
    "withdrawals",
    "withdrawal amt",
    "debit amount",
    "money out",
    "paid out",
    "dr",
  ],
  credit: [
    "credit",
    "deposit",
    "deposits",
    "deposit amt",
    "credit amount",
    "money in",
    "paid in",
    "cr",
  ],
  balance: ["balance", "closing balance", "running balance", "available balance"],
  budget: ["budget", "budgeted", "plan", "planned", "budget amount", "forecast"],
  actual: ["actual", "actuals", "actual amount", "actual spend"],
  variance: ["variance", "variance amount", "difference", "var"],
  variance_pct: ["variance pct", "variance percent", "var pct", "variance percentage"],
} as const;

export type ColumnRole = keyof typeof COLUMN_NAMES;

/** Whether a header cell names the column role (exact normalised match, or currency-suffixed). */
export function isColumn(header: string, role: ColumnRole): boolean {
  const norm = normaliseLabel(header.replace(/%/g, " pct "));
  const names: readonly string[] = COLUMN_NAMES[role];
  if (names.includes(norm)) return true;
  const bare = norm.replace(/\s+(inr|usd|eur|gbp|rs)$/, "");
  return names.includes(bare);
}

/** How a report names each input when it says which labels it looked for. */
export const LOOKED_FOR: Partial<Record<LineItem, string[]>> = {
  revenue: ["Revenue", "Revenue from operations", "Net sales", "Sales", "Turnover", "Total income"],
  cogs: ["COGS", "Cost of sales", "Cost of goods sold", "Cost of materials consumed", "Purchases"],
  gross_profit: ["Gross profit"],
  opex: ["Operating expenses", "Employee benefits expense", "Salaries", "Rent", "Other expenses"],
  ebitda: ["EBITDA"],
  da: ["Depreciation and amortisation", "D&A", "Depreciation"],
  interest: ["Finance costs", "Interest expense", "Interest"],
  tax: ["Tax expense", "Income tax", "Current tax", "Deferred tax"],
  net_income: ["Net income", "Net profit", "Profit after tax", "PAT", "Profit for the year"],
  inflows: ["Inflows", "Receipts", "Total inflows"],
  outflows: ["Outflows", "Payments", "Total outflows"],
};

/** "Revenue, Net sales, Turnover" for a message. */
export function lookedFor(item: LineItem): string {
  return (LOOKED_FOR[item] ?? [item]).map((l) => `"${l}"`).join(", ");
}
