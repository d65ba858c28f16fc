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

/**
 * Moves `clock` on by `stepMs` at a time, letting real I/O (sockets to a test double) run between steps, until `p`
 * settles; its result. For code on a standing clock whose waits (backoff, timeouts) must pass while it talks to a
 * real socket.
 */
export async function drive<T>(clock: StandingClock, p: Promise<T>, stepMs = 50, maxSteps = 10_000): Promise<T> {
  let done = false;
  const result = p.finally(() => (done = true));
  result.catch(() => undefined);
  for (let i = 0; !done && i < maxSteps; i++) {
    clock.advance(stepMs);
    await new Promise((r) => setTimeout(r, 1));
  }
  return result;
}
