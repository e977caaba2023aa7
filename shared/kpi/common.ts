/** Small helpers shared by the report types. */
import type { Cell } from "./extract.ts";
import type { Figure, KpiRow, Provenance, Unit } from "./types.ts";

/** Values within half a unit (plus rounding noise) are the same figure. */
export function agrees(a: number, b: number): boolean {
  return Math.abs(a - b) <= 0.5 + 1e-9 * Math.max(Math.abs(a), Math.abs(b));
}

export function stated(cell: Cell, unit: Unit = "money", abs = false): Figure {
  return { value: abs ? Math.abs(cell.value) : cell.value, unit, source: cell.source };
}

export function derived(
  value: number,
  formula: string,
  inputs: (Figure | null | undefined)[],
  unit: Unit = "money",
): Figure {
  const sources: Provenance[] = [];
  for (const f of inputs) {
    if (!f) continue;
    if (f.source) sources.push(f.source);
    if (f.inputs) sources.push(...f.inputs);
  }
  return { value, unit, formula, inputs: sources };
}

export function percentOf(
  part: Figure | null,
  whole: Figure | null,
  formula: string,
): Figure | null {
  if (!part || !whole || whole.value === 0) return null;
  return derived((part.value / whole.value) * 100, formula, [part, whole], "percent");
}

/** Change from the previous column: absolute and % rows for one row. */
export function changeRows(row: KpiRow): KpiRow[] {
  const abs: (Figure | null)[] = [null];
  const pct: (Figure | null)[] = [null];
  for (let i = 1; i < row.cells.length; i++) {
    const prev = row.cells[i - 1] ?? null;
    const cur = row.cells[i] ?? null;
    if (!prev || !cur) {
      abs.push(null);
      pct.push(null);
      continue;
    }
    abs.push(derived(cur.value - prev.value, `${row.label} change`, [cur, prev]));
    pct.push(
      prev.value === 0 ? null : derived(
        ((cur.value - prev.value) / Math.abs(prev.value)) * 100,
        `${row.label} change %`,
        [cur, prev],
        "percent",
      ),
    );
  }
  return [
    { key: `${row.key}_change`, label: `${row.label} change`, unit: "money", cells: abs },
    { key: `${row.key}_change_pct`, label: `${row.label} change %`, unit: "percent", cells: pct },
  ];
}

/** Every distinct source cell of the figures, in row order. */
export function collectSources(figures: (Figure | null)[]): Provenance[] {
  const seen = new Map<string, Provenance>();
  for (const f of figures) {
    if (!f) continue;
    for (const p of [f.source, ...(f.inputs ?? [])]) {
      if (!p) continue;
      const key = `${p.file}|${p.sheet ?? ""}|${p.row}|${p.column}`;
      if (!seen.has(key)) seen.set(key, p);
    }
  }
  return [...seen.values()];
}

export function pickCurrency(found: Iterable<string>, fallback?: string): string | null {
  for (const c of found) return c;
  return fallback ?? null;
}
