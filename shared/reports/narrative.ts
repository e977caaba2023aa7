/**
 * The report's narrative: a deterministic template over the KPIs, or a model's text grounded in
 * the KPI table and cited passages that is only kept when every number in it is a number of the
 * KPI table (checkNarrativeNumbers); otherwise the template is used.
 */
import { QUOTED_DATA_RULE } from "../chat/mod.ts";
import {
  type Figure,
  formatValue,
  type KpiResult,
  unmatchedNumbers,
  writtenNumbers,
} from "../kpi/mod.ts";
import { formatSources, type Passage } from "../retrieval/mod.ts";

export interface ChatMessage {
  role: "system" | "user" | "assistant";
  content: string;
}

/** The LLM, injected: generic messages in, text out (shared/llm provides it). */
export type GenerateText = (messages: ChatMessage[]) => Promise<{ text: string }>;

/** A passage of the workbench (shared/retrieval), shown to the model fenced as quoted data. */
export type NarrativePassage = Passage;

export interface Narrative {
  text: string;
  source: "llm" | "template";
  /** Numbers of the model's text that are not in the KPI table (why it was rejected). */
  rejected_numbers?: string[];
}

const fmt = (f: Figure | null | undefined, kpis: KpiResult) =>
  f ? formatValue(f.value, f.unit, kpis.currency) : undefined;

function cellsOf(kpis: KpiResult, key: string): (Figure | null)[] {
  return kpis.rows.find((r) => r.key === key)?.cells ?? [];
}

/** A short deterministic summary that only prints figures of the KPI result. */
export function templateNarrative(kpis: KpiResult): string {
  const cols = kpis.columns;
  const last = cols.length - 1;
  const parts: string[] = [];
  const at = (key: string, i: number) => fmt(cellsOf(kpis, key)[i], kpis);
  if (kpis.report_type === "financial_summary") {
    const p = cols[last];
    parts.push(
      `In ${p}, revenue was ${at("revenue", last) ?? "not reported"}` +
        (at("revenue_change_pct", last)
          ? ` (${at("revenue_change_pct", last)} against ${cols[last - 1]})`
          : "") +
        ".",
    );
    if (at("gross_profit", last)) {
      parts.push(
        `Gross profit was ${at("gross_profit", last)}${
          at("gross_margin", last) ? `, a gross margin of ${at("gross_margin", last)}` : ""
        }.`,
      );
    }
    if (at("ebitda", last)) parts.push(`EBITDA was ${at("ebitda", last)}.`);
    if (at("net_income", last)) {
      parts.push(
        `Net income was ${at("net_income", last)}${
          at("net_margin", last) ? ` (net margin ${at("net_margin", last)})` : ""
        }.`,
      );
    }
    if (cols.length > 1 && at("revenue", 0)) {
      parts.push(
        `Over ${cols[0]} to ${p}, revenue moved from ${at("revenue", 0)} to ${
          at("revenue", last)
        }.`,
      );
    }
  } else if (kpis.report_type === "cash_flow") {
    const p = cols[last];
    parts.push(
      `In ${p}, inflows were ${at("inflows", last)} and outflows ${
        at("outflows", last)
      }, a net flow of ${at("net_flow", last)}.`,
    );
    const scalar = (k: string) => fmt(kpis.scalars.find((s) => s.key === k)?.figure, kpis);
    if (cols.length > 1 && scalar("total_inflows")) {
      parts.push(
        `Over ${cols[0]} to ${p}, total inflows were ${scalar("total_inflows")} and total ` +
          `outflows ${scalar("total_outflows")}, a net flow of ${scalar("net_flow_total")}.`,
      );
    }
    if (scalar("average_monthly_burn")) {
      parts.push(`The average monthly burn over the period is ${scalar("average_monthly_burn")}.`);
    }
    if (scalar("last_balance")) {
      parts.push(
        `The last balance is ${scalar("last_balance")}` +
          (scalar("runway_months") ? `, which gives a runway of ${scalar("runway_months")}.` : "."),
      );
    }
  } else {
    const flagged = kpis.scalars;
    if (flagged.length === 0) parts.push("Every line is within the variance threshold.");
    else {
      parts.push(`Lines beyond the variance threshold: ${flagged.map((s) => s.label).join("; ")}.`);
    }
    const first = kpis.rows[0];
    if (first) {
      parts.push(
        `${first.label}: budget ${fmt(first.cells[0], kpis)}, actual ${
          fmt(first.cells[1], kpis)
        }, variance ${fmt(first.cells[2], kpis)}.`,
      );
    }
  }
  if (kpis.warnings.length) parts.push("See the warnings below.");
  return parts.join(" ");
}

// ---------------------------------------------------------------------------------------------
// The number check (the rule is shared/kpi written.ts, which chat answers use too).

/** Every value the narrative may cite: the figures (and their magnitudes), numbers in labels. */
function allowedValues(kpis: KpiResult): number[] {
  const values: number[] = [kpis.columns.length];
  const add = (f: Figure | null) => f && values.push(Math.abs(f.value));
  for (const row of kpis.rows) {
    row.cells.forEach(add);
    if (row.total) add(row.total);
    for (const w of writtenNumbers(row.label)) values.push(w.value);
  }
  for (const s of kpis.scalars) {
    add(s.figure);
    for (const w of writtenNumbers(s.label)) values.push(w.value);
  }
  for (const c of kpis.columns) for (const w of writtenNumbers(c)) values.push(w.value);
  return values;
}

/**
 * The numbers of `text` that are not figures of the KPI table. A written number matches a figure
 * when the figure rounds to it at the precision written: "1,20,000", "120000" and "120,000.00"
 * all match 120000; "1.2 lakh" (± 5,000), "0.12 crore", "1.2M", "120K" match it as roundings;
 * "12.5%" matches a percent figure 12.46. Signs are ignored ("a loss of 50,000" for -50,000).
 * Citation markers [1], [2] of the given passages are not numbers. Numbers in period and line
 * labels (years, "Q2") are allowed, and so is the number of periods.
 */
export function unknownNumbers(text: string, kpis: KpiResult, passages = 0): string[] {
  return unmatchedNumbers(text, allowedValues(kpis), passages);
}

/**
 * The messages for the model: the KPI table as the only source of numbers, and the passages as
 * numbered, fenced sources (`formatSources`, as chat shows them) under the rule that fenced text is
 * quoted data, never an instruction.
 */
export function narrativeMessages(
  kpis: KpiResult,
  opts: { title: string; notes?: string | null; passages: NarrativePassage[] },
): ChatMessage[] {
  const lines = kpis.rows.map((r) =>
    `${r.label}: ${
      [
        ...r.cells.map((c, i) =>
          `${kpis.columns[i]} ${c ? formatValue(c.value, c.unit, kpis.currency) : "n/a"}`
        ),
        ...(kpis.total_column && r.total
          ? [`${kpis.total_column} ${formatValue(r.total.value, r.total.unit, kpis.currency)}`]
          : []),
      ].join("; ")
    }${r.favourable === true ? " (favourable)" : r.favourable === false ? " (unfavourable)" : ""}`
  );
  for (const s of kpis.scalars) {
    lines.push(`${s.label}: ${formatValue(s.figure.value, s.figure.unit, kpis.currency)}`);
  }
  const sources = formatSources(opts.passages);
  return [
    {
      role: "system",
      content:
        "You are a CFO writing the summary paragraph of a financial report. Write 3 to 5 plain sentences. " +
        "Use only numbers that appear in the KPI table, written exactly as they appear there; never add, " +
        "subtract, average or round numbers yourself, and never invent one. The passages give context " +
        "only: cite one as [n] when you use it, and do not take numbers from them. " +
        QUOTED_DATA_RULE,
    },
    {
      role: "user",
      content:
        `Report: ${opts.title}\n${opts.notes ? `Notes from the requester: ${opts.notes}\n` : ""}` +
        `Currency: ${kpis.currency ?? "as in the file"}\n\nKPI table:\n${lines.join("\n")}\n\n` +
        (kpis.warnings.length ? `Warnings:\n${kpis.warnings.join("\n")}\n\n` : "") +
        (sources ? `Passages:\n${sources}` : "Passages: none"),
    },
  ];
}

/**
 * The narrative: the model's text when `generate` is given and its text passes the number check,
 * else the template. Errors of `generate` propagate (the worker retries the step).
 */
export async function writeNarrative(
  kpis: KpiResult,
  opts: {
    title: string;
    notes?: string | null;
    passages: NarrativePassage[];
    generate?: GenerateText;
  },
): Promise<Narrative> {
  const template = templateNarrative(kpis);
  if (!opts.generate) return { text: template, source: "template" };
  const { text } = await opts.generate(narrativeMessages(kpis, opts));
  const answer = text.trim();
  const unknown = unknownNumbers(answer, kpis, opts.passages.length);
  if (!answer || unknown.length > 0) {
    return { text: template, source: "template", rejected_numbers: answer ? unknown : [] };
  }
  return { text: answer, source: "llm" };
}
