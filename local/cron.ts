/**
 * Schedules in pg_cron's syntax: five cron fields (minute hour day-of-month month day-of-week,
 * with `*`, lists, ranges and steps) or an interval of 1-59 seconds ('10 seconds').
 */

export type Schedule =
  | { kind: "interval"; seconds: number }
  | { kind: "cron"; fields: Set<number>[]; domStar: boolean; dowStar: boolean };

const RANGES: [number, number][] = [[0, 59], [0, 23], [1, 31], [1, 12], [0, 7]];

function parseField(text: string, [min, max]: [number, number]): Set<number> {
  const values = new Set<number>();
  for (const part of text.split(",")) {
    const [range, stepText] = part.split("/");
    const step = stepText === undefined ? 1 : Number(stepText);
    let lo: number, hi: number;
    if (range === "*") [lo, hi] = [min, max];
    else if (range.includes("-")) [lo, hi] = range.split("-").map(Number) as [number, number];
    else {
      lo = Number(range);
      hi = stepText === undefined ? lo : max;
    }
    if (![lo, hi, step].every(Number.isInteger) || lo < min || hi > max || lo > hi || step < 1) {
      throw new Error(`invalid cron field "${text}"`);
    }
    for (let v = lo; v <= hi; v += step) values.add(v);
  }
  return values;
}

export function parseSchedule(text: string): Schedule {
  const interval = /^\s*(\d+)\s+seconds?\s*$/i.exec(text);
  if (interval) {
    const seconds = Number(interval[1]);
    if (seconds < 1 || seconds > 59) throw new Error(`invalid interval "${text}"`);
    return { kind: "interval", seconds };
  }
  const parts = text.trim().split(/\s+/);
  if (parts.length !== 5) throw new Error(`invalid schedule "${text}"`);
  const fields = parts.map((p, i) => parseField(p, RANGES[i]));
  if (fields[4].has(7)) fields[4].add(0); // Sunday is 0 or 7
  return { kind: "cron", fields, domStar: parts[2] === "*", dowStar: parts[4] === "*" };
}

/** Whether a five-field schedule fires in the minute containing `at` (UTC, as pg_cron on Supabase). */
export function matchesMinute(s: Extract<Schedule, { kind: "cron" }>, at: Date): boolean {
  const [min, hour, dom, month, dow] = s.fields;
  if (
    !min.has(at.getUTCMinutes()) || !hour.has(at.getUTCHours()) || !month.has(at.getUTCMonth() + 1)
  ) {
    return false;
  }
  const domOk = dom.has(at.getUTCDate());
  const dowOk = dow.has(at.getUTCDay());
  // Classic cron: when both day fields are restricted, either may match.
  if (!s.domStar && !s.dowStar) return domOk || dowOk;
  return domOk && dowOk;
}
