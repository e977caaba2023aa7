/** Helpers shared by the table parsers: header naming and row width normalisation. */

/** Names blank header cells "column N" and pads the header and every row to the widest row. */
export function normaliseTable(header: string[], rows: string[][]): {
  header: string[];
  rows: string[][];
} {
  const width = rows.reduce((max, row) => Math.max(max, row.length), header.length);
  const named = Array.from({ length: width }, (_, i) => header[i]?.trim() || `column ${i + 1}`);
  const padded = rows.map((row) =>
    row.length < width ? [...row, ...Array<string>(width - row.length).fill("")] : row
  );
  return { header: named, rows: padded };
}
