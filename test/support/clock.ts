// A clock for tests of code that takes one: it stands still until the test moves it, and a sleep ends when the clock
// reaches its deadline (or its signal aborts). Nothing waits for real time to pass.
import type { Clock } from '../../input/types.js';

export interface StandingClock extends Clock {
  /** Moves the clock on by `ms`, waking every sleep whose deadline it reaches. */
  advance(ms: number): void;
  /** Sleeps waiting for the clock. */
  readonly sleepers: number;
}

export function standingClock(start: number): StandingClock {
  let t = start;
  const sleepers = new Set<{ until: number; wake(): void }>();
  return {
    now: () => t,
    sleep: (ms, signal) =>
      new Promise<void>((resolve) => {
        if (signal?.aborted) return resolve();
        const s = {
          until: t + ms,
          wake: () => {
            sleepers.delete(s);
            signal?.removeEventListener('abort', s.wake);
            resolve();
          },
        };
        sleepers.add(s);
        signal?.addEventListener('abort', s.wake, { once: true });
      }),
    advance(ms) {
      t += ms;
      for (const s of [...sleepers]) if (s.until <= t) s.wake();
    },
    get sleepers() {
      return sleepers.size;
    },
  };
}

/** Lets what the last event set going run until it waits again (a few turns of the event loop, no timer). */
export async function settled(turns = 5): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise((r) => setImmediate(r));
}
