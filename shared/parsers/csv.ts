/** CSV extraction with papaparse: UTF-8 only, delimiter auto-detected, first row is the header. */
import papaparse from "papaparse";
import { normaliseTable } from "./table.ts";
import { decodeUtf8 } from "./text.ts";
import { type ExtractResult, ParseError } from "./types.ts";

/** The little of papaparse's API used here (the package ships no types). */
interface Papa {
  parse(
    input: string,
    config: { delimiter: string; skipEmptyLines: "greedy"; header: false },
  ): { data: string[][] };
}

const Papa = papaparse as unknown as Papa;

/** Extracts a CSV file as one table block whose header is the file's first row. */
export function extractCsv(bytes: Uint8Array): Promise<ExtractResult> {
  return Promise.resolve().then(() => {
    const text = decodeUtf8(bytes);
    const { data } = Papa.parse(text, { delimiter: "", skipEmptyLines: "greedy", header: false });
    const records = data.map((row) => row.map((cell) => cell.trim()));
    if (records.length === 0) throw new ParseError("the CSV file is empty");
    if (records.length === 1) throw new ParseError("the CSV file has a header but no rows");
    const { header, rows } = normaliseTable(records[0], records.slice(1));
    return { blocks: [{ kind: "table", header, rows, firstRow: 2 }] };
  });
}
