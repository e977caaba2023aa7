/**
 * How a streaming reader shares a worker step: it asks `exhausted()` at every point where it could
 * stop and resume later, and calls `pause()` between pieces of work so the step can embed and
 * insert the chunks made so far while the reader goes on.
 */
export interface ReadBudget {
  /** True when the step should stop at the next point it can resume from. */
  exhausted(): boolean;
  /** Lets the step do its own work (and the event loop run). */
  pause(): Promise<void>;
}

/** Reads to the end (one-pass extraction). */
export const UNLIMITED: ReadBudget = {
  exhausted: () => false,
  pause: () => Promise.resolve(),
};

/** What a reader returns after a (partial) read. */
export interface ReadResult<C> {
  /** The whole file was read (the sink got everything). */
  done: boolean;
  /** Where to go on from (meaningless when done). */
  cursor: C;
  /** How much of the file is behind the cursor, 0–1 (for progress). */
  fraction: number;
  pageCount?: number;
}
