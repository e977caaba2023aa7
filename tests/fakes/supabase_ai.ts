/**
 * A stand-in for the Edge Runtime's `Supabase.ai` (gte-small): `{ Supabase: { ai: { Session } } }`
 * to pass as the runtime, recording every `run()`. Each run may cost `msPerRun` on a fake clock
 * (`clock.now()`), so a test can make the model as slow as it is on the Edge Runtime without
 * waiting for it.
 */
import { EMBEDDING_DIMENSIONS } from "../../shared/embeddings.ts";

export interface FakeSupabaseAi {
  runtime: { Supabase: { ai: { Session: new (model: string) => unknown } } };
  calls: { model: string; input: string; opts: unknown }[];
  /** Milliseconds on the fake clock: advanced by `msPerRun` at every run. */
  clock: { now(): number };
}

export function fakeSupabaseAi(
  opts: { dimensions?: number; msPerRun?: number } = {},
): FakeSupabaseAi {
  const dimensions = opts.dimensions ?? EMBEDDING_DIMENSIONS;
  const calls: FakeSupabaseAi["calls"] = [];
  let ms = 0;
  class Session {
    constructor(readonly model: string) {}
    run(input: string, runOpts: unknown) {
      calls.push({ model: this.model, input, opts: runOpts });
      ms += opts.msPerRun ?? 0;
      const v = new Float32Array(dimensions);
      v[input.length % dimensions] = 1;
      return Promise.resolve(v);
    }
  }
  return { runtime: { Supabase: { ai: { Session } } }, calls, clock: { now: () => ms } };
}
