/**
 * A strict parser of the Prometheus text exposition format (0.0.4), for the metrics tests (no
 * parser is on npm without a server dependency): `# HELP` / `# TYPE` lines, samples
 * `name{label="value",…} value`, label values with the format's escapes. It throws on anything
 * else: a malformed line, a sample before its family's TYPE, a TYPE given twice or after a sample,
 * a name or label name the format forbids, a value that is not a float, a histogram whose buckets
 * are not cumulative or lack `+Inf`, or a `_count` that differs from the `+Inf` bucket.
 */

export interface ParsedSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface ParsedFamily {
  name: string;
  type: string;
  help?: string;
  samples: ParsedSample[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(["counter", "gauge", "histogram", "summary", "untyped"]);

function parseValue(raw: string, line: string): number {
  if (raw === "+Inf") return Infinity;
  if (raw === "-Inf") return -Infinity;
  if (raw === "NaN") return NaN;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(raw)) throw new Error(`bad value: ${line}`);
  return Number(raw);
}

function parseLabels(raw: string, line: string): Record<string, string> {
  const labels: Record<string, string> = {};
  let i = 0;
  while (i < raw.length) {
    const eq = raw.indexOf("=", i);
    if (eq < 0) throw new Error(`bad labels: ${line}`);
    const name = raw.slice(i, eq);
    if (!LABEL.test(name) || name in labels) throw new Error(`bad label name: ${line}`);
    if (raw[eq + 1] !== '"') throw new Error(`unquoted label value: ${line}`);
    let j = eq + 2;
    let value = "";
    for (;; j++) {
      if (j >= raw.length) throw new Error(`unterminated label value: ${line}`);
      const c = raw[j];
      if (c === "\\") {
        const n = raw[++j];
        if (n === "n") value += "\n";
        else if (n === "\\" || n === '"') value += n;
        else throw new Error(`bad escape: ${line}`);
      } else if (c === '"') break;
      else value += c;
    }
    labels[name] = value;
    i = j + 1;
    if (raw[i] === ",") i++;
    else if (i !== raw.length) throw new Error(`bad label separator: ${line}`);
  }
  return labels;
}

function familyName(sample: string, families: Map<string, ParsedFamily>): string {
  for (const suffix of ["_bucket", "_sum", "_count"]) {
    const base = sample.endsWith(suffix) ? sample.slice(0, -suffix.length) : undefined;
    if (base && ["histogram", "summary"].includes(families.get(base)?.type ?? "")) return base;
  }
  return sample;
}

function checkHistogram(f: ParsedFamily): void {
  const groups = new Map<string, ParsedSample[]>();
  for (const s of f.samples.filter((s) => s.name === `${f.name}_bucket`)) {
    const { le, ...rest } = s.labels;
    if (le === undefined) throw new Error(`${f.name}: bucket without le`);
    const key = JSON.stringify(rest);
    groups.set(key, [...(groups.get(key) ?? []), s]);
  }
  for (const [key, buckets] of groups) {
    const sorted = [...buckets].sort((a, b) =>
      parseValue(a.labels.le!, "le") - parseValue(b.labels.le!, "le")
    );
    if (sorted.at(-1)?.labels.le !== "+Inf") throw new Error(`${f.name}: no +Inf bucket`);
    for (let i = 1; i < sorted.length; i++) {
      if (sorted[i]!.value < sorted[i - 1]!.value) throw new Error(`${f.name}: not cumulative`);
    }
    const count = f.samples.find((s) =>
      s.name === `${f.name}_count` && JSON.stringify(s.labels) === key
    );
    if (!count || count.value !== sorted.at(-1)!.value) {
      throw new Error(`${f.name}: _count differs from the +Inf bucket`);
    }
  }
}

/** Parses an exposition; throws on the first thing the format does not allow. */
export function parsePrometheusText(text: string): Map<string, ParsedFamily> {
  const families = new Map<string, ParsedFamily>();
  const seenSamples = new Set<string>();
  if (text.length > 0 && !text.endsWith("\n")) throw new Error("the exposition must end with \\n");
  for (const line of text.split("\n")) {
    if (line === "") continue;
    if (line.startsWith("#")) {
      const m = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
      if (!m) continue; // a plain comment
      const [, kind, name, rest] = m;
      if (!NAME.test(name!)) throw new Error(`bad metric name: ${line}`);
      const family = families.get(name!) ?? { name: name!, type: "untyped", samples: [] };
      if (kind === "TYPE") {
        if (!TYPES.has(rest!)) throw new Error(`bad type: ${line}`);
        if (family.type !== "untyped" || family.samples.length) {
          throw new Error(`TYPE again or after samples: ${line}`);
        }
        family.type = rest!;
      } else {
        if (family.help !== undefined) throw new Error(`HELP again: ${line}`);
        family.help = rest;
      }
      families.set(name!, family);
      continue;
    }
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: (-?\d+))?$/.exec(line);
    if (!m) throw new Error(`bad sample line: ${line}`);
    const [, name, rawLabels, rawValue] = m;
    const sample = {
      name: name!,
      labels: rawLabels ? parseLabels(rawLabels, line) : {},
      value: parseValue(rawValue!, line),
    };
    const key = `${sample.name}${JSON.stringify(sample.labels)}`;
    if (seenSamples.has(key)) throw new Error(`duplicate sample: ${line}`);
    seenSamples.add(key);
    const family = families.get(familyName(name!, families));
    if (!family || family.type === "untyped") throw new Error(`sample before its TYPE: ${line}`);
    family.samples.push(sample);
  }
  for (const f of families.values()) if (f.type === "histogram") checkHistogram(f);
  return families;
}

/** The value of one sample (labels must match exactly), or undefined. */
export function sampleValue(
  families: Map<string, ParsedFamily>,
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  for (const f of families.values()) {
    const s = f.samples.find((s) =>
      s.name === name && JSON.stringify(Object.entries(s.labels).sort()) ===
        JSON.stringify(Object.entries(labels).sort())
    );
    if (s) return s.value;
  }
  return undefined;
}
