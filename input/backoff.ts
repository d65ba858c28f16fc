// How long to wait before trying again: exponential backoff with jitter, the one formula of the collector. The step
// doubles from `baseMs` up to `maxMs`; jitter spreads the retries of many clients (many collectors reconnecting to one
// paused Fluent Bit, many streams retrying a throttled API):
// - full: uniform in [0, step] (the DI client: a server's Retry-After wins anyway; AWS architecture blog's "full
// jitter")
// - equal: half the step fixed, half random, [step/2, step] (the forward client: never zero, so no hot reconnect loop)

export interface Backoff {
  /** Step of the first retry, ms. */
  readonly baseMs: number;
  /** Cap of the step, ms. */
  readonly maxMs: number;
  readonly jitter: 'full' | 'equal';
}

/** The delay before retry number `retry` (0 for the first). `random` returns [0, 1). */
export function backoffDelay(retry: number, b: Backoff, random: () => number = Math.random): number {
  const step = Math.min(b.maxMs, b.baseMs * 2 ** Math.min(Math.max(retry, 0), 52));
  return b.jitter === 'full' ? Math.floor(random() * step) : Math.round(step / 2 + random() * (step / 2));
}
