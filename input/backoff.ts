// Exponential backoff with "equal jitter": half the step is fixed, half random, so retries spread out
// (many collectors reconnecting to one paused Fluent Bit) yet never drop to zero (no hot loop).

export interface BackoffOptions {
  /** First delay, ms. */
  readonly baseMs: number;
  /** Cap of a delay, ms. */
  readonly maxMs: number;
}

/** Delay before retry `attempt` (1-based). `random` returns [0, 1). */
export function backoffDelay(attempt: number, opts: BackoffOptions, random: () => number = Math.random): number {
  const step = Math.min(opts.maxMs, opts.baseMs * 2 ** Math.min(Math.max(attempt - 1, 0), 30));
  return Math.round(step / 2 + random() * (step / 2));
}
