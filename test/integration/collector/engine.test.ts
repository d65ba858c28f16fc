// The engine against in-memory fakes: window math, overlap dedup, completeness re-fetch, backfill resume, errors.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DiFatalError } from '../../../input/di/errors.js';
import { ForwardAuthError } from '../../../input/forward/errors.js';
import { runCollector } from '../../../input/collector/engine/run.js';
import { countMatches } from '../../../input/collector/fetch/range.js';
import { Routes } from '../../../input/collector/fetch/routes.js';
import { planBalancedSlices, planSlices } from '../../../input/collector/fetch/slices.js';
import type { SeenIds } from '../../../input/collector/delivery/index.js';
import { loadState, streamPaths } from '../../../input/collector/state/state.js';
import type {
  CollectorConfig,
  DiClient,
  ForwardClient,
  ForwardEntry,
  MessageBatch,
  SendOptions,
} from '../../../input/types.js';
import { entryList, FakeDi, FakeForward, manualClock, memoryLogger, type FakeEvent } from '../../support/fakes.js';

/** What planBalancedSlices reads of a stream: its DI client and its query (one org-less stream of `all`). */
function planContext(di: DiClient): Parameters<typeof planBalancedSlices>[0] {
  const routes = new Routes('all', [{ org: '', seen: {} as SeenIds, tag: '' }]);
  return { di, routes } as unknown as Parameters<typeof planBalancedSlices>[0];
}

const T0 = Date.parse('2026-03-01T00:00:00Z');
const MIN = 60_000;
const HOUR = 60 * MIN;

function config(over: Partial<CollectorConfig> = {}): CollectorConfig {
  return {
    apiUrl: 'http://127.0.0.1:1/insights/directory/v1',
    auth: { kind: 'apiKey', apiKey: 'k' },
    orgIds: [],
    services: ['all'],
    pageLimit: 3,
    requestTimeoutMs: 1000,
    ackSettleMs: 0,
    forward: { kind: 'tcp', host: '127.0.0.1', port: 1 },
    tag: 'jumpcloud.{service}',
    stateDir: mkdtempSync(path.join(tmpdir(), 'collector-engine-')),
    sinceMs: T0,
    lagMs: 2 * MIN,
    overlapMs: HOUR,
    intervalMs: MIN,
    once: true,
    backfillSlices: 4,
    maxSeenIds: 100_000,
    ...over,
  };
}

const iso = (ms: number, extra = ''): string => new Date(ms).toISOString().replace('Z', `${extra}Z`);
const ev = (i: number, ms: number, more: Partial<FakeEvent> = {}): FakeEvent => ({
  id: `e${String(i).padStart(5, '0')}`,
  timestamp: iso(ms),
  ...more,
});

describe('window math', () => {
  it('accepts a count under any reading of the bounds', () => {
    const o = { fetched: 12, observed: 10, atCountFrom: 1, atEnd: 2, forwarded: 0, duplicates: 0, aborted: false };
    for (const c of [10, 12, 9, 11]) expect(countMatches(c, o)).toBe(true);
    for (const c of [8, 13, 0]) expect(countMatches(c, o)).toBe(false);
  });

  it('balances backfill slices by event count, not duration (bursty traffic)', async () => {
    const clock = manualClock(T0 + 10 * 24 * HOUR);
    // 400 events in the first day's office hours, 40 spread over the next 7 days.
    const events = [
      ...Array.from({ length: 400 }, (_, i) => ev(i, T0 + 9 * HOUR + i * 60_000)),
      ...Array.from({ length: 40 }, (_, i) => ev(1000 + i, T0 + 24 * HOUR + i * 4 * HOUR)),
    ];
    const di = new FakeDi(events, clock);
    const ctx = planContext(di);
    const slices = await planBalancedSlices(ctx, T0, T0 + 8 * 24 * HOUR, 4, undefined);
    expect(slices[0]!.start).toBe(T0);
    expect(slices.at(-1)!.end).toBe(T0 + 8 * 24 * HOUR);
    for (let i = 1; i < slices.length; i++) expect(slices[i]!.start).toBe(slices[i - 1]!.end);
    const per = slices.map(
      (s) => events.filter((e) => Date.parse(e.timestamp) >= s.start && Date.parse(e.timestamp) < s.end).length,
    );
    // Equal durations would put 400+ events in the first slice and ~13 in each other.
    expect(Math.max(...per)).toBeLessThan(200);
  });

  it('cuts inside a counted piece, so slices of evenly spread events differ by far less than a piece', async () => {
    const clock = manualClock(T0 + 10 * 24 * HOUR);
    // 3,001 events evenly over 3 days, 8 slices: a counted piece (1/32 of the range) holds ~94 events.
    const events = Array.from({ length: 3001 }, (_, i) => ev(i, T0 + i * 86_400));
    const di = new FakeDi(events, clock);
    const ctx = planContext(di);
    const end = T0 + 3 * 24 * HOUR + 1;
    const slices = await planBalancedSlices(ctx, T0, end, 8, undefined);
    expect(slices).toHaveLength(8);
    expect(slices[0]!.start).toBe(T0);
    expect(slices.at(-1)!.end).toBe(end);
    for (let i = 1; i < slices.length; i++) expect(slices[i]!.start).toBe(slices[i - 1]!.end);
    const per = slices.map(
      (s) => events.filter((e) => Date.parse(e.timestamp) >= s.start && Date.parse(e.timestamp) < s.end).length,
    );
    expect(Math.max(...per) - Math.min(...per)).toBeLessThanOrEqual(4);
    // Two rounds: 4·n pieces, then quarters of the (at most n − 1) pieces holding a cut.
    expect(di.counts.length).toBeLessThanOrEqual(4 * 8 + 4 * 7);
  });

  it('plans non-empty slices even when all events sit in one instant', async () => {
    const clock = manualClock(T0 + 10 * 24 * HOUR);
    const di = new FakeDi(
      Array.from({ length: 50 }, (_, i) => ev(i, T0 + 5 * HOUR)),
      clock,
    );
    const ctx = planContext(di);
    const slices = await planBalancedSlices(ctx, T0, T0 + 2 * 24 * HOUR, 4, undefined);
    expect(slices[0]!.start).toBe(T0);
    expect(slices.at(-1)!.end).toBe(T0 + 2 * 24 * HOUR);
    for (let i = 1; i < slices.length; i++) {
      expect(slices[i]!.start).toBe(slices[i - 1]!.end);
      expect(slices[i]!.start).toBeGreaterThan(slices[i - 1]!.start);
    }
  });

  it('plans slices that tile the range exactly', () => {
    const s = planSlices(1000, 2003, 4);
    expect(s[0]!.start).toBe(1000);
    expect(s.at(-1)!.end).toBe(2003);
    for (let i = 1; i < s.length; i++) expect(s[i]!.start).toBe(s[i - 1]!.end);
    expect(planSlices(0, 2, 8)).toHaveLength(2);
  });
});

describe('pipeline bound (pipelineBytes)', () => {
  /** Encodes at once (like the real client), acks after a pause; records the most event bytes awaiting acks. */
  class SlowAckForward implements ForwardClient {
    outstanding = 0;
    maxOutstanding = 0;
    readonly ids: string[] = [];
    async send(_tag: string, batch: readonly ForwardEntry[] | MessageBatch, opts?: SendOptions): Promise<void> {
      const entries = entryList(batch);
      let bytes = 0;
      for (const e of entries) bytes += (e.record.message as { bytes: Uint8Array }).bytes.length;
      for (const e of entries) this.ids.push((JSON.parse(String(e.record.message)) as { id: string }).id);
      opts?.onEncoded?.();
      this.outstanding += bytes;
      this.maxOutstanding = Math.max(this.maxOutstanding, this.outstanding);
      await new Promise((r) => setTimeout(r, 15));
      this.outstanding -= bytes;
    }
    async close(): Promise<boolean> {
      return true;
    }
  }

  it(
    'bounds the event bytes awaiting acks to pipelineBytes plus the page being encoded, and still delivers ' +
      'everything',
    async () => {
      const run = async (pipelineBytes: number | undefined): Promise<{ max: number; page: number; ids: string[] }> => {
        const clock = manualClock(T0 + 3 * HOUR);
        const events = Array.from({ length: 120 }, (_, i) => ev(i, T0 + i * 60_000));
        const di = new FakeDi(events, clock, 10);
        const fwd = new SlowAckForward();
        const r = await runCollector(config({ sinceMs: T0 }), {
          logger: memoryLogger(),
          clock,
          diClient: di,
          forwardClient: fwd,
          tuning: { sendBatch: 5, pipelinePages: 100, ...(pipelineBytes ? { pipelineBytes } : {}) },
        });
        expect(r.exitCode).toBe(0);
        // One page: 10 events of ~60 bytes (FakeDi sends {id, timestamp}).
        const page = Math.max(
          ...Array.from({ length: 12 }, (_, p) =>
            events
              .slice(p * 10, p * 10 + 10)
              .reduce((n, e) => n + Buffer.byteLength(JSON.stringify({ id: e.id, timestamp: e.timestamp })), 0),
          ),
        );
        return { max: fwd.maxOutstanding, page, ids: fwd.ids };
      };
      const bounded = await run(1500);
      expect(new Set(bounded.ids).size).toBe(120);
      expect(bounded.max).toBeLessThanOrEqual(1500 + bounded.page);
      const unbounded = await run(undefined);
      expect(new Set(unbounded.ids).size).toBe(120);
      expect(unbounded.max).toBeGreaterThan(1500 + unbounded.page); // the bound is what held it back
    },
  );
});

describe('runCollector with fakes', () => {
  it('hands every page back (release) only once every send of its events has settled, also when a send fails', async () => {
    for (const failAt of [undefined, { n: 3, error: new ForwardAuthError('denied', 'shared_key') }]) {
      const clock = manualClock(T0 + 30 * MIN);
      const events = Array.from({ length: 20 }, (_, i) => ev(i + 1, T0 + (i + 1) * 1000));
      const di = new FakeDi(events, clock);
      di.pageReleases = [];
      const fwd = new FakeForward();
      fwd.failAt = failAt;
      const early: string[] = [];
      di.onRelease = (ids) => early.push(...ids.filter((id) => fwd.inFlight.has(id)));
      await runCollector(config(), {
        logger: memoryLogger(),
        clock,
        diClient: di,
        forwardClient: fwd,
        tuning: { sendBatch: 2 },
      });
      expect(di.pageReleases.length).toBeGreaterThan(failAt ? 1 : 5);
      expect(di.pageReleases.every((p) => p.released)).toBe(true);
      expect(early).toEqual([]);
    }
  });

  it(
    'forwards each event once with its own nanosecond time, leaves events at or after now − lag for later, never ' +
      'queries start ≥ end',
    async () => {
      const clock = manualClock(T0 + 30 * MIN);
      const events = [
        ev(1, T0 + 1000),
        ev(2, T0 + 2000),
        { id: 'ns', timestamp: iso(T0 + 3000, '123456') },
        ev(4, T0 + 27 * MIN),
        ev(5, T0 + 28 * MIN),
      ];
      const di = new FakeDi(events, clock);
      const fwd = new FakeForward();
      const cfg = config();
      const logger = memoryLogger();
      let r = await runCollector(cfg, { logger, clock, diClient: di, forwardClient: fwd });
      expect(r.exitCode).toBe(0);
      // e5 is exactly at now − lag: left for the next window
      expect(fwd.ids()).toEqual(['e00001', 'e00002', 'ns', 'e00004']);
      // ".000123456Z"
      expect(fwd.received.find((x) => x.id === 'ns')!.time).toEqual({ sec: (T0 + 3000) / 1000, nsec: 123_456 });
      expect(fwd.received[0]!.tag).toBe('jumpcloud.all');
      expect(di.queries[0]).toMatchObject({ start: iso(T0), end: iso(T0 + 28 * MIN) });
      expect((await loadState(cfg.stateDir, { org: '', service: 'all' }))!.checkpoint).toBe(T0 + 28 * MIN);
      // Same time again: checkpoint = now − lag, so no query at all.
      const before = di.queries.length;
      r = await runCollector(cfg, { logger, clock, diClient: di, forwardClient: fwd });
      expect(di.queries.length).toBe(before);
      // Later: e5 comes; the overlap re-scan returns e1..e4 again and they are skipped.
      clock.advance(10 * MIN);
      r = await runCollector(cfg, { logger, clock, diClient: di, forwardClient: fwd });
      expect(fwd.ids()).toEqual(['e00001', 'e00002', 'ns', 'e00004', 'e00005']);
      expect(r.streams[0]!.duplicatesSkipped).toBe(4);
      expect(di.queries.at(-1)).toMatchObject({ start: iso(T0), end: iso(T0 + 38 * MIN) });
    },
  );

  it('recovers a late-indexed event through the overlap and re-fetches a window whose count differs', async () => {
    const clock = manualClock(T0 + 30 * MIN);
    const events = [ev(1, T0 + MIN), ev(2, T0 + 5 * MIN, { visibleAt: T0 + 50 * MIN }), ev(3, T0 + 10 * MIN)];
    const di = new FakeDi(events, clock);
    const fwd = new FakeForward();
    const cfg = config({ once: false, intervalMs: 10 * MIN });
    const ctl = new AbortController();
    const logger = memoryLogger();
    const run = runCollector(cfg, { logger, clock, diClient: di, forwardClient: fwd, signal: ctl.signal });
    while (clock.now() < T0 + 70 * MIN) await new Promise((r) => setTimeout(r, 1));
    ctl.abort();
    const r = await run;
    expect(r.exitCode).toBe(0);
    expect(fwd.ids().sort()).toEqual(['e00001', 'e00002', 'e00003']);
    expect(new Set(fwd.ids()).size).toBe(3);
  });

  it('re-fetches once when /events/count disagrees and the late event becomes visible between the fetch and the count', async () => {
    const clock = manualClock(T0 + 30 * MIN);
    const late = ev(2, T0 + 5 * MIN);
    const di = new FakeDi([ev(1, T0 + MIN)], clock);
    const origCount = di.count.bind(di);
    let calls = 0;
    di.count = async (q) => {
      if (calls++ === 0) di.events.push(late); // indexed right after the first fetch
      return origCount(q);
    };
    const fwd = new FakeForward();
    const r = await runCollector(config(), { logger: memoryLogger(), clock, diClient: di, forwardClient: fwd });
    expect(r.exitCode).toBe(0);
    expect(fwd.ids()).toEqual(['e00001', 'e00002']);
    expect(di.queries).toHaveLength(2);
    expect(r.streams[0]!.incompleteWindows).toBe(0);
  });

  it(
    'backfills a long gap in parallel slices, resumes after a crash without repeating, and moves the checkpoint to ' +
      'the end',
    async () => {
      const clock = manualClock(T0 + 5 * 24 * HOUR);
      const events = Array.from({ length: 200 }, (_, i) => ev(i, T0 + i * 30 * MIN + (i % 7) * 1000));
      const di = new FakeDi(events, clock, 5);
      const cfg = config({ backfillSlices: 4 });
      const fwd1 = new FakeForward();
      fwd1.failAt = { n: 15, error: new ForwardAuthError('Fluent Bit refused the shared key', 'shared_key') };
      const logger = memoryLogger();
      const r1 = await runCollector(cfg, { logger, clock, diClient: di, forwardClient: fwd1 });
      expect(r1.exitCode).toBe(1);
      expect(r1.streams[0]!.error!.message).toMatch(/shared key/);
      const mid = (await loadState(cfg.stateDir, { org: '', service: 'all' }))!;
      expect(mid.backfill!.slices).toHaveLength(4);
      expect(mid.checkpoint).toBe(T0);
      const fwd2 = new FakeForward();
      const r2 = await runCollector(cfg, { logger, clock, diClient: di, forwardClient: fwd2 });
      expect(r2.exitCode).toBe(0);
      const all = [...fwd1.ids(), ...fwd2.ids()];
      const expected = events.filter((e) => Date.parse(e.timestamp) < clock.now() - cfg.lagMs).map((e) => e.id);
      expect(all.sort()).toEqual(expected.sort());
      const done = (await loadState(cfg.stateDir, { org: '', service: 'all' }))!;
      expect(done.backfill).toBeUndefined();
      expect(done.checkpoint).toBe(clock.now() - cfg.lagMs);
      // The journal keeps only ids within the overlap of the new checkpoint.
      const lines = readFileSync(streamPaths(cfg.stateDir, { org: '', service: 'all' }).journal, 'utf8')
        .trim()
        .split('\n')
        .filter(Boolean);
      expect(lines.every((l) => Number(l.split('\t')[1]) >= done.checkpoint - HOUR)).toBe(true);
      expect(logger.lines.some((l) => l.msg === 'backfill resumed')).toBe(true);
    },
  );

  it('a fatal API error stops only its stream; the exit code says so', async () => {
    const clock = manualClock(T0 + 30 * MIN);
    const di = new FakeDi([ev(1, T0 + MIN, { orgId: 'a' }), ev(2, T0 + MIN, { orgId: 'b' })], clock);
    di.failWith = (q) =>
      q.orgIds?.includes('b')
        ? new DiFatalError('403: the API key cannot read org b: check --org-ids', 403)
        : undefined;
    const fwd = new FakeForward();
    const r = await runCollector(config({ orgIds: ['a', 'b'] }), {
      logger: memoryLogger(),
      clock,
      diClient: di,
      forwardClient: fwd,
    });
    expect(r.exitCode).toBe(3); // the API refused: a setting to fix, as the CLI exits
    expect(fwd.ids()).toEqual(['e00001']);
    expect(r.streams.find((s) => s.org === 'b')).toMatchObject({ status: 'failed' });
    expect(r.streams.find((s) => s.org === 'b')!.error!.message).toMatch(/org-ids/);
    expect(r.streams.find((s) => s.org === 'a')).toMatchObject({ status: 'ok' });
  });

  it('the tag template takes {service} and {org}', async () => {
    const clock = manualClock(T0 + 30 * MIN);
    const di = new FakeDi([ev(1, T0 + MIN, { orgId: 'o1', service: 'sso' })], clock);
    const fwd = new FakeForward();
    await runCollector(config({ orgIds: ['o1'], services: ['sso', 'radius'], tag: 'jc.{org}.{service}' }), {
      logger: memoryLogger(),
      clock,
      diClient: di,
      forwardClient: fwd,
    });
    expect(fwd.received.map((x) => x.tag)).toEqual(['jc.o1.sso']);
  });

  it('a corrupt state file stops the stream with the file and the recovery in the error, and nothing is fetched', async () => {
    const clock = manualClock(T0 + 30 * MIN);
    const cfg = config();
    const di = new FakeDi([ev(1, T0 + MIN)], clock);
    await runCollector(cfg, { logger: memoryLogger(), clock, diClient: di, forwardClient: new FakeForward() });
    const p = streamPaths(cfg.stateDir, { org: '', service: 'all' });
    writeFileSync(p.state, '{"version":1,"org":"","service":"all","checkpoint":"2026-03-0');
    const queries = di.queries.length;
    const r = await runCollector(cfg, {
      logger: memoryLogger(),
      clock,
      diClient: di,
      forwardClient: new FakeForward(),
    });
    expect(r.exitCode).toBe(1);
    expect(r.streams[0]!.status).toBe('failed');
    expect(r.streams[0]!.error!.name).toBe('StateError');
    expect(r.streams[0]!.error!.message).toContain(p.state);
    expect(r.streams[0]!.error!.message).toContain(`cp ${p.backup} ${p.state}`);
    expect(di.queries.length).toBe(queries);
  });

  it('draws a progress bar on a TTY during a backfill', async () => {
    const clock = manualClock(T0 + 3 * 24 * HOUR);
    const di = new FakeDi(
      Array.from({ length: 50 }, (_, i) => ev(i, T0 + i * HOUR)),
      clock,
      5,
    );
    const out: string[] = [];
    const r = await runCollector(config({ backfillSlices: 2 }), {
      logger: memoryLogger(),
      clock,
      diClient: di,
      forwardClient: new FakeForward(),
      progressOut: { isTTY: true, write: (s: string) => out.push(s) },
    });
    expect(r.exitCode).toBe(0);
    expect(out.join('')).toMatch(/backfill all █+░*\s+\d+\.\d% \d+\/50 events/);
    expect(out.join('')).toMatch(/100\.0% 50\/50 events .*ETA done\n$/);
  });

  it('shows one bar over every stream of a multi-stream backfill, never one stream after another', async () => {
    const clock = manualClock(T0 + 3 * 24 * HOUR);
    const events = ['a', 'b', 'c'].flatMap((org, k) =>
      Array.from({ length: 40 }, (_, i) => ev(k * 100 + i, T0 + i * HOUR + k * MIN, { orgId: org })),
    );
    const di = new FakeDi(events, clock, 5);
    const out: string[] = [];
    // One org per query: three streams backfilling at once (orgs batched in one query backfill as one).
    const r = await runCollector(config({ orgIds: ['a', 'b', 'c'], backfillSlices: 2, orgBatchSize: 1 }), {
      logger: memoryLogger(),
      clock,
      diClient: di,
      forwardClient: new FakeForward(),
      progressOut: { isTTY: true, write: (s: string) => out.push(s) },
    });
    expect(r.exitCode).toBe(0);
    const text = out.join('');
    const lines = text.split('\r\x1b[2K').filter(Boolean);
    expect(lines.length).toBeGreaterThan(0);
    // One bar: its label only grows as streams join (a stream's name only while it is alone), ending at 3 streams.
    const joined = lines.map((l) => {
      const m = /^backfill (?:(\d+) streams|[abc]\/all) /.exec(l);
      expect(m, l).not.toBeNull();
      return m![1] === undefined ? 1 : Number(m![1]);
    });
    expect(joined.every((n, i) => i === 0 || n >= joined[i - 1]!)).toBe(true);
    expect(joined.at(-1)).toBe(3);
    expect(text).toMatch(/100\.0% 120\/120 events .*ETA done\n$/);
    expect(text.match(/\n/g)).toHaveLength(1); // one bar, ended once
  });

  it('serves every stream in a long run even with more streams than concurrent polls', async () => {
    const clock = manualClock(T0 + 30 * MIN);
    const di = new FakeDi(
      ['a', 'b', 'c'].map((org, i) => ev(i, T0 + MIN, { orgId: org })),
      clock,
    );
    const fwd = new FakeForward();
    const ctl = new AbortController();
    const run = runCollector(config({ orgIds: ['a', 'b', 'c'], once: false }), {
      logger: memoryLogger(),
      clock,
      diClient: di,
      forwardClient: fwd,
      signal: ctl.signal,
      tuning: { maxConcurrentStreams: 1 },
    });
    for (let i = 0; i < 200 && fwd.received.length < 3; i++) await new Promise((r) => setTimeout(r, 5));
    ctl.abort();
    const r = await run;
    expect(fwd.ids().sort()).toEqual(['e00000', 'e00001', 'e00002']);
    expect(r.exitCode).toBe(0);
    expect(r.streams.map((s) => s.status)).toEqual(['stopped', 'stopped', 'stopped']);
  });
});
