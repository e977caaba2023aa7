/**
 * Phase timings of one request (auth, preflight, retrieval, prompt, llm, persistence, metering),
 * returned in a `Server-Timing` header so the bench (and browsers' dev tools) can read where the
 * time goes.
 */

export interface PhaseTimer {
  /** Runs `fn` and adds its wall time to `phase`. */
  time<T>(phase: string, fn: () => Promise<T> | T): Promise<T>;
  add(phase: string, ms: number): void;
  phases(): Record<string, number>;
  /** `auth;dur=1.2, preflight;dur=3.4, …` */
  header(): string;
}

export function createPhaseTimer(now: () => number = () => performance.now()): PhaseTimer {
  const phases: Record<string, number> = {};
  const add = (phase: string, ms: number) => {
    phases[phase] = (phases[phase] ?? 0) + ms;
  };
  return {
    async time(phase, fn) {
      const started = now();
      try {
        return await fn();
      } finally {
        add(phase, now() - started);
      }
    },
    add,
    phases: () => ({ ...phases }),
    header: () =>
      Object.entries(phases).map(([name, ms]) => `${name};dur=${ms.toFixed(1)}`).join(", "),
  };
}

/** Reads a `Server-Timing` header back into phase → milliseconds. */
export function parseServerTiming(header: string | null): Record<string, number> {
  const out: Record<string, number> = {};
  for (const part of (header ?? "").split(",")) {
    const [name, ...params] = part.trim().split(";");
    const dur = params.map((p) => p.trim()).find((p) => p.startsWith("dur="));
    if (name && dur) out[name] = Number(dur.slice(4));
  }
  return out;
}
