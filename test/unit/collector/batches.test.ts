// Orgs batched in one query (engine/stream.ts, cohort.ts, fetch/routes.ts) against in-memory fakes: each event goes
// to its org by its `organization`; a refused org is found by halving the query and stops alone; an event of none
// of the queried orgs splits the query until it is one org's; orgs whose states differ are polled apart and rejoin;
// adding or removing an org keeps the others' state; a provider's stream is tagged with the provider.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SeenIds } from '../../../input/collector/delivery/index.js';
import { CohortStore, cohortKey } from '../../../input/collector/engine/cohort.js';
import { BackfillBoard } from '../../../input/collector/engine/progress.js';
import { renderTag, runStream, type StreamSettings } from '../../../input/collector/engine/stream.js';
import type { Track } from '../../../input/collector/engine/track.js';
import { Routes } from '../../../input/collector/fetch/routes.js';
import { noMetrics } from '../../../input/collector/metrics.js';
import { StateWriter, loadState, streamPaths, type StreamState } from '../../../input/collector/state/state.js';
import { StreamStore } from '../../../input/collector/state/store.js';
import { pageEventsOf } from '../../../input/di/page-events.js';
import { DiFatalError } from '../../../input/di/errors.js';
import type { DiQuery } from '../../../input/types.js';
import { FakeDi, FakeForward, manualClock, memoryLogger, type FakeEvent } from '../../support/fakes.js';

const T0 = Date.parse('2026-03-01T12:00:00Z');
const MIN = 60_000;

let dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const ev = (i: number, ms: number, orgId: string, organization?: string): FakeEvent => ({
  id: `e${String(i).padStart(5, '0')}`,
  timestamp: new Date(ms).toISOString(),
  orgId,
  ...(organization !== undefined ? { organization } : {}),
});

/** Three events per org over the 20 minutes before T0. */
function eventsOf(orgs: readonly string[]): FakeEvent[] {
  return orgs.flatMap((o, k) => [1, 2, 3].map((j) => ev(k * 10 + j, T0 - (25 - 5 * j) * MIN - k * 1000, o)));
}

function setup(events: FakeEvent[], over: Partial<StreamSettings> = {}) {
  const stateDir = mkdtempSync(path.join(tmpdir(), 'batches-'));
  dirs.push(stateDir);
  const clock = manualClock(T0);
  const logger = memoryLogger();
  const settings: StreamSettings = {
    stateDir,
    tag: 'jc.{org}.{service}',
    sinceMs: T0 - 30 * MIN,
    lagMs: MIN,
    overlapMs: 10 * MIN,
    intervalMs: 5 * MIN,
    once: true,
    backfillSlices: 2,
    maxSeenIds: 10_000,
    ackSettleMs: 0,
    backfillThresholdMs: 24 * 60 * MIN,
    sendBatch: 10,
    pipelinePages: 2,
    progress: new BackfillBoard({ logger, clock }),
    ...over,
  };
  const di = new FakeDi(events, clock, 4);
  const forward = new FakeForward();
  const deps = { di, forward, logger, metrics: noMetrics, clock, wallClock: clock };
  return { stateDir, clock, logger, settings, di, forward, deps };
}

/** The orgs of each /events query, in order (a query's pages after the first are the same query). */
function queried(qs: readonly DiQuery[]): string[] {
  const out: string[] = [];
  for (const q of qs) out.push((q.orgIds ?? []).join(','));
  return out;
}

/** A run of `rounds` polls (the stop comes in the sleep after the last). */
function stopAfter(clock: ReturnType<typeof manualClock>, rounds: number) {
  const stop = new AbortController();
  let sleeps = 0;
  const sleepy = {
    now: () => clock.now(),
    sleep: async (ms: number, signal?: AbortSignal) => {
      if (++sleeps === rounds) stop.abort();
      clock.advance(ms);
      await Promise.resolve();
      signal?.throwIfAborted();
    },
  };
  return { stop, clock: sleepy };
}

describe('a stream of several orgs', () => {
  it('routes each event to its org (tag, state, journal) with one query', async () => {
    const orgs = ['o0', 'o1', 'o2'];
    const s = setup(eventsOf(orgs));
    const results = await runStream({ service: 'all', orgs }, s.settings, s.deps, undefined);
    expect(results.map((r) => [r.org, r.status, r.forwarded])).toEqual(orgs.map((o) => [o, 'ok', 3]));
    expect(queried(s.di.queries)).toEqual(['o0,o1,o2']);
    for (const r of s.forward.received) {
      const org = s.di.events.find((e) => e.id === r.id)!.orgId!;
      expect(r.tag).toBe(`jc.${org}.all`);
    }
    for (const o of orgs) {
      expect(await loadState(s.settings.stateDir, { org: o, service: 'all' })).toMatchObject({ checkpoint: T0 - MIN });
    }
  });

  it('a refused org is found by halving the query, stops alone and is reported; the others go on in one query', async () => {
    const orgs = Array.from({ length: 8 }, (_, i) => `o${i}`);
    const s = setup(eventsOf(orgs), { once: false });
    s.di.failWith = (q) =>
      q.orgIds?.includes('o5')
        ? new DiFatalError(`Directory Insights is not licensed for ${q.orgIds.length === 1 ? 'org o5' : 'one'}`, 402)
        : undefined;
    const { stop, clock } = stopAfter(s.clock, 2);
    const results = await runStream({ service: 'all', orgs }, s.settings, { ...s.deps, clock }, stop.signal);
    const refused = results.find((r) => r.org === 'o5')!;
    expect(refused.status).toBe('failed');
    expect(refused.error).toBeInstanceOf(DiFatalError);
    expect(refused.error!.message).toMatch(/org o5/);
    expect(results.filter((r) => r.org !== 'o5').every((r) => r.status === 'stopped' && r.forwarded === 3)).toBe(true);
    // Round 1: the batch, its halves, down to o5 alone (4 refused queries, log2(8) + 1); 3 queries served the rest.
    // Round 2: the 7 others in one query again.
    expect(queried(s.di.queries)).toEqual([
      'o0,o1,o2,o3,o4,o5,o6,o7',
      'o0,o1,o2,o3',
      'o4,o5,o6,o7',
      'o4,o5',
      'o4',
      'o5',
      'o6,o7',
      'o0,o1,o2,o3,o4,o6,o7',
    ]);
    expect(s.forward.ids().sort()).toEqual(
      eventsOf(orgs)
        .filter((e) => e.orgId !== 'o5')
        .map((e) => e.id)
        .sort(),
    );
    const stopped = s.logger.lines.filter((l) => l.msg === 'stream stopped');
    expect(stopped.map((l) => (l.obj as { org: string }).org)).toEqual(['o5']);
  });

  it('an event of none of the queried orgs splits the query until it is one org’s; that org is queried alone', async () => {
    const orgs = ['a', 'b', 'c', 'd'];
    const events = [...eventsOf(orgs), ev(99, T0 - 7 * MIN, 'c', 'not-c')];
    const s = setup(events, { once: false });
    const { stop, clock } = stopAfter(s.clock, 2);
    const results = await runStream({ service: 'all', orgs }, s.settings, { ...s.deps, clock }, stop.signal);
    expect(results.map((r) => [r.org, r.forwarded])).toEqual([
      ['a', 3],
      ['b', 3],
      ['c', 4],
      ['d', 3],
    ]);
    // Each event once, the stray one as c's (its query's only org).
    expect(s.forward.ids().sort()).toEqual(events.map((e) => e.id).sort());
    expect(s.forward.received.find((r) => r.id === 'e00099')!.tag).toBe('jc.c.all');
    expect(queried(s.di.queries)).toEqual(['a,b,c,d', 'a,b', 'c,d', 'c', 'd', 'a,b', 'c', 'd']);
    expect(s.logger.lines.some((l) => /queried alone from now on/.test(l.msg ?? ''))).toBe(true);
  });

  it('adding an org: it starts from --since alone, the others resume; all rejoin one query; removing one keeps the rest', async () => {
    const s = setup(eventsOf(['a', 'b', 'c']), { once: true });
    await runStream({ service: 'all', orgs: ['a', 'b'] }, s.settings, s.deps, undefined);
    expect(s.forward.ids()).toHaveLength(6);
    s.clock.advance(2 * MIN);
    s.di.queries.length = 0;
    const added = await runStream({ service: 'all', orgs: ['a', 'b', 'c'] }, s.settings, s.deps, undefined);
    // a and b re-scan their overlap (its one event each skipped by id), c reads from --since: two queries.
    expect(added.map((r) => [r.org, r.forwarded, r.duplicatesSkipped])).toEqual([
      ['a', 0, 1],
      ['b', 0, 1],
      ['c', 3, 0],
    ]);
    expect(queried(s.di.queries).sort()).toEqual(['a,b', 'c']);
    expect(s.di.queries.find((q) => q.orgIds![0] === 'c')!.start).toBe(new Date(T0 - 30 * MIN).toISOString());
    s.clock.advance(2 * MIN);
    s.di.queries.length = 0;
    await runStream({ service: 'all', orgs: ['a', 'b', 'c'] }, s.settings, s.deps, undefined);
    expect(queried(s.di.queries)).toEqual(['a,b,c']);
    s.clock.advance(2 * MIN);
    s.di.queries.length = 0;
    const removed = await runStream({ service: 'all', orgs: ['a', 'c'] }, s.settings, s.deps, undefined);
    expect(queried(s.di.queries)).toEqual(['a,c']);
    expect(removed.every((r) => r.forwarded === 0)).toBe(true);
    expect(new Set(s.forward.ids()).size).toBe(s.forward.ids().length);
    // b's state stays as its last poll left it, for when it comes back.
    expect(await loadState(s.settings.stateDir, { org: 'b', service: 'all' })).toMatchObject({
      checkpoint: T0 + 3 * MIN,
    });
  });

  it('orgs whose checkpoints differ (a kill between their state writes) are polled apart, up to one end, then together', async () => {
    const s = setup(eventsOf(['a', 'b']), { once: true });
    await runStream({ service: 'all', orgs: ['a', 'b'] }, s.settings, s.deps, undefined);
    // As if a kill had come after a's state write and before b's: b is one poll behind.
    const b = { org: 'b', service: 'all' };
    writeFileSync(
      streamPaths(s.settings.stateDir, b).state,
      JSON.stringify({
        version: 1,
        ...b,
        since: new Date(T0 - 30 * MIN).toISOString(),
        checkpoint: new Date(T0 - 4 * MIN).toISOString(),
      }),
    );
    s.clock.advance(2 * MIN);
    s.di.queries.length = 0;
    await runStream({ service: 'all', orgs: ['a', 'b'] }, s.settings, s.deps, undefined);
    expect(queried(s.di.queries).sort()).toEqual(['a', 'b']);
    s.clock.advance(2 * MIN);
    s.di.queries.length = 0;
    await runStream({ service: 'all', orgs: ['a', 'b'] }, s.settings, s.deps, undefined);
    expect(queried(s.di.queries)).toEqual(['a,b']);
    expect(new Set(s.forward.ids()).size).toBe(6);
  });
});

describe('cohorts', () => {
  const state = (over: Partial<StreamState>): StreamState => ({
    org: 'x',
    service: 'all',
    since: T0 - 60 * MIN,
    checkpoint: T0,
    ...over,
  });

  it('share a query when the window (start, checkpoint), the backfill and the query plan agree', () => {
    const k = (st: StreamState, plan = ''): string => cohortKey(st, 10 * MIN, plan);
    expect(k(state({}))).toBe(k(state({ org: 'y' })));
    // A since inside the overlap moves the window's start; one before it does not.
    expect(k(state({ since: T0 - 5 * MIN }))).not.toBe(k(state({})));
    expect(k(state({ since: T0 - 30 * MIN }))).toBe(k(state({})));
    expect(k(state({ checkpoint: T0 + 1 }))).not.toBe(k(state({})));
    expect(k(state({ backfill: { end: T0 + MIN, slices: [] } }))).not.toBe(k(state({})));
    expect(k(state({}), '[["password_manager",1]]')).not.toBe(k(state({})));
  });

  it("save one state into each org's store, each keeping its own since", async () => {
    const stateDir = mkdtempSync(path.join(tmpdir(), 'cohort-'));
    dirs.push(stateDir);
    const logger = memoryLogger();
    const tracks: Track[] = [];
    for (const [org, since] of [
      ['a', T0 - 60 * MIN],
      ['b', T0 - 40 * MIN],
    ] as const) {
      const key = { org, service: 'all' };
      const writer = new StateWriter(stateDir, key);
      const seen = await SeenIds.open(streamPaths(stateDir, key).journal, { maxIds: 100, logger, stream: key });
      tracks.push({ key, seen, store: new StreamStore(writer, seen, { ...key, since, checkpoint: T0 }) });
    }
    const store = new CohortStore(tracks);
    expect(store.state.since).toBe(T0 - 40 * MIN); // the latest: the window starts where every org's does
    await store.save({ ...store.state, checkpoint: T0 + MIN });
    expect(await loadState(stateDir, { org: 'a', service: 'all' })).toEqual({
      org: 'a',
      service: 'all',
      since: T0 - 60 * MIN,
      checkpoint: T0 + MIN,
    });
    expect(await loadState(stateDir, { org: 'b', service: 'all' })).toMatchObject({ since: T0 - 40 * MIN });
    for (const t of tracks) await t.seen.close();
  });
});

describe('routes', () => {
  it('route by "organization" (case aside); none, or another org: -1; one org takes every event', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'routes-'));
    dirs.push(dir);
    const logger = memoryLogger();
    const open = (org: string) =>
      SeenIds.open(path.join(dir, `${org}.ids`), { maxIds: 100, logger, stream: { org, service: 'all' } });
    const a = await open('5f00000000000000000000aa');
    const b = await open('5f00000000000000000000bb');
    const routes = new Routes('all', [
      { org: '5f00000000000000000000aa', seen: a, tag: 'a' },
      { org: '5f00000000000000000000bb', seen: b, tag: 'b' },
    ]);
    const raw = (o: unknown): Buffer => Buffer.from(JSON.stringify({ id: 'x', timestamp: 't', organization: o }));
    const page = pageEventsOf([
      { id: '1', timestamp: 't', raw: raw('5f00000000000000000000bb') },
      { id: '2', timestamp: 't', raw: raw('5F00000000000000000000AA') },
      { id: '3', timestamp: 't', raw: raw('5f00000000000000000000cc') },
      { id: '4', timestamp: 't', raw: raw(null) },
    ]);
    expect([0, 1, 2, 3].map((i) => routes.routeOf(page, i))).toEqual([1, 0, -1, -1]);
    expect(new Routes('all', [{ org: 'x', seen: a, tag: 'a' }]).routeOf(page, 2)).toBe(0);
    const both = ['5f00000000000000000000aa', '5f00000000000000000000bb'];
    expect(routes.query(T0, T0 + MIN)).toMatchObject({ orgIds: both });
    expect(new Routes('all', [{ org: 'provider.p1', seen: a, tag: 'p' }], 'p1').query(T0, T0 + MIN)).toEqual({
      service: 'all',
      start: new Date(T0).toISOString(),
      end: new Date(T0 + MIN).toISOString(),
      providerId: 'p1',
    });
    // Known ids counted over every org, per bucket.
    a.reserve('x1');
    b.reserve('x2');
    const { IdBatchBuilder } = await import('../../../input/collector/delivery/index.js');
    const commit = (seen: SeenIds, id: string, ms: number): void => {
      const batch = new IdBatchBuilder(1);
      batch.add(id, ms);
      seen.commit(batch.finish());
    };
    commit(a, 'x1', T0 + 1000);
    commit(b, 'x2', T0 + 1500);
    expect([...routes.countByBucket(T0, 1000, 2, T0, T0 + 2000)]).toEqual([0, 2]);
    expect(routes.idsIn([{ from: T0, to: T0 + 2000 }], 10).sort()).toEqual(['x1', 'x2']);
    await a.close();
    await b.close();
  });

  it("tags a provider's stream with the provider: in {org}'s place, or {service}'s without {org}", () => {
    const key = { org: 'provider.p1', service: 'all' };
    expect(renderTag('jumpcloud.{service}', key, 'p1')).toBe('jumpcloud.provider.p1');
    expect(renderTag('jumpcloud.{org}.{service}', key, 'p1')).toBe('jumpcloud.provider.p1.all');
    expect(renderTag('jumpcloud.{org}.{service}', { org: 'o1', service: 'sso' })).toBe('jumpcloud.o1.sso');
  });
});
