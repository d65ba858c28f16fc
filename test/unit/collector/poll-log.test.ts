// What a running collector says at info after start-up: a line per completed poll per stream (fetched,
// forwarded, duplicates skipped, lag), or one aggregate line every N seconds with many streams.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PollLog } from '../../../input/collector/engine/poll-log.js';
import { runCollector } from '../../../input/collector/engine/run.js';
import type { CollectorConfig } from '../../../input/types.js';
import { FakeDi, FakeForward, manualClock, memoryLogger, type FakeEvent } from '../../support/fakes.js';

const T0 = Date.parse('2026-03-01T00:00:00Z');
const MIN = 60_000;

function config(over: Partial<CollectorConfig> = {}): CollectorConfig {
  return {
    apiUrl: 'http://unused',
    auth: { kind: 'apiKey', apiKey: 'k' },
    orgIds: [],
    services: ['all'],
    pageLimit: 5,
    requestTimeoutMs: 1000,
    forward: { kind: 'tcp', host: '127.0.0.1', port: 1 },
    ackSettleMs: 0,
    tag: 'jumpcloud.{service}',
    stateDir: mkdtempSync(path.join(tmpdir(), 'fbjc-polllog-')),
    sinceMs: T0,
    lagMs: 0,
    overlapMs: 10 * MIN,
    intervalMs: MIN,
    once: true,
    backfillSlices: 1,
    maxSeenIds: 1000,
    ...over,
  };
}

const ev = (i: number, ms: number, org = ''): FakeEvent =>
  ({
    id: `e${String(i).padStart(5, '0')}`,
    timestamp: new Date(ms).toISOString(),
    service: 'all',
    ...(org ? { orgId: org } : {}),
  }) as FakeEvent;

describe('completed polls at info', () => {
  it('one line per poll per query (its orgs together) with fetched, forwarded, duplicates skipped and lag', async () => {
    const clock = manualClock(T0 + 30 * MIN);
    const di = new FakeDi([ev(1, T0 + 25 * MIN, 'a'), ev(2, T0 + 26 * MIN, 'a'), ev(3, T0 + 25 * MIN, 'b')], clock);
    const logger = memoryLogger();
    const cfg = config({ orgIds: ['a', 'b'], lagMs: 2 * MIN });
    const polls = (): Record<string, unknown>[] =>
      logger.lines
        .splice(0)
        .filter((l) => l.msg === 'poll complete' && l.level === 'info')
        .map((l) => l.obj as Record<string, unknown>)
        .sort((x, y) => String(x.org).localeCompare(String(y.org)));
    await runCollector(cfg, { logger, clock, diClient: di, forwardClient: new FakeForward() });
    // Orgs a and b are one query (--org-batch-size): one line for both.
    expect(polls()).toEqual([
      {
        org: 'a+1',
        orgs: 2,
        service: 'all',
        fetched: 3,
        forwarded: 3,
        duplicatesSkipped: 0,
        lagSeconds: 120,
        checkpoint: new Date(T0 + 28 * MIN).toISOString(),
      },
    ]);
    clock.advance(5 * MIN); // the next pass re-scans the overlap: the same events are duplicates now
    await runCollector(cfg, { logger, clock, diClient: di, forwardClient: new FakeForward() });
    expect(polls()).toEqual([
      {
        org: 'a+1',
        orgs: 2,
        service: 'all',
        fetched: 3,
        forwarded: 0,
        duplicatesSkipped: 3,
        lagSeconds: 120,
        checkpoint: new Date(T0 + 33 * MIN).toISOString(),
      },
    ]);
    // One org per query: a line per org.
    clock.advance(5 * MIN);
    await runCollector({ ...cfg, orgBatchSize: 1 }, { logger, clock, diClient: di, forwardClient: new FakeForward() });
    expect(polls().map((p) => [p.org, p.duplicatesSkipped])).toEqual([
      ['a', 2],
      ['b', 1],
    ]);
  });

  it('with more streams than the threshold: one aggregate line, no line per poll', async () => {
    const clock = manualClock(T0 + 30 * MIN);
    const orgs = Array.from({ length: 10 }, (_, i) => `o${i}`);
    const di = new FakeDi(
      orgs.map((o, i) => ev(i, T0 + MIN, o)),
      clock,
    );
    const logger = memoryLogger();
    await runCollector(config({ orgIds: orgs }), { logger, clock, diClient: di, forwardClient: new FakeForward() });
    expect(logger.lines.filter((l) => l.msg === 'poll complete')).toHaveLength(0);
    const agg = logger.lines.filter((l) => l.msg === 'polls complete');
    expect(agg).toHaveLength(1);
    expect(agg[0]!.obj).toMatchObject({
      streams: 10,
      streamsPolled: 10,
      polls: 10,
      fetched: 10,
      forwarded: 10,
      duplicatesSkipped: 0,
      maxLagSeconds: 0,
    });
  });

  it('aggregates over each period of everyMs', () => {
    let now = 0;
    const logger = memoryLogger();
    const log = new PollLog({ logger, streams: 20, aggregateAbove: 8, everyMs: 60_000, clock: { now: () => now } });
    for (let s = 0; s < 120; s++) {
      now = s * 1000;
      log.completed({
        key: { org: `o${s % 20}`, service: 'all' },
        fetched: 3,
        forwarded: 2,
        duplicates: 1,
        checkpoint: now,
        lagMs: s === 30 ? 300_000 : 120_000,
      });
    }
    log.flush();
    const lines = logger.lines.filter((l) => l.msg === 'polls complete').map((l) => l.obj);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({
      streams: 20,
      streamsPolled: 20,
      polls: 61,
      fetched: 183,
      forwarded: 122,
      duplicatesSkipped: 61,
      maxLagSeconds: 300,
      mostBehind: 'o10/all',
      periodSeconds: 60,
    });
    expect(lines[1]).toMatchObject({ polls: 59, maxLagSeconds: 120 });
  });
});
