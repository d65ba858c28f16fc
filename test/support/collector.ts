import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
// Shared helpers of the collector's integration tests: comparing forwarded ids with the simulator's events.
import { expect } from 'vitest';
import type { ForwardClient, ForwardEntry, MessageBatch } from '../../input/types.js';
import { entryList } from './fakes.js';
import type { Simulator } from '../../input/simulator/server.js';

export interface StreamSpec {
  readonly orgId: string;
  readonly service: string;
}

/** Every event the simulator holds for these streams in [start, end] (inclusive), by id. */
export function expectedIds(
  sim: Simulator,
  streams: readonly StreamSpec[],
  start: number,
  end: number,
): Map<string, string> {
  const out = new Map<string, string>();
  for (const s of streams) {
    for (const e of sim.expectedEvents({ ...(s.orgId ? { orgId: s.orgId } : {}), service: s.service, start, end })) {
      if (out.has(e.id)) throw new Error(`id ${e.id} appears in two streams: the test's streams overlap`);
      out.set(e.id, e.timestamp);
    }
  }
  return out;
}

export interface Comparison {
  readonly missing: string[];
  readonly unexpected: string[];
  /** id → copies beyond the first. */
  readonly duplicates: Map<string, number>;
  readonly extraCopies: number;
}

export function compareIds(received: readonly string[], expected: ReadonlyMap<string, string>): Comparison {
  const counts = new Map<string, number>();
  for (const id of received) counts.set(id, (counts.get(id) ?? 0) + 1);
  const missing = [...expected.keys()].filter((id) => !counts.has(id));
  const unexpected = [...counts.keys()].filter((id) => !expected.has(id));
  const duplicates = new Map<string, number>();
  let extraCopies = 0;
  for (const [id, n] of counts) {
    if (n > 1) {
      duplicates.set(id, n - 1);
      extraCopies += n - 1;
    }
  }
  return { missing, unexpected, duplicates, extraCopies };
}

/** Fails with a readable summary (the first few ids) rather than a diff of thousands. */
export function expectNoLoss(c: Comparison, expectedCount: number): void {
  expect({
    missing: c.missing.length,
    unexpected: c.unexpected.length,
    firstMissing: c.missing.slice(0, 5),
    firstUnexpected: c.unexpected.slice(0, 5),
    expected: expectedCount,
  }).toEqual({
    missing: 0,
    unexpected: 0,
    firstMissing: [],
    firstUnexpected: [],
    expected: expectedCount,
  });
}

export async function until(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Wraps a forward client and counts how often the engine handed each id to send(): the engine's own repeats. */
export class CountingForward implements ForwardClient {
  readonly sent = new Map<string, number>();
  constructor(private readonly inner: ForwardClient) {}
  send(tag: string, entries: readonly ForwardEntry[] | MessageBatch): Promise<void> {
    for (const e of entryList(entries)) {
      const id = (JSON.parse(String(e.record.message)) as { id: string }).id;
      this.sent.set(id, (this.sent.get(id) ?? 0) + 1);
    }
    return this.inner.send(tag, entries);
  }
  close(timeoutMs?: number): Promise<boolean> {
    return this.inner.close(timeoutMs);
  }
  /** Ids the engine sent more than once. */
  repeated(): string[] {
    return [...this.sent].filter(([, n]) => n > 1).map(([id]) => id);
  }
}

export interface CollectorChild {
  readonly child: ChildProcess;
  /** The CLI logged "collector starting" (its signal handlers are installed), or it exited. */
  readonly ready: Promise<void>;
  /** Exit code; its stderr log has been written to `logFile` by then. */
  readonly exited: Promise<number | null>;
  log(): string;
}

/** Spawns the collector CLI (`node <args>` from the repo root) with `env` added, keeping its stderr log. */
export function spawnCollector(args: readonly string[], env: Record<string, string>, logFile: string): CollectorChild {
  const child = spawn(process.execPath, args, {
    cwd: fileURLToPath(new URL('../..', import.meta.url)),
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  const ready = new Promise<void>((resolve) => {
    child.stderr!.on('data', (b: Buffer) => {
      log += b.toString();
      if (log.includes('collector starting')) resolve();
    });
    child.on('exit', () => resolve());
  });
  const exited = new Promise<number | null>((resolve) =>
    child.on('exit', (code) => {
      writeFileSync(logFile, log);
      resolve(code);
    }),
  );
  return { child, ready, exited, log: () => log };
}
