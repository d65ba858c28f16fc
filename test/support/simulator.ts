// Helpers shared by the DI client and simulator tests.
import { afterEach } from 'vitest';
import { startSimulator, type Simulator, type SimulatorOptions } from '../../input/simulator/server.js';
import type { Clock, Logger } from '../../input/types.js';

/**
 * For a test file: `sim(opts)` starts a simulator and `closers` takes anything else to close; all of it is closed
 * after each test.
 */
export function closedAfterEach(): {
  closers: (() => Promise<unknown>)[];
  sim: (opts: SimulatorOptions) => Promise<Simulator>;
} {
  const closers: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    await Promise.all(closers.splice(0).map((c) => c()));
  });
  const sim = async (opts: SimulatorOptions): Promise<Simulator> => {
    const s = await startSimulator(opts);
    closers.push(() => s.close());
    return s;
  };
  return { closers, sim };
}

/** A clock that stands still until the test moves it; sleeps advance it and resolve at once. Records sleeps. */
export function manualClock(
  start: number,
): Clock & { set(ms: number): void; advance(ms: number): void; sleeps: number[] } {
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
