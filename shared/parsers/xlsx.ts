/** XLSX extraction with exceljs: one table block per sheet with data, cells rendered as text. */
import ExcelJS from "exceljs";
import { normaliseTable } from "./table.ts";
import { type ExtractResult, ParseError, type TableBlock } from "./types.ts";
import { zipEntryNames } from "./zip.ts";

/** A date as YYYY-MM-DD, or YYYY-MM-DDTHH:MM:SS when it has a time (to the nearest second). */
function isoDate(date: Date): string {
  const ms = date.getTime();
  if (Number.isNaN(ms)) return "";
  const iso = new Date(Math.round(ms / 1000) * 1000).toISOString();
  return iso.endsWith("T00:00:00.000Z") ? iso.slice(0, 10) : iso.slice(0, 19);
}

/** A cell value as text: formulas give their cached result, rich text and links their text. */
export function cellText(value: ExcelJS.CellValue): string {
  if (value === null || value === undefined) return "";
  if (typeof value === "string") return value;
  if (typeof value === "number") return String(value);
  if (typeof value === "boolean") return value ? "TRUE" : "FALSE";
  if (value instanceof Date) return isoDate(value);
  if ("formula" in value || "sharedFormula" in value) return cellText(value.result ?? null);
  if ("richText" in value) return value.richText.map((run) => run.text).join("");
  if ("hyperlink" in value) return cellText(value.text as ExcelJS.CellValue);
  if ("error" in value) return String(value.error);
  return "";
}

/** The sheet as one table: first non-empty row is the header; empty rows inside are kept. */
function sheetTable(sheet: ExcelJS.Worksheet): TableBlock | null {
  const cells = new Map<number, Map<number, string>>();
  let minCol = Infinity;
  let maxCol = 0;
  sheet.eachRow({ includeEmpty: false }, (row, rowNumber) => {
    row.eachCell({ includeEmpty: false }, (cell, col) => {
      const text = cellText(cell.value).trim();
      if (!text) return;
      if (!cells.has(rowNumber)) cells.set(rowNumber, new Map());
      cells.get(rowNumber)!.set(col, text);
      minCol = Math.min(minCol, col);
      maxCol = Math.max(maxCol, col);
    });
  });
  if (cells.size === 0) return null;
  const rowNumbers = [...cells.keys()].sort((a, b) => a - b);
  const rowAt = (n: number) => {
    const row = cells.get(n);
    return Array.from({ length: maxCol - minCol + 1 }, (_, i) => row?.get(minCol + i) ?? "");
  };
  const headerRow = rowNumbers[0];
  const lastRow = rowNumbers[rowNumbers.length - 1];
  const data: string[][] = [];
  for (let n = headerRow + 1; n <= lastRow; n++) data.push(rowAt(n));
  const { header, rows } = normaliseTable(rowAt(headerRow), data);
  return { kind: "table", sheet: sheet.name, header, rows, firstRow: headerRow + 1 };
}

/** Extracts every sheet that has data as a table block. */
export async function extractXlsx(bytes: Uint8Array): Promise<ExtractResult> {
  const workbook = new ExcelJS.Workbook();
  try {
    if (!zipEntryNames(bytes)?.includes("xl/workbook.xml")) throw new Error("not a workbook");
    await workbook.xlsx.load(bytes.slice().buffer); // JSZip reads an ArrayBuffer as is
  } catch {
    throw new ParseError("file is not a valid XLSX");
  }
  const blocks: TableBlock[] = [];
  for (const sheet of workbook.worksheets) {
    const table = sheetTable(sheet);
    if (table) blocks.push(table);
  }
  if (blocks.length === 0) throw new ParseError("the workbook has no data");
  return { blocks };
}
