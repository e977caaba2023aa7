/**
 * Deterministic, business-like text and records for the bench's documents: a few thousand words
 * made of syllables (so the text compresses about like prose), sentences with numbers, and ledger
 * rows.
 */

export class Rng {
  private state: number;
  constructor(seed = 42) {
    this.state = seed >>> 0;
  }
  /** 0 <= x < 1 */
  next(): number {
    // mulberry32
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }
}

const COMMON = (
  "the of and to in a is that for on with as by at from this be are was it an or which has " +
  "have will its their our we were not but than more also into over under after before while"
).split(" ");
const BUSINESS = (
  "revenue margin cash flow quarter budget forecast capital expenditure operating income " +
  "statement balance sheet liquidity covenant growth customers pricing costs supplier contract " +
  "inventory receivables payables headcount payroll audit compliance risk treasury debt equity " +
  "dividend guidance segment region market share pipeline churn retention subscription licence " +
  "depreciation amortisation provision accrual reconciliation variance target actuals board " +
  "committee policy procurement logistics warehouse freight energy insurance tax"
).split(" ");
const SYLLABLES = (
  "ka lo mi ne su ta ri po ve da fi gu ho ja ke lu ma ni or pe qua ra se ti un vo wa xe yo ze " +
  "bra cre dri fla gro pla sta tre"
).split(" ");

export class TextGenerator {
  private readonly words: string[];
  constructor(private readonly rng = new Rng()) {
    const made = new Set<string>();
    while (made.size < 3000) {
      let w = "";
      const n = 2 + rng.int(3);
      for (let i = 0; i < n; i++) w += rng.pick(SYLLABLES);
      made.add(w);
    }
    this.words = [...made];
  }

  word(): string {
    const r = this.rng.next();
    if (r < 0.35) return this.rng.pick(COMMON);
    if (r < 0.6) return this.rng.pick(BUSINESS);
    if (r < 0.63) return `${(this.rng.next() * 100).toFixed(1)}%`;
    if (r < 0.65) return String(1000 + this.rng.int(900_000));
    return this.rng.pick(this.words);
  }

  sentence(): string {
    const n = 8 + this.rng.int(18);
    const words = Array.from({ length: n }, () => this.word());
    words[0] = words[0][0].toUpperCase() + words[0].slice(1);
    return `${words.join(" ")}.`;
  }

  paragraph(): string {
    return Array.from({ length: 3 + this.rng.int(6) }, () => this.sentence()).join(" ");
  }

  title(): string {
    const n = 2 + this.rng.int(5);
    const words = Array.from({ length: n }, () => this.rng.pick(BUSINESS));
    return words.map((w) => w[0].toUpperCase() + w.slice(1)).join(" ");
  }
}

/** A ledger row: date, account, cost centre, counterparty, description, amount. */
export function ledgerRow(rng: Rng, text: TextGenerator, i: number): (string | number)[] {
  const month = String((i % 12) + 1).padStart(2, "0");
  const day = String((i % 28) + 1).padStart(2, "0");
  return [
    `2026-${month}-${day}`,
    `account-${i % 97}`,
    `cost centre ${i % 13}`,
    `${text.title()} Ltd`,
    text.sentence(),
    Math.round(rng.next() * 10_000_000) / 100,
  ];
}
