/**
 * A report as a PDF, drawn with pdf-lib (fonts through @pdf-lib/fontkit): title, period, the KPI
 * table, a bar chart, the narrative, warnings and a sources appendix listing the cell of every
 * figure. DejaVu Sans is embedded as a subset (only the glyphs used), so ₹ and accented names show.
 */
import { fontkit, PDFDocument, type PDFFont, type PDFPage, rgb } from "../vendor/mod.ts";
import {
  describeSource,
  type Figure,
  formatValue,
  type KpiResult,
  type KpiRow,
} from "../kpi/mod.ts";
import { decodeBase64 } from "./base64.ts";
import { DEJAVU_SANS_B64, DEJAVU_SANS_BOLD_B64 } from "./fonts.ts";

export interface ReportDocument {
  title: string;
  reportType: string;
  notes?: string | null;
  narrative: string;
  kpis: KpiResult;
  generatedAt: Date;
  /** How many source cells the appendix lists at most. */
  maxSources?: number;
}

const TYPE_NAMES: Record<string, string> = {
  financial_summary: "Financial summary",
  cash_flow: "Cash flow",
  variance: "Budget vs actual variance",
};

const CURRENCY_SIGNS: Record<string, string> = { INR: "₹", USD: "$", EUR: "€", GBP: "£" };

const PAGE = { width: 595.28, height: 841.89, margin: 42 };
const INK = rgb(0.12, 0.14, 0.18);
const MUTED = rgb(0.42, 0.45, 0.5);
const RULE = rgb(0.82, 0.84, 0.87);
const STRIPE = rgb(0.95, 0.96, 0.975);
const WARN = rgb(0.62, 0.25, 0.05);
const SERIES = [
  rgb(0.16, 0.42, 0.75),
  rgb(0.9, 0.5, 0.13),
  rgb(0.2, 0.6, 0.35),
  rgb(0.55, 0.3, 0.7),
];

let fontBytes: { regular: Uint8Array; bold: Uint8Array } | undefined;

/** Text the fonts can draw: no control characters. */
function clean(text: string): string {
  // deno-lint-ignore no-control-regex
  return text.replace(/[\u0000-\u001f\u007f-\u009f]+/g, " ");
}

/**
 * Text widths from per-character advances, cached: the fonts have no kerning or shaping tables,
 * so this equals `widthOfTextAtSize` without laying the string out each time.
 */
class Widths {
  private readonly cache = new Map<string, number>();
  constructor(private readonly font: PDFFont) {}
  of(text: string, size: number): number {
    let w = 0;
    for (const ch of text) {
      let cw = this.cache.get(ch);
      if (cw === undefined) this.cache.set(ch, cw = this.font.widthOfTextAtSize(ch, 1000) / 1000);
      w += cw;
    }
    return w * size;
  }
}

class Writer {
  page!: PDFPage;
  y = 0;
  readonly regularWidths: Widths;
  readonly boldWidths: Widths;
  constructor(readonly doc: PDFDocument, readonly font: PDFFont, readonly bold: PDFFont) {
    this.regularWidths = new Widths(font);
    this.boldWidths = new Widths(bold);
    this.newPage();
  }

  widthOf(text: string, size: number, bold = false): number {
    return (bold ? this.boldWidths : this.regularWidths).of(text, size);
  }

  newPage(): void {
    this.page = this.doc.addPage([PAGE.width, PAGE.height]);
    this.y = PAGE.height - PAGE.margin;
  }

  ensure(height: number): void {
    if (this.y - height < PAGE.margin) this.newPage();
  }

  get width(): number {
    return PAGE.width - 2 * PAGE.margin;
  }

  text(
    text: string,
    opts: { size?: number; bold?: boolean; color?: ReturnType<typeof rgb>; x?: number } = {},
  ): void {
    const size = opts.size ?? 10;
    this.ensure(size * 1.4);
    this.y -= size * 1.25;
    this.page.drawText(clean(text), {
      x: PAGE.margin + (opts.x ?? 0),
      y: this.y,
      size,
      font: opts.bold ? this.bold : this.font,
      color: opts.color ?? INK,
    });
    this.y -= size * 0.25;
  }

  /** Wraps `text` to the page width (paragraphs on blank lines). */
  paragraph(
    text: string,
    opts: { size?: number; color?: ReturnType<typeof rgb>; indent?: number } = {},
  ): void {
    const size = opts.size ?? 10;
    const max = this.width - (opts.indent ?? 0);
    for (const para of text.split(/\n\s*\n|\n/)) {
      let line = "";
      for (const word of clean(para).split(/\s+/).filter(Boolean)) {
        const next = line ? `${line} ${word}` : word;
        if (this.widthOf(next, size) > max && line) {
          this.text(line, { size, color: opts.color, x: opts.indent });
          line = word;
        } else line = next;
      }
      if (line) this.text(line, { size, color: opts.color, x: opts.indent });
      this.y -= size * 0.4;
    }
  }

  heading(text: string): void {
    this.ensure(40);
    this.y -= 8;
    this.text(text, { size: 13, bold: true });
    this.page.drawLine({
      start: { x: PAGE.margin, y: this.y },
      end: { x: PAGE.width - PAGE.margin, y: this.y },
      thickness: 0.6,
      color: RULE,
    });
    this.y -= 6;
  }

  /** Shrinks text to fit `width` (never below 5.5 pt) and draws it right- or left-aligned. */
  cell(
    text: string,
    x: number,
    width: number,
    opts: { bold?: boolean; right?: boolean; size?: number },
  ): void {
    const font = opts.bold ? this.bold : this.font;
    const bold = opts.bold ?? false;
    let size = opts.size ?? 8;
    let t = clean(text);
    while (size > 5.5 && this.widthOf(t, size, bold) > width - 4) size -= 0.25;
    while (t.length > 1 && this.widthOf(t, size, bold) > width - 4) t = `${t.slice(0, -2)}…`;
    const w = this.widthOf(t, size, bold);
    this.page.drawText(t, {
      x: opts.right ? x + width - 2 - w : x + 2,
      y: this.y + 3,
      size,
      font,
      color: INK,
    });
  }
}

/**
 * The footnote of a figure whose stated and computed values disagree (both shown: the table has
 * one, the footnote the other), or null.
 */
export function disagreementNote(
  kpis: KpiResult,
  rowLabel: string,
  column: string,
  f: Figure,
): string | null {
  const fmt = (v: number) => formatValue(v, f.unit, kpis.currency);
  const where = `${rowLabel}, ${column}`;
  if (f.computed) {
    return `${where}: the file states ${fmt(f.value)}; ${f.computed.formula} gives ${
      fmt(f.computed.value)
    }.`;
  }
  if (f.stated) {
    return `${where}: ${f.formula ?? "the computation"} gives ${fmt(f.value)}; the file states ${
      fmt(f.stated.value)
    } (${describeSource(f.stated.source)}).`;
  }
  return null;
}

/** A column of the KPI table: its heading and what it shows for a row. */
interface TableColumn {
  heading: string;
  figure(row: KpiRow): Figure | null | undefined;
  /** A text cell instead of a figure (variance: favourable or not). */
  text?(row: KpiRow): string;
}

/** The periods, then the total column when the report has one, then (variance) F/U. */
function tableColumns(kpis: KpiResult): TableColumn[] {
  const cols: TableColumn[] = kpis.columns.map((heading, i) => ({
    heading,
    figure: (row) => row.cells[i],
  }));
  if (kpis.total_column) cols.push({ heading: kpis.total_column, figure: (row) => row.total });
  if (kpis.rows.some((r) => r.favourable !== undefined)) {
    cols.push({
      heading: "F / U",
      figure: () => null,
      text: (row) =>
        row.favourable === true ? "favourable" : row.favourable === false ? "unfavourable" : "–",
    });
  }
  return cols;
}

/** The KPI table, six columns per block; a figure marked * has a footnote under the table. */
function kpiTable(w: Writer, kpis: KpiResult): void {
  const notes: string[] = [];
  const perBlock = 6;
  const labelWidth = kpis.report_type === "variance" ? 170 : 150;
  const all = tableColumns(kpis);
  // The variance table keeps its five columns together; a total column may start a block.
  const size = kpis.report_type === "variance" ? Math.max(perBlock, all.length) : perBlock;
  for (let start = 0; start < Math.max(1, all.length); start += size) {
    const cols = all.slice(start, start + size);
    const colWidth = (w.width - labelWidth) / Math.max(cols.length, 4);
    const rowHeight = 13;
    const header = () => {
      w.ensure(rowHeight * 2);
      w.y -= rowHeight;
      w.page.drawRectangle({
        x: PAGE.margin,
        y: w.y,
        width: w.width,
        height: rowHeight,
        color: rgb(0.88, 0.91, 0.95),
      });
      w.cell(kpis.report_type === "variance" ? "Line" : "", PAGE.margin, labelWidth, {
        bold: true,
      });
      cols.forEach((c, i) =>
        w.cell(c.heading, PAGE.margin + labelWidth + i * colWidth, colWidth, {
          bold: true,
          right: true,
        })
      );
    };
    header();
    kpis.rows.forEach((row, r) => {
      if (w.y - rowHeight < PAGE.margin) {
        w.newPage();
        header();
      }
      w.y -= rowHeight;
      if (r % 2 === 1) {
        w.page.drawRectangle({
          x: PAGE.margin,
          y: w.y,
          width: w.width,
          height: rowHeight,
          color: STRIPE,
        });
      }
      w.cell(row.label, PAGE.margin, labelWidth, {});
      cols.forEach((col, i) => {
        const x = PAGE.margin + labelWidth + i * colWidth;
        if (col.text) {
          w.cell(col.text(row), x, colWidth, { right: true });
          return;
        }
        const f = col.figure(row);
        const note = f ? disagreementNote(kpis, row.label, col.heading, f) : null;
        if (note) notes.push(`* ${note}`);
        w.cell(
          f ? `${formatValue(f.value, f.unit, kpis.currency)}${note ? "*" : ""}` : "–",
          x,
          colWidth,
          { right: true },
        );
      });
    });
    w.y -= 10;
  }
  for (const note of notes) w.paragraph(note, { size: 8, color: WARN });
  if (notes.length) w.y -= 6;
}

function niceStep(range: number): number {
  const raw = range / 5;
  const mag = 10 ** Math.floor(Math.log10(raw || 1));
  const n = raw / mag;
  return (n <= 1 ? 1 : n <= 2 ? 2 : n <= 5 ? 5 : 10) * mag;
}

function compact(v: number, currency: string | null): string {
  const a = Math.abs(v);
  const sign = v < 0 ? "-" : "";
  if (currency === "INR") {
    if (a >= 1e7) return `${sign}${+(a / 1e7).toFixed(2)} Cr`;
    if (a >= 1e5) return `${sign}${+(a / 1e5).toFixed(2)} L`;
  }
  if (a >= 1e9) return `${sign}${+(a / 1e9).toFixed(2)}B`;
  if (a >= 1e6) return `${sign}${+(a / 1e6).toFixed(2)}M`;
  if (a >= 1e3) return `${sign}${+(a / 1e3).toFixed(1)}K`;
  return `${sign}${+a.toFixed(2)}`;
}

/** Grouped bars, one group per label, with a zero line, y ticks and a legend. */
function barChart(w: Writer, kpis: KpiResult): void {
  const { labels, series } = kpis.chart;
  const values = series.flatMap((s) => s.values).filter((v): v is number => v !== null);
  if (labels.length === 0 || values.length === 0) return;
  const height = 190;
  w.ensure(height + 50);
  w.text(kpis.chart.title, { size: 9, color: MUTED });
  const top = w.y - 6;
  const bottom = top - height;
  const left = PAGE.margin + 48;
  const right = PAGE.width - PAGE.margin;
  const max = Math.max(0, ...values);
  const min = Math.min(0, ...values);
  const step = niceStep(max - min || 1);
  const hi = Math.ceil(max / step) * step || step;
  const lo = Math.floor(min / step) * step;
  const y = (v: number) => bottom + ((v - lo) / (hi - lo)) * height;
  for (let t = lo; t <= hi + step / 2; t += step) {
    w.page.drawLine({
      start: { x: left, y: y(t) },
      end: { x: right, y: y(t) },
      thickness: 0.3,
      color: RULE,
    });
    const label = compact(t, kpis.currency);
    w.page.drawText(label, {
      x: left - 4 - w.widthOf(label, 6.5),
      y: y(t) - 2,
      size: 6.5,
      font: w.font,
      color: MUTED,
    });
  }
  w.page.drawLine({
    start: { x: left, y: y(0) },
    end: { x: right, y: y(0) },
    thickness: 0.8,
    color: MUTED,
  });
  const group = (right - left) / labels.length;
  const barWidth = Math.min(18, (group * 0.75) / series.length);
  labels.forEach((label, i) => {
    const gx = left + i * group + (group - barWidth * series.length) / 2;
    series.forEach((s, k) => {
      const v = s.values[i];
      if (v === null || v === undefined) return;
      w.page.drawRectangle({
        x: gx + k * barWidth,
        y: Math.min(y(0), y(v)),
        width: barWidth - 1,
        height: Math.max(0.5, Math.abs(y(v) - y(0))),
        color: SERIES[k % SERIES.length],
      });
    });
    let text = clean(label);
    while (text.length > 1 && w.widthOf(text, 6.5) > group - 2) {
      text = `${text.slice(0, -2)}…`;
    }
    w.page.drawText(text, {
      x: left + i * group + (group - w.widthOf(text, 6.5)) / 2,
      y: bottom - 10,
      size: 6.5,
      font: w.font,
      color: MUTED,
    });
  });
  let lx = left;
  series.forEach((s, k) => {
    w.page.drawRectangle({
      x: lx,
      y: bottom - 24,
      width: 8,
      height: 8,
      color: SERIES[k % SERIES.length],
    });
    w.page.drawText(s.name, { x: lx + 11, y: bottom - 23, size: 7.5, font: w.font, color: INK });
    lx += 22 + w.widthOf(s.name, 7.5);
  });
  w.y = bottom - 34;
}

export async function renderReportPdf(report: ReportDocument): Promise<Uint8Array> {
  fontBytes ??= {
    regular: decodeBase64(DEJAVU_SANS_B64),
    bold: decodeBase64(DEJAVU_SANS_BOLD_B64),
  };
  const doc = await PDFDocument.create();
  doc.registerFontkit(fontkit);
  const font = await doc.embedFont(fontBytes.regular, { subset: true });
  const bold = await doc.embedFont(fontBytes.bold, { subset: true });
  doc.setTitle(clean(report.title));
  doc.setSubject(TYPE_NAMES[report.reportType] ?? report.reportType);
  doc.setProducer("Analyst Workbench reports (pdf-lib)");
  doc.setCreationDate(report.generatedAt);
  const { kpis } = report;
  const w = new Writer(doc, font, bold);

  w.paragraph(report.title, { size: 18 });
  const period = kpis.columns.length && kpis.report_type !== "variance"
    ? `${kpis.columns[0]} – ${kpis.columns[kpis.columns.length - 1]}`
    : "as in the budget file";
  const currency = kpis.currency
    ? `${kpis.currency} (${CURRENCY_SIGNS[kpis.currency] ?? kpis.currency})`
    : "as in the file";
  w.text(`${TYPE_NAMES[report.reportType] ?? report.reportType} · Period: ${period}`, {
    size: 10,
    color: MUTED,
  });
  w.text(
    `Amounts in ${currency} · Generated ${
      report.generatedAt.toISOString().slice(0, 16).replace("T", " ")
    } UTC`,
    {
      size: 9,
      color: MUTED,
    },
  );
  if (report.notes) {
    w.y -= 4;
    w.paragraph(`Notes: ${report.notes}`, { size: 9, color: MUTED });
  }

  w.heading("Summary");
  w.paragraph(report.narrative);

  w.heading("Key figures");
  kpiTable(w, kpis);
  if (kpis.scalars.length) {
    for (const s of kpis.scalars) {
      w.text(`${s.label}: ${formatValue(s.figure.value, s.figure.unit, kpis.currency)}`, {
        size: 9.5,
      });
    }
    w.y -= 6;
  }

  w.heading("Chart");
  barChart(w, kpis);

  if (kpis.warnings.length) {
    w.heading("Warnings");
    for (const warning of kpis.warnings) w.paragraph(`• ${warning}`, { size: 9, color: WARN });
  }

  w.newPage();
  w.heading("Sources");
  w.paragraph(
    "Every figure above was read from these cells of the uploaded files (derived figures from the cells of their inputs).",
    { size: 8.5, color: MUTED },
  );
  const max = report.maxSources ?? 400;
  for (const src of kpis.sources.slice(0, max)) {
    w.text(`${describeSource(src)}${src.label ? ` — ${src.label}` : ""}`, { size: 7.5 });
  }
  if (kpis.sources.length > max) {
    w.text(`… and ${kpis.sources.length - max} more cells`, { size: 7.5, color: MUTED });
  }

  const pages = doc.getPages();
  pages.forEach((p, i) => {
    p.drawText(`${i + 1} / ${pages.length}`, {
      x: PAGE.width - PAGE.margin - 24,
      y: 20,
      size: 7,
      font,
      color: MUTED,
    });
  });
  return await doc.save();
}
