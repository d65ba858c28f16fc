// fetchRange over real split pages (escaped tokens, invalid timestamps, duplicates, groups split by sendBatch):
// what goes to the forward client, what is journaled, what is counted.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { noMetrics } from '../../../input/collector/metrics.js';
import { SeenIds } from '../../../input/collector/delivery/seen-ids.js';
import { fetchRange, type StreamContext } from '../../../input/collector/fetch/range.js';
import { Routes } from '../../../input/collector/fetch/routes.js';
import { splitJsonArray } from '../../../input/di/page-split.js';
import type { DiClient, DiPage, ForwardClient } from '../../../input/types.js';
import { FakeForward, manualClock, memoryLogger } from '../../support/fakes.js';

const T0 = Date.parse('2026-03-01T00:00:00Z');
const stream = { org: '', service: 'all' };

/** A DI client serving fixed JSON bodies, split as the real client splits them. */
function pagesDi(bodies: string[]): DiClient & { released: number } {
  const di = {
    released: 0,
    async *pages(): AsyncIterable<DiPage> {
      for (const b of bodies) {
        const events = splitJsonArray(Buffer.from(b, 'utf8'));
        yield { events, resultCount: events.length, limit: 10_000, release: () => void di.released++ };
      }
    },
    count: async () => 0,
    close: async () => {},
  };
  return di;
}

async function context(
  di: DiClient,
  sendBatch: number,
): Promise<{ ctx: StreamContext; forward: FakeForward; seen: SeenIds; logger: ReturnType<typeof memoryLogger> }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'window-'));
  const logger = memoryLogger();
  const seen = await SeenIds.open(path.join(dir, 'all.ids'), { maxIds: 10_000, logger, stream });
  const forward = new FakeForward();
  const ctx: StreamContext = {
    routes: new Routes('all', [{ org: '', seen, tag: 'jc' }]),
    di,
    forward,
    logger,
    metrics: noMetrics,
    clock: manualClock(T0 + 3_600_000),
    wallClock: manualClock(T0 + 3_600_000),
    overlapMs: 0,
    sendBatch,
    pipelinePages: 2,
    seenCompactAt: 1_000_000,
  };
  return { ctx, forward, seen, logger };
}

describe('fetchRange over columnar pages', () => {
  it(
    'reads escaped and plain timestamps alike, forwards an invalid one timed now, skips duplicates, keeps the page ' +
      'bytes exact',
    async () => {
      const ev = (id: string, ts: string, extra = ''): string => `{"id":${id},"timestamp":${ts}${extra}}`;
      const page1 = `[${[
        ev('"a1"', '"2026-03-01T00:00:01.123456789Z"', ',"who":"Zoë"'),
        ev('"a\\u0032"', '"2026-03-01T00:00:02\\u002e5Z"'), // id a2, timestamp with an escaped '.'
        ev('"a3"', '"not a time"'),
        ev('"a4"', '"2026-03-01T01:00:00Z"'), // at the range end: left for the next window
      ].join(',')}]`;
      const page2 = `[${[
        ev('"a1"', '"2026-03-01T00:00:01.123456789Z"'),
        ev('"a5"', '"2026-03-01T00:00:05+00:00"', ',"n":[1,{"timestamp":"x"}]'),
      ].join(',')}]`;
      const di = pagesDi([page1, page2]);
      const { ctx, forward, seen, logger } = await context(di, 2);
      const out = await fetchRange(ctx, { start: T0, end: T0 + 3_600_000, countFrom: T0 }, undefined);
      expect(out).toMatchObject({ forwarded: 4, duplicates: 1, atEnd: 1, aborted: false });
      expect(forward.received.map((r) => [r.id, r.time])).toEqual([
        ['a1', { sec: T0 / 1000 + 1, nsec: 123_456_789 }],
        ['a2', { sec: T0 / 1000 + 2, nsec: 500_000_000 }],
        ['a3', { sec: T0 / 1000 + 3600, nsec: 0 }], // the clock's now
        ['a5', { sec: T0 / 1000 + 5, nsec: 0 }],
      ]);
      // sendBatch 2: two groups for the first page, one for the second.
      expect(forward.sends).toBe(3);
      expect(
        logger.lines.filter((l) => l.msg?.includes('invalid timestamp')).map((l) => (l.obj as { id: string }).id),
      ).toEqual(['a3']);
      expect(['a1', 'a2', 'a3', 'a5'].every((id) => seen.has(id))).toBe(true);
      expect(seen.has('a4')).toBe(false);
      expect(seen.size).toBe(4);
      expect(di.released).toBe(2);
      await seen.close();
    },
  );

  it('releases the ids of a failed send (sent again later) and journals those of the sends that went through', async () => {
    const event = (i: number): string => `{"id":"b${i}","timestamp":"2026-03-01T00:00:0${i}Z"}`;
    const body = `[${Array.from({ length: 5 }, (_, i) => event(i)).join(',')}]`;
    const { ctx: base, forward, seen } = await context(pagesDi([body]), 2);
    let n = 0;
    const failSecond: ForwardClient = {
      send: (tag, entries, opts) =>
        ++n === 2 ? Promise.reject(new Error('boom')) : forward.send(tag, entries).then(() => opts?.onEncoded?.()),
      close: async () => true,
    };
    const ctx = { ...base, forward: failSecond };
    await expect(fetchRange(ctx, { start: T0, end: T0 + 3_600_000, countFrom: T0 }, undefined)).rejects.toThrow('boom');
    // Groups of two: [b0 b1] [b2 b3] [b4]; the second failed.
    expect(forward.received.map((r) => r.id)).toEqual(['b0', 'b1', 'b4']);
    expect(['b0', 'b1', 'b4'].every((id) => seen.has(id))).toBe(true);
    expect(['b2', 'b3'].some((id) => seen.has(id))).toBe(false);
    expect(seen.size).toBe(3);
    await seen.close();
  });
});
