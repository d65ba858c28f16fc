// The delivery core (input/collector/delivery): the states an id goes through during a run (reserve, written, acked,
// commit, release), the id journal's lines for each, and a restart's decision on what the last run left in flight
// (decideRestart: the ledger's verdict on a write first, then the uptime's on an ack, the rest sent again).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { decideRestart, IdBatch, SeenIds, type RestartOracle } from '../../../input/collector/delivery/index.js';
import { writeLine } from '../../../input/collector/delivery/journal-codec.js';
import { memoryLogger } from '../../support/fakes.js';

const stream = { org: 'o', service: 'directory' };
const hex = (i: number): string => i.toString(16).padStart(24, '0');
let dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function journal(opts: { journalAcks?: boolean; journalWrites?: boolean } = {}): {
  file: string;
  open: () => Promise<SeenIds>;
} {
  const dir = mkdtempSync(path.join(tmpdir(), 'seen-ids-'));
  dirs.push(dir);
  const file = path.join(dir, 'directory.ids');
  return { file, open: () => SeenIds.open(file, { maxIds: 1_000_000, logger: memoryLogger(), stream, ...opts }) };
}

/** An oracle that answers from the test's tables; `ackError` makes the uptime question fail. */
function oracle(o: {
  write?: (seq: number) => boolean | undefined;
  ack?: (at: number) => boolean;
  ackError?: Error;
}): RestartOracle & {
  asked: number[];
} {
  const asked: number[] = [];
  return {
    asked,
    writeStored: (seq) => o.write?.(seq),
    acksStored: async (newest) => {
      asked.push(newest);
      if (o.ackError) throw o.ackError;
      return { stored: o.ack ?? (() => false), evidence: { by: 'test' } };
    },
  };
}

const lines = (file: string): string[] =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l !== '');

describe('journal lines', () => {
  it('writeLine with an ack time writes `id<TAB>ts<TAB>acked@ms`, the same bytes as the text form (property)', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 40 }), fc.nat(), fc.nat(), (id, ts, ackedAt) => {
        const buf = Buffer.alloc(3 * id.length + 64);
        const end = writeLine(buf, 0, id, ts, ackedAt);
        const quoted = /[\t\r\n"]/.test(id) ? JSON.stringify(id) : id;
        expect(buf.toString('utf8', 0, end)).toBe(`${quoted}\t${ts}\tacked@${ackedAt}\n`);
      }),
    );
  });

  it('each state leaves its line: sent@seq at the write, acked@ms at the ack, a plain line once delivered', async () => {
    const j = journal({ journalAcks: true, journalWrites: true });
    const seen = await j.open();
    const batch = IdBatch.of([
      { id: hex(1), ts: 10 },
      { id: hex(2), ts: 20 },
    ]);
    seen.reserve(hex(1));
    seen.reserve(hex(2));
    seen.written(batch, 0, 2, 77);
    seen.acked(batch, 0, 2, 5000);
    seen.commit(batch, 0, 1);
    await seen.close();
    expect(lines(j.file)).toEqual([
      `${hex(1)}\t10\tsent@77`,
      `${hex(2)}\t20\tsent@77`,
      `${hex(1)}\t10\tacked@5000`,
      `${hex(2)}\t20\tacked@5000`,
      `${hex(1)}\t10`,
    ]);
    const again = await j.open();
    expect(again.has(hex(1))).toBe(true);
    expect(again.has(hex(2))).toBe(false);
    expect(again.leftInFlight).toEqual({ acked: 1, written: 1, newestAckedAt: 5000, oldestAckedAt: 5000 });
    await again.close();
  });

  it('without journalAcks and journalWrites nothing is written before the delivery', async () => {
    const j = journal();
    const seen = await j.open();
    const batch = IdBatch.of([{ id: hex(1), ts: 1 }]);
    seen.reserve(hex(1));
    seen.written(batch, 0, 1, 3);
    seen.acked(batch, 0, 1, 1);
    await seen.close();
    expect(readFileSync(j.file, 'utf8')).toBe('');
  });

  it('a torn last line and malformed lines are skipped with a warning; the rest loads', async () => {
    const j = journal();
    writeFileSync(j.file, `${hex(1)}\t10\nnot a line\n${hex(2)}\tx\n"unterminated\t5\n${hex(3)}\t30\n${hex(4)}\t4`);
    const logger = memoryLogger();
    const seen = await SeenIds.open(j.file, { maxIds: 100, logger, stream });
    expect([hex(1), hex(2), hex(3), hex(4)].map((id) => seen.has(id))).toEqual([true, false, true, false]);
    expect(logger.lines.map((l) => l.msg)).toEqual([
      expect.stringMatching(/^id journal ends with a torn line/),
      expect.stringMatching(/^id journal has malformed lines/),
    ]);
    expect(readFileSync(j.file, 'utf8').endsWith(`${hex(3)}\t30\n`)).toBe(true);
    await seen.close();
  });
});

describe('a run: in flight, delivered, forgotten', () => {
  it(
    'per chunk: acked ranges are journaled at the ack, delivered ones at the settle; a restart finds the unsettled ' +
      'ones',
    async () => {
      const j = journal({ journalAcks: true });
      const seen = await j.open();
      const batch = IdBatch.of(Array.from({ length: 10 }, (_, i) => ({ id: hex(i), ts: 1000 + i })));
      for (let i = 0; i < 10; i++) seen.reserve(batch.id(i));
      seen.acked(batch, 0, 4, 5000);
      seen.commit(batch, 0, 4); // chunk 1 settled
      seen.acked(batch, 4, 10, 5100); // chunk 2 acked, not settled: the collector dies here
      expect(seen.size).toBe(4);
      await seen.close();
      const text = readFileSync(j.file, 'utf8');
      expect(text.split('\n').filter((l) => l.endsWith('acked@5100'))).toHaveLength(6);
      const again = await j.open();
      expect(again.size).toBe(4);
      expect(again.leftInFlight).toEqual({ acked: 6, written: 0, newestAckedAt: 5100, oldestAckedAt: 5100 });
      expect(again.has(hex(5))).toBe(false);
      const logger = memoryLogger();
      await decideRestart(again, oracle({ ack: (at) => at === 5100 }), { logger, labels: stream });
      expect(again.has(hex(5))).toBe(true);
      expect(logger.lines[0]!.obj).toMatchObject({ confirmed: 6, resent: 0, by: 'test' });
      expect(again.leftInFlight.acked).toBe(0);
      await again.close();
      // Confirmed ids were journaled as delivered: the next start finds nothing to decide.
      const third = await j.open();
      expect(third.size).toBe(10);
      expect(third.leftInFlight.acked).toBe(0);
      await third.close();
    },
  );

  it('a rewrite (compaction) keeps the acked@ lines of chunks still settling; a failed send forgets them', async () => {
    const j = journal({ journalAcks: true });
    const seen = await j.open();
    const a = IdBatch.of([
      { id: hex(1), ts: 10 },
      { id: hex(2), ts: 20 },
    ]);
    const b = IdBatch.of([{ id: hex(3), ts: 30 }]);
    for (const id of [hex(1), hex(2), hex(3)]) seen.reserve(id);
    seen.acked(a, 0, 2, 7000);
    seen.acked(b, 0, 1, 7001);
    seen.release(b); // its send failed (connection closed within the settle time)
    await seen.compact(() => true);
    await seen.close();
    expect(lines(j.file).sort()).toEqual([`${hex(1)}\t10\tacked@7000`, `${hex(2)}\t20\tacked@7000`]);
  });

  it('release forgets only ids still in flight: a delivered id stays', async () => {
    const j = journal();
    const seen = await j.open();
    const batch = IdBatch.of([
      { id: hex(1), ts: 1 },
      { id: hex(2), ts: 2 },
    ]);
    seen.reserve(hex(1));
    seen.reserve(hex(2));
    seen.commit(batch, 0, 1);
    seen.release(batch);
    expect([seen.has(hex(1)), seen.has(hex(2)), seen.size]).toEqual([true, false, 1]);
    await seen.close();
  });

  it('commits made while the journal is rewritten reach the new file', async () => {
    const j = journal();
    const seen = await j.open();
    seen.commit([{ id: hex(1), ts: 1 }]);
    const compaction = seen.compact(() => true);
    seen.commit([{ id: hex(2), ts: 2 }]); // lands while the rewrite's new file is written and renamed
    await compaction;
    seen.commit([{ id: hex(3), ts: 3 }]);
    await seen.close();
    expect(lines(j.file).sort()).toEqual([`${hex(1)}\t1`, `${hex(2)}\t2`, `${hex(3)}\t3`]);
  });
});

describe('decideRestart', () => {
  /** A journal left by a run killed with `w` chunks written (sent@) and `a` acked (acked@), neither settled. */
  async function leftover(w: Array<[number, number]>, a: Array<[number, number]>): Promise<() => Promise<SeenIds>> {
    const j = journal({ journalAcks: true, journalWrites: true });
    const text = [
      ...w.map(([i, seq]) => `${hex(i)}\t${i}\tsent@${seq}`),
      ...a.map(([i, at]) => `${hex(i)}\t${i}\tacked@${at}`),
    ].join('\n');
    writeFileSync(j.file, `${text}\n`);
    return j.open;
  }

  it("decides the writes before the acks: the ledger's verdict overrides the uptime's, either way", async () => {
    // 1 and 2 were written and acked; the ledger says 1 was stored and 2 was not, the uptime would say the opposite.
    const open = await leftover(
      [
        [1, 100],
        [2, 101],
        [3, 102],
      ],
      [
        [1, 9000],
        [2, 9001],
        [4, 9002],
      ],
    );
    const seen = await open();
    const o = oracle({
      write: (seq) => (seq === 100 ? true : seq === 101 ? false : undefined),
      ack: (at) => at !== 9000,
    });
    const logger = memoryLogger();
    await decideRestart(seen, o, { logger, labels: stream });
    // 1: stored by the ledger; 2: not stored (sent again) whatever its ack; 3: no verdict, never acked: sent again;
    // 4: only acked: the uptime confirms it.
    expect([1, 2, 3, 4].map((i) => seen.has(hex(i)))).toEqual([true, false, false, true]);
    expect(o.asked).toEqual([9002]);
    expect(logger.lines.map((l) => l.obj)).toEqual([
      expect.objectContaining({ stored: 1, resent: 1, undecided: 1 }),
      expect.objectContaining({ confirmed: 1, resent: 0 }),
    ]);
    await seen.close();
  });

  it('a write stored by any of its writes (a resend) is delivered', async () => {
    const open = await leftover(
      [
        [1, 100],
        [1, 200],
      ],
      [],
    );
    const seen = await open();
    await decideRestart(seen, oracle({ write: (seq) => (seq === 200 ? true : undefined) }), {
      logger: memoryLogger(),
      labels: stream,
    });
    expect(seen.has(hex(1))).toBe(true);
    await seen.close();
  });

  it('without an oracle, or when it cannot tell, everything in flight is sent again, and said why', async () => {
    for (const [o, msg] of [
      [undefined, /^events acked by Fluent Bit less than --ack-settle .*set --fluent-bit-http/],
      [oracle({ ackError: new Error('down') }), /^cannot tell whether Fluent Bit restarted/],
    ] as const) {
      const open = await leftover([[1, 100]], [[2, 9000]]);
      const seen = await open();
      const logger = memoryLogger();
      await decideRestart(seen, o, { logger, labels: stream });
      expect([seen.has(hex(1)), seen.has(hex(2))]).toEqual([false, false]);
      expect(logger.lines.at(-1)?.msg).toMatch(msg);
      await seen.close();
    }
  });

  it('what a restart confirms is journaled as delivered', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'seen-ids-'));
    dirs.push(dir);
    const file = path.join(dir, 'x.ids');
    writeFileSync(file, `${hex(1)}\t1\tacked@50\n`);
    const open = () => SeenIds.open(file, { maxIds: 10, logger: memoryLogger(), stream, journalAcks: true });
    const seen = await open();
    await decideRestart(seen, oracle({ ack: () => true }), { logger: memoryLogger(), labels: stream });
    await seen.close();
    expect(lines(file)).toEqual([`${hex(1)}\t1\tacked@50`, `${hex(1)}\t1`]);
    const again = await open();
    expect([again.has(hex(1)), again.leftInFlight.acked]).toEqual([true, 0]);
    await again.close();
  });
});
