// Helpers shared by the DI client and simulator tests.
import type { Clock, Logger } from '../../input/types.js';

/** A clock that stands still until the test moves it; sleeps advance it and resolve at once. Records sleeps. */
export function manualClock(start: number): Clock & { set(ms: number): void; advance(ms: number): void; sleeps: number[] } {
  let t = start;
  const sleeps: number[] = [];
  return {
    now: () => t,
    sleep: async (ms) => {
      sleeps.push(ms);
      t += ms;
      await new Promise((r) => setImmediate(r));
    },
    set: (ms) => {
      t = ms;
    },
    advance: (ms) => {
      t += ms;
    },
    sleeps,
  };
}

export interface LogEntry {
  level: string;
  obj: object;
  msg?: string;
}

/** A Logger that keeps every call, to assert on what was logged (and that no secret was). */
export function captureLogger(): Logger & { entries: LogEntry[]; text(): string } {
  const entries: LogEntry[] = [];
  const at = (level: string) => (obj: object, msg?: string) => {
    entries.push({ level, obj, msg });
  };
  return {
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    entries,
    text: () => JSON.stringify(entries),
  };
}

export const iso = (ms: number): string => new Date(ms).toISOString();
