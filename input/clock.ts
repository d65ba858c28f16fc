// Where time comes from (the Clock interface: types.ts): the wall clock, or a shared accelerated clock in tests and the
// demo. Engine code reads and waits for time only through an injected Clock (a lint rule holds it to that), so that
// tests drive it with a manual clock instead of sleeping.
import type { Clock } from './types.js';

function abortableDelay(realMs: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, Math.max(0, realMs));
    signal?.addEventListener('abort', done, { once: true });
  });
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) => abortableDelay(ms, signal),
};

/**
 * A clock that runs `speed` times faster than the wall clock and reads `virtualStart` at real time `realStart`.
 * Two processes given the same spec agree on the time, so a simulator and a collector can live through
 * "30 minutes of late indexing" in seconds. Spec: `<virtual start ISO>@<real start epoch ms>x<speed>`.
 */
export function acceleratedClock(virtualStart: number, realStart: number, speed: number): Clock {
  return {
    now: () => virtualStart + (Date.now() - realStart) * speed,
    sleep: (ms, signal) => abortableDelay(ms / speed, signal),
  };
}

export function formatClockSpec(virtualStart: number, realStart: number, speed: number): string {
  return `${new Date(virtualStart).toISOString()}@${realStart}x${speed}`;
}

export function parseClockSpec(spec: string): Clock {
  const m = /^(.+)@(\d+)x(\d+(?:\.\d+)?)$/.exec(spec);
  const virtualStart = m ? Date.parse(m[1]!) : NaN;
  if (!m || Number.isNaN(virtualStart) || !(Number(m[3]) > 0)) {
    throw new Error(
      `invalid clock spec "${spec}": expected <ISO time>@<real epoch ms>x<speed>, e.g. ` +
        `2026-01-01T00:00:00Z@1767225600000x60`,
    );
  }
  return acceleratedClock(virtualStart, Number(m[2]), Number(m[3]));
}

/** A one-shot timer on a clock (a sleep that can be called off): what engine code arms instead of setTimeout. */
export class ClockTimer {
  private pending: AbortController | undefined;

  constructor(private readonly clock: Clock) {}

  /** Waiting to fire. */
  get armed(): boolean {
    return this.pending !== undefined;
  }

  /** Calls `fire` after `ms` on the clock; replaces a timer already armed. */
  arm(ms: number, fire: () => void): void {
    this.clear();
    const pending = new AbortController();
    this.pending = pending;
    void this.clock.sleep(ms, pending.signal).then(() => {
      if (this.pending !== pending) return; // cleared or re-armed meanwhile
      this.pending = undefined;
      fire();
    });
  }

  clear(): void {
    this.pending?.abort();
    this.pending = undefined;
  }
}
