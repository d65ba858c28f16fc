// The forward ledger (send-ledger.ts): the prefix of the chunks written since a baseline that Fluent Bit's input
// counter accounts for, found exactly or not at all; and a restart deciding it against a counter and an uptime. The
// ledger reads and waits on a manual clock (the counter must stand still for the settle time): nothing sleeps.
// (An input Fluent Bit does not list: test/integration/collector/acked-journal.test.ts.)
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import type { RecordsReading } from '../../../input/collector/oracle/records.js';
import {
  LEDGER_FILE,
  SendLedger,
  parseLedger,
  storedPrefix,
  type SendLedgerOptions,
} from '../../../input/collector/oracle/send-ledger.js';
import { manualClock, memoryLogger } from '../../support/fakes.js';

let dirs: string[] = [];
afterEach(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  dirs = [];
});

function stateDir(): string {
  const d = mkdtempSync(path.join(tmpdir(), 'ledger-'));
  dirs.push(d);
  return d;
}

const clock = manualClock(Date.parse('2026-03-01T12:00:00Z'));

/**
 * A Fluent Bit whose input has stored `count()` records (1,000 bytes each, unless given) and which started at
 * `startedAt`.
 */
function fluentBit(
  count: () => number | { records: number; bytes: number },
  startedAt: number,
  input = 'jumpcloud_forward',
): Pick<SendLedgerOptions, 'records' | 'uptime' | 'clock'> {
  return {
    clock,
    records: {
      input,
      read: async (): Promise<RecordsReading> => {
        const c = count();
        return typeof c === 'number' ? { at: clock.now(), records: c, bytes: 1000 * c } : { at: clock.now(), ...c };
      },
    },
    uptime: { answer: async () => ({ at: clock.now(), startedBefore: startedAt + 1000 }) },
  };
}

describe('storedPrefix', () => {
  it('finds the one prefix of the writes whose entries add up to the count, and no other (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 2000 }), { maxLength: 30 }),
        fc.nat(30),
        fc.integer({ min: 1, max: 1999 }),
        (writes, k0, off) => {
          const k = Math.min(k0, writes.length);
          const sum = writes.slice(0, k).reduce((a, b) => a + b, 0);
          expect(storedPrefix(writes, sum)).toBe(k);
          // A count between two prefix sums, or beyond them all, or negative, decides nothing.
          const between = sum + (k < writes.length ? off % writes[k]! : off);
          if (between !== sum) expect(storedPrefix(writes, between)).toBeUndefined();
          expect(storedPrefix(writes, -1)).toBeUndefined();
        },
      ),
    );
  });
});

describe('parseLedger', () => {
  it('reads a baseline, delivered ranges and writes; drops a torn last line', () => {
    const l = parseLedger('B 100 1700000000000 42 4200\nD 50 60\nW 1000 990000 1\nW 7 7100 1\nW 3');
    expect(l).toEqual({
      baseline: { firstSeq: 100, at: 1_700_000_000_000, records: 42, bytes: 4200 },
      delivered: [[50, 60]],
      writes: [1000, 7],
      bytes: [990000, 7100],
    });
  });

  it('is void when the writes span connections, after an X, or when a line is not understood', () => {
    expect(parseLedger('B 1 2 3 4\nW 5 50 1\nW 5 50 2\n').void).toMatch(/more than one connection/);
    expect(parseLedger('B 1 2 3 4\nW 5 50 1\nX\n').void).toMatch(/reconnected/);
    expect(parseLedger('B 1 2 3 4\nW five 50 1\n').void).toMatch(/malformed/);
    expect(parseLedger('B 1 2 3 4\nW 5 1\n').void).toMatch(/unexpected line/);
    expect(parseLedger('W 5 50 1\n').void).toMatch(/no baseline/);
  });
});

describe('SendLedger', () => {
  const settleMs = 50;

  it('a start killed while it reads the counter leaves the decision to the next start (nothing is sent again)', async () => {
    const dir = stateDir();
    let counter = 500;
    const fb = fluentBit(() => counter, clock.now() - 60_000);
    const first = await SendLedger.open({ stateDir: dir, ...fb, settleMs, logger: memoryLogger() });
    [1000, 800, 5].forEach((n) => first.ledger.written(n, 1000 * n, 1));
    await first.ledger.close();
    // The second start is killed while Fluent Bit still stores the first run's chunks: its counter never stood still.
    let reads = 0;
    let secondRead!: () => void;
    const reading = new Promise<void>((r) => (secondRead = r));
    const killed = SendLedger.open({
      stateDir: dir,
      settleMs,
      logger: memoryLogger(),
      uptime: fb.uptime,
      clock,
      records: {
        input: 'jumpcloud_forward',
        read: () => (++reads === 1 ? fb.records.read() : (secondRead(), new Promise<RecordsReading>(() => undefined))),
      },
    });
    await reading;
    void killed; // never settles: the process died here
    counter += 1000 + 800;
    const third = await SendLedger.open({ stateDir: dir, ...fb, settleMs, logger: memoryLogger() });
    expect(third.resolution).toEqual({ stored: 2, storedEntries: 1800, notStored: 1, notStoredEntries: 5 });
    await third.ledger.close();
  });

  it('decides the chunks in flight at a stop: the prefix the counter accounts for was stored, the rest was not', async () => {
    const dir = stateDir();
    let counter = 500;
    const fb = fluentBit(() => counter, clock.now() - 60_000);
    const first = await SendLedger.open({ stateDir: dir, ...fb, settleMs, logger: memoryLogger() });
    expect(first.resolution).toEqual({ stored: 0, storedEntries: 0, notStored: 0, notStoredEntries: 0 });
    const seqs = [1000, 800, 5, 1000].map((n) => first.ledger.written(n, 1000 * n, 1));
    counter += 1000 + 800; // Fluent Bit stored the first two writes; the collector is killed
    await first.ledger.close();

    const second = await SendLedger.open({ stateDir: dir, ...fb, settleMs, logger: memoryLogger() });
    expect(second.resolution).toEqual({ stored: 2, storedEntries: 1800, notStored: 2, notStoredEntries: 1005 });
    expect(seqs.map((s) => second.ledger.delivered(s))).toEqual([true, true, false, false]);
    expect(second.ledger.delivered(seqs[0]! - 1)).toBeUndefined();
    expect(second.ledger.delivered(seqs[3]! + 1)).toBeUndefined();
    // The new baseline is the counter now; its sequence numbers follow the old ones.
    const next = second.ledger.written(10, 10000, 1);
    expect(next).toBeGreaterThan(seqs[3]!);
    expect(readFileSync(path.join(dir, LEDGER_FILE), 'latin1')).toMatch(
      new RegExp(`^B \\d+ \\d+ ${counter} ${1000 * counter}\nD ${seqs[0]} ${seqs[2]}\nW 10 10000 1\n$`),
    );
    await second.ledger.close();
  });

  it(
    'decides nothing when the count is no prefix (another sender), after a restart of Fluent Bit, or across ' +
      'connections',
    async () => {
      for (const [what, run] of [
        [
          'another sender',
          (l: SendLedger, fb: { counter: number }) => {
            l.written(100, 100000, 1);
            l.written(100, 100000, 1);
            fb.counter += 150;
          },
        ],
        [
          'reconnect',
          (l: SendLedger, fb: { counter: number }) => {
            l.written(100, 100000, 1);
            l.written(100, 100000, 2);
            fb.counter += 200;
          },
        ],
        // As many records as the first write, not as many bytes: another sender's 100 records.
        [
          'same records, other bytes',
          (l: SendLedger, fb: { counter: number; extraBytes: number }) => {
            l.written(100, 100000, 1);
            l.written(100, 100000, 1);
            fb.counter += 100;
            fb.extraBytes = -37;
          },
        ],
      ] as const) {
        const dir = stateDir();
        const fb = { counter: 0, extraBytes: 0 };
        const opts = {
          stateDir: dir,
          ...fluentBit(() => ({ records: fb.counter, bytes: 1000 * fb.counter + fb.extraBytes }), clock.now() - 60_000),
          settleMs,
          logger: memoryLogger(),
        };
        const a = await SendLedger.open(opts);
        run(a.ledger, fb);
        await a.ledger.close();
        const b = await SendLedger.open(opts);
        expect(b.resolution.stored, what).toBe(0);
        expect(b.resolution.undecided, what).toBeDefined();
        await b.ledger.close();
      }
      // Restarted: its uptime began after the baseline (the counter starting again from 0 happens to match a prefix).
      const dir = stateDir();
      let counter = 0;
      let started = clock.now() - 60_000;
      const opts = (): SendLedgerOptions => ({
        stateDir: dir,
        ...fluentBit(() => counter, started),
        settleMs,
        logger: memoryLogger(),
      });
      const a = await SendLedger.open(opts());
      const seq = a.ledger.written(100, 100000, 1);
      await a.ledger.close();
      counter = 100;
      started = clock.now();
      const b = await SendLedger.open(opts());
      expect(b.resolution.undecided).toMatch(/restarted/);
      expect(b.ledger.delivered(seq)).toBeUndefined();
      await b.ledger.close();
    },
  );

  it('takes no baseline while the counter keeps moving, and one at the first moment nothing is in flight', async () => {
    const dir = stateDir();
    let counter = 0;
    let moving = true;
    const fb = fluentBit(() => (moving ? ++counter : counter), clock.now() - 60_000);
    const a = await SendLedger.open({ stateDir: dir, ...fb, settleMs, logger: memoryLogger(), stableWithinMs: 300 });
    expect(a.resolution.undecided).toMatch(/kept storing records/);
    expect(readFileSync(path.join(dir, LEDGER_FILE), 'latin1')).toBe('X\n');
    moving = false;
    const seq = a.ledger.written(10, 10000, 1);
    a.ledger.done(seq);
    await a.ledger.idle();
    expect(readFileSync(path.join(dir, LEDGER_FILE), 'latin1')).toMatch(
      new RegExp(`^B ${seq + 1} \\d+ ${counter} ${1000 * counter}\n$`),
    );
    await a.ledger.close();
  });

  it('a reconnect voids the ledger until nothing is in flight, then a new baseline decides again', async () => {
    const dir = stateDir();
    let counter = 0;
    const opts = { stateDir: dir, ...fluentBit(() => counter, clock.now() - 60_000), settleMs, logger: memoryLogger() };
    const a = await SendLedger.open(opts);
    const s1 = a.ledger.written(10, 10000, 1);
    const s2 = a.ledger.written(10, 10000, 2); // its resend on a new connection
    counter += 20;
    expect(readFileSync(path.join(dir, LEDGER_FILE), 'latin1')).toMatch(/W 10 10000 1\nX\n$/);
    a.ledger.done(s1);
    a.ledger.done(s2);
    await a.ledger.idle();
    expect(readFileSync(path.join(dir, LEDGER_FILE), 'latin1')).toMatch(new RegExp(`^B ${s2 + 1} `));
    const s3 = a.ledger.written(7, 7000, 2);
    counter += 7;
    await a.ledger.close();
    const b = await SendLedger.open(opts);
    expect(b.resolution).toEqual({ stored: 1, storedEntries: 7, notStored: 0, notStoredEntries: 0 });
    expect(b.ledger.delivered(s3)).toBe(true);
    await b.ledger.close();
  });
});
