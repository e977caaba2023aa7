/**
 * What every bench prints so that its figures mean the same thing on any machine: a calibration
 * line (the time of a plain JavaScript loop of 3·10⁸ integer additions; with `--quick` a tenth of
 * it, reported scaled to 3·10⁸) and the load average (/proc/loadavg), at the start and at the end;
 * and its goals as ratios against a reference measured in the same run, on the same engine
 * (`ratio 0.62 (goal ≥ 0.5) met`). Absolute times swing several-fold between machines and with
 * the other work on a shared one (the same loop took 1.6 s on one machine and 0.22 s on another);
 * a ratio of two things measured side by side much less.
 */

/** The 1-, 5- and 15-minute load averages and the runnable/total tasks, from /proc/loadavg. */
export function loadAverage(): string {
  try {
    const [a, b, c, tasks] = Deno.readTextFileSync("/proc/loadavg").trim().split(/\s+/);
    return `${a} ${b} ${c} (runnable/tasks ${tasks})`;
  } catch {
    return Deno.loadavg().map((x) => x.toFixed(2)).join(" ");
  }
}

/** Milliseconds of a loop of `3e8 × fraction` integer additions, scaled to 3·10⁸. */
export function calibrationMs(fraction = 1): number {
  const n = Math.round(3e8 * fraction);
  const t = performance.now();
  let sum = 0;
  for (let i = 0; i < n; i++) sum = (sum + i) | 0;
  const ms = performance.now() - t;
  // Keep the loop from being optimised away.
  if (sum === 0.5) console.log(sum);
  return ms / fraction;
}

/** Whether `--quick` was given: smoke sizes, and a tenth of the calibration loop. */
export function isQuick(args: string[] = Deno.args): boolean {
  return args.includes("--quick");
}

/** `calibration: 3·10⁸ additions 812 ms · load average 2.31 1.90 1.75 (…)` */
export function calibrationLine(label: string, quick = isQuick()): string {
  const ms = calibrationMs(quick ? 0.1 : 1);
  return `[${label}] calibration: 3·10⁸ integer additions ${ms.toFixed(0)} ms${
    quick ? " (3·10⁷, scaled)" : ""
  } · load average ${loadAverage()}`;
}

/**
 * Prints the calibration line and the load average at the start, and returns what prints them
 * again at the end (call it in a `finally`).
 */
export function benchStart(name: string, quick = isQuick()): () => void {
  console.log(calibrationLine(`${name} start`, quick));
  return () => console.log(calibrationLine(`${name} end`, quick));
}

export interface Goal {
  /** `≤`: the ratio must not exceed `bound`; `≥`: it must reach it. */
  op: "≤" | "≥";
  bound: number;
}

/** Whether `ratio` meets `goal` (NaN never does). */
export function meets(ratio: number, goal: Goal): boolean {
  if (!Number.isFinite(ratio)) return false;
  return goal.op === "≤" ? ratio <= goal.bound : ratio >= goal.bound;
}

/** `ratio 0.62 (goal ≥ 0.5) met` */
export function formatRatio(ratio: number, goal: Goal, digits = 2): string {
  return `ratio ${
    Number.isFinite(ratio) ? ratio.toFixed(digits) : "n/a"
  } (goal ${goal.op} ${goal.bound}) ${meets(ratio, goal) ? "met" : "NOT met"}`;
}

/** One line: `  <label padded>  ratio 0.62 (goal ≥ 0.5) met  [detail]`. */
export function printRatio(label: string, ratio: number, goal: Goal, detail = ""): void {
  console.log(`  ${label.padEnd(58)} ${formatRatio(ratio, goal)}${detail ? `  ${detail}` : ""}`);
}

/** The p-th percentile (nearest rank) of `values`. */
export function percentile(values: number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))] ?? NaN;
}
