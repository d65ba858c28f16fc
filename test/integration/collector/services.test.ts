// Every service, including the ones `all` leaves out: the real DI simulator with its hiddenFromAll switch, the
// protocol-level forward receiver, time 300× faster. With --services all the collector finds the services `all`
// misses and collects them too; each event arrives once, also when the switch is flipped back mid-run.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { acceleratedClock } from '../../../input/clock.js';
import { noMetrics } from '../../../input/collector/metrics.js';
import { runCollector } from '../../../input/collector/engine/run.js';
import {
  parseServiceList,
  ServiceCoverage,
  type ServiceCoverageEntry,
} from '../../../input/collector/engine/services.js';
import { withoutServices } from '../../../input/collector/fetch/service-queries.js';
import { createDiClient } from '../../../input/di/client.js';
import { createForwardClient } from '../../../input/forward/client.js';
import { startSimulator, type Simulator } from '../../../input/simulator/server.js';
import type { Clock, CollectorConfig, DiClient, DiQuery } from '../../../input/types.js';
import { startForwardReceiver, type ForwardReceiver } from '../../support/forward-receiver.js';
import { memoryLogger } from '../../support/fakes.js';
import { CountingForward, compareIds, expectNoLoss, expectedIds, until } from '../../support/collector.js';

const MIN = 60_000;
const SPEED = 300;
const SERVICES = ['directory', 'sso', 'password_manager'];
let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const f of cleanup.reverse()) await f().catch(() => undefined);
  cleanup = [];
});

async function world(hidden: string[]) {
  const V = Date.parse('2026-03-01T12:00:00Z');
  const clock = acceleratedClock(V, Date.now(), SPEED);
  const from = V - 3 * 60 * MIN;
  const to = V + 40 * MIN;
  const sim = await startSimulator({
    seed: 7,
    clock,
    services: SERVICES,
    eventsPerMinute: 6,
    from,
    to,
    hiddenFromAll: hidden,
    indexDelay: { typicalMaxMs: 5_000, lateFraction: 0.03, maxMs: 10 * MIN },
  });
  cleanup.push(() => sim.close());
  const rx = await startForwardReceiver({ seed: 3 });
  cleanup.push(() => rx.close());
  const stateDir = mkdtempSync(path.join(tmpdir(), 'services-'));
  cleanup.push(async () => rmSync(stateDir, { recursive: true, force: true }));
  const expected = expectedIds(
    sim,
    SERVICES.map((service) => ({ orgId: '', service })),
    from,
    to,
  );
  const config = (over: Partial<CollectorConfig> = {}): CollectorConfig => ({
    apiUrl: sim.url,
    auth: { kind: 'apiKey', apiKey: sim.apiKey },
    orgIds: [],
    services: ['all'],
    servicesCheckMs: 10 * MIN,
    pageLimit: 200,
    requestTimeoutMs: 2_000,
    ackSettleMs: 0,
    forward: { kind: 'tcp', host: '127.0.0.1', port: rx.port! },
    tag: 'jumpcloud.{service}',
    stateDir,
    sinceMs: from,
    lagMs: 2 * MIN,
    overlapMs: 30 * MIN,
    intervalMs: MIN,
    once: false,
    backfillSlices: 2,
    maxSeenIds: 1_000_000,
    ...over,
  });
  return { V, clock, from, to, sim, rx, stateDir, expected, config };
}

function start(w: { clock: Clock; rx: ForwardReceiver }, config: CollectorConfig) {
  const real = createForwardClient({
    target: { kind: 'tcp', host: '127.0.0.1', port: w.rx.port! },
    settleMs: 0,
    backoff: { baseMs: 20, maxMs: 200 },
  });
  const forward = new CountingForward(real);
  const logger = memoryLogger();
  const reports: ServiceCoverageEntry[][] = [];
  const ctl = new AbortController();
  const metrics = {
    ...noMetrics,
    servicesCollected: (e: readonly ServiceCoverageEntry[]) => void reports.push([...e]),
  };
  const run = runCollector(config, {
    logger,
    clock: w.clock,
    signal: ctl.signal,
    forwardClient: forward,
    metrics,
    tuning: { backfillThresholdMs: 60 * MIN, sendBatch: 200 },
  });
  return {
    forward,
    logger,
    reports,
    run,
    async stop() {
      ctl.abort();
      const r = await run;
      await real.close(2_000);
      return r;
    },
  };
}

function idsOf(sim: Simulator, service: string, fromMs: number, toMs: number): Set<string> {
  return new Set(sim.expectedEvents({ service, start: fromMs, end: toMs }).map((e) => e.id));
}

describe('services that "all" misses', () => {
  it(
    'a fresh state directory: the missed service is named in the "all" query from the start; flipping the switch ' +
      'back mid-run repeats nothing',
    async () => {
      const w = await world(['password_manager']);
      const pm = idsOf(w.sim, 'password_manager', w.from, w.to);
      expect(pm.size).toBeGreaterThan(500);
      const c = start(w, w.config());
      await until(() => w.clock.now() > w.V + 5 * MIN, 30_000, 'live polling');
      w.sim.setHiddenFromAll([]); // `all` starts returning password_manager itself
      await until(
        () => w.clock.now() > w.to + 15 * MIN && new Set(w.rx.ids()).size >= w.expected.size,
        60_000,
        'every event',
      );
      const result = await c.stop();
      expect(result.exitCode).toBe(0);
      const cmp = compareIds(w.rx.ids(), w.expected);
      expectNoLoss(cmp, w.expected.size);
      expect(cmp.extraCopies).toBe(0);
      expect(c.forward.repeated()).toEqual([]);
      // No catch-up stream was needed: only the `all` stream ran, and its records carry its tag.
      expect(result.streams.map((s) => s.service)).toEqual(['all']);
      expect(new Set(w.rx.records.map((r) => r.tag))).toEqual(new Set(['jumpcloud.all']));
      const missed = c.logger.lines.filter((l) => l.msg === 'service missed by "all": collecting it too');
      expect(missed.map((l) => (l.obj as { service: string }).service)).toEqual(['password_manager']);
      expect(c.reports[0]).toEqual([
        { org: '', service: 'all', reason: 'configured' },
        { org: '', service: 'directory', reason: 'via_all' },
        { org: '', service: 'sso', reason: 'via_all' },
        {
          org: '',
          service: 'password_manager',
          reason: 'missed_by_all',
          handover: new Date(w.from).toISOString(),
          catchingUp: false,
        },
      ]);
      // The later checks saw it come back through `all`.
      expect(c.logger.lines.some((l) => l.msg?.startsWith('service is now returned by "all"'))).toBe(true);
      const file = JSON.parse(readFileSync(path.join(w.stateDir, '_default', 'services-coverage.json'), 'utf8'));
      expect(file.missedByAll).toMatchObject([{ service: 'password_manager', retired: true, viaAll: true }]);
    },
    120_000,
  );

  it(
    'an existing "all" stream: a catch-up stream collects the missed service up to the handover, then retires; ' +
      'flipping back during the catch-up repeats nothing',
    async () => {
      const w = await world(['password_manager']);
      // First run without checks (as before this feature): `all` alone, password_manager never arrives.
      const first = start(w, w.config({ servicesCheckMs: 0 }));
      await until(() => first.logger.lines.some((l) => l.msg === 'backfill complete'), 30_000, 'the first backfill');
      await first.stop();
      const before = w.rx.ids();
      const pmIds = idsOf(w.sim, 'password_manager', w.from, w.to);
      expect(before.filter((id) => pmIds.has(id))).toEqual([]);
      expect(before.length).toBeGreaterThan(1000);

      const second = start(w, w.config());
      const found = await (async () => {
        await until(() => second.reports.length > 0, 30_000, 'the first services check');
        return second.reports[0]!.find((e) => e.service === 'password_manager')!;
      })();
      expect(found).toMatchObject({ reason: 'missed_by_all', catchingUp: true });
      const handover = Date.parse(found.handover!);
      // Within the catch-up (before handover + overlap), `all` starts returning the service: the "all" stream's
      // re-scans before the handover must drop it, the catch-up stream owns those events.
      await until(() => w.clock.now() > handover + 5 * MIN, 30_000, 'the catch-up to run');
      w.sim.setHiddenFromAll([]);
      await until(
        () => second.logger.lines.some((l) => l.msg?.startsWith('catch-up stream retired')),
        60_000,
        'the catch-up stream to retire',
      );
      await until(
        () => w.clock.now() > w.to + 15 * MIN && new Set(w.rx.ids()).size >= w.expected.size,
        60_000,
        'every event',
      );
      const result = await second.stop();
      expect(result.exitCode).toBe(0);
      const cmp = compareIds(w.rx.ids(), w.expected);
      expectNoLoss(cmp, w.expected.size);
      expect(cmp.extraCopies).toBe(0);
      expect(second.forward.repeated()).toEqual([]);
      // password_manager before the handover came from its own stream, from the handover on through `all`.
      const byTag = new Map<string, string>();
      for (const r of w.rx.records) byTag.set(JSON.parse(String(r.record.message)).id, r.tag);
      for (const e of w.sim.expectedEvents({ service: 'password_manager', start: w.from, end: w.to })) {
        expect(byTag.get(e.id), e.timestamp).toBe(
          Date.parse(e.timestamp) < handover ? 'jumpcloud.password_manager' : 'jumpcloud.all',
        );
      }
      expect(result.streams.find((s) => s.service === 'password_manager')).toMatchObject({ status: 'ok' });
    },
    180_000,
  );
});

describe('services that "all" misses, with --once (a pass per run, as from cron)', () => {
  it('the catch-up stream resumes across runs and retires; every event once', async () => {
    const w = await world(['password_manager']);
    const pass = async (config: CollectorConfig) => {
      const c = start(w, config);
      const r = await c.run;
      expect(r.exitCode).toBe(0);
      return { ...c, r };
    };
    // As before this feature: `all` alone.
    await pass(w.config({ once: true, servicesCheckMs: 0 }));
    // The check finds password_manager: its catch-up stream collects it from --since, up to now − lag this run.
    const second = await pass(w.config({ once: true }));
    expect(second.r.streams.map((s) => [s.service, s.status])).toEqual([
      ['all', 'ok'],
      ['password_manager', 'ok'],
    ]);
    const handover = Date.parse(second.reports[0]!.find((e) => e.service === 'password_manager')!.handover!);
    // Later, once everything exists and is indexed: the last pass takes `all` past the handover and retires the
    // catch-up.
    await until(
      () => w.clock.now() > Math.max(w.to, handover + 30 * MIN) + 15 * MIN,
      60_000,
      'the clock to pass the end',
    );
    const third = await pass(w.config({ once: true }));
    expect(third.logger.lines.some((l) => l.msg?.startsWith('catch-up stream retired'))).toBe(true);
    const cmp = compareIds(w.rx.ids(), w.expected);
    expectNoLoss(cmp, w.expected.size);
    expect(cmp.extraCopies).toBe(0);
  }, 180_000);
});

describe('pieces', () => {
  it(
    'rewrites queries around the handover: the "all" query is split at B, names the service from B, drops it ' +
      'before; catch-up queries end before B',
    async () => {
      const stateDir = mkdtempSync(path.join(tmpdir(), 'services-plan-'));
      cleanup.push(async () => rmSync(stateDir, { recursive: true, force: true }));
      const B = Date.parse('2026-03-01T12:00:00Z');
      mkdirSync(path.join(stateDir, 'o1'), { recursive: true });
      writeFileSync(
        path.join(stateDir, 'o1', 'services-coverage.json'),
        JSON.stringify({
          version: 1,
          org: 'o1',
          checkedUntil: '2026-03-01T11:58:00.000Z',
          missedByAll: [
            {
              service: 'password_manager',
              found: '2026-03-01T12:00:00.000Z',
              since: '2026-03-01T09:00:00.000Z',
              handover: '2026-03-01T12:00:00.000Z',
              retired: false,
            },
          ],
        }),
      );
      const seen: { kind: string; q: DiQuery }[] = [];
      const inner: DiClient = {
        async *pages(q) {
          seen.push({ kind: 'pages', q });
        },
        async count(q) {
          seen.push({ kind: 'count', q });
          return q.service === 'password_manager' ? 3 : 10;
        },
        // Per-minute buckets: 'all' (with or without named services) 5 in each minute, password_manager 2.
        async interval(q) {
          seen.push({ kind: 'interval', q });
          const out = [];
          for (let t = Math.floor(Date.parse(q.start) / MIN) * MIN; t <= Date.parse(q.end); t += MIN)
            out.push({ key: t, count: q.service === 'password_manager' ? 2 : 5 });
          return out;
        },
        async close() {},
      };
      const clock = acceleratedClock(B, Date.now(), 1);
      const coverage = new ServiceCoverage({
        stateDir,
        orgs: ['o1'],
        batchSize: 100,
        sinceMs: B - 3 * 60 * MIN,
        lagMs: 2 * MIN,
        overlapMs: 30 * MIN,
        intervalMs: MIN,
        checkEveryMs: 60 * MIN,
        once: false,
        clock,
        logger: memoryLogger(),
        metrics: noMetrics,
      });
      const di = coverage.wrap(inner);
      const q = (service: string, start: string, end: string): DiQuery => ({ service, start, end, orgIds: ['o1'] });
      const drain = async (it: AsyncIterable<unknown>) => {
        for await (const _ of it) void _;
      };
      await drain(di.pages(q('all', '2026-03-01T11:30:00.000Z', '2026-03-01T12:10:00.000Z')));
      expect(seen.splice(0)).toEqual([
        { kind: 'pages', q: q('all', '2026-03-01T11:30:00.000Z', '2026-03-01T11:59:59.999Z') },
        {
          kind: 'pages',
          q: {
            ...q('all', '2026-03-01T12:00:00.000Z', '2026-03-01T12:10:00.000Z'),
            alsoServices: ['password_manager'],
          },
        },
      ]);
      // Before B: (all ∪ password_manager) − password_manager, whether or not `all` returns it by then.
      expect(await di.count(q('all', '2026-03-01T11:30:00.000Z', '2026-03-01T12:10:00.000Z'))).toBe(10 - 3 + 10);
      expect(seen.splice(0).map((x) => [x.q.service, x.q.alsoServices, x.q.end])).toEqual([
        ['all', ['password_manager'], '2026-03-01T11:59:59.999Z'],
        ['password_manager', [], '2026-03-01T11:59:59.999Z'],
        ['all', ['password_manager'], '2026-03-01T12:10:00.000Z'],
      ]);
      // /events/interval follows the same plan, bucket by bucket: before B 5 − 2, the minute of B holds both parts.
      const buckets = await di.interval!(q('all', '2026-03-01T11:58:00.000Z', '2026-03-01T12:01:00.000Z'), {
        unit: 'm',
        value: 1,
      });
      expect(buckets).toEqual([
        { key: B - 2 * MIN, count: 3 },
        { key: B - MIN, count: 3 },
        { key: B, count: 5 },
        { key: B + MIN, count: 5 },
      ]);
      expect(seen.splice(0).map((x) => [x.kind, x.q.service, x.q.alsoServices, x.q.end])).toEqual([
        ['interval', 'all', ['password_manager'], '2026-03-01T11:59:59.999Z'],
        ['interval', 'password_manager', [], '2026-03-01T11:59:59.999Z'],
        ['interval', 'all', ['password_manager'], '2026-03-01T12:01:00.000Z'],
      ]);
      // Wholly after B: one query naming the service; another org's queries are left alone.
      await drain(di.pages(q('all', '2026-03-01T12:00:00.000Z', '2026-03-01T12:10:00.000Z')));
      await drain(
        di.pages({
          service: 'all',
          start: '2026-03-01T11:00:00.000Z',
          end: '2026-03-01T12:10:00.000Z',
          orgIds: ['o2'],
        }),
      );
      expect(seen.splice(0).map((x) => [x.q.orgIds?.[0], x.q.start, x.q.alsoServices])).toEqual([
        ['o1', '2026-03-01T12:00:00.000Z', ['password_manager']],
        ['o2', '2026-03-01T11:00:00.000Z', undefined],
      ]);
      // The catch-up stream: clamped to before B, nothing at all from B on.
      await drain(di.pages(q('password_manager', '2026-03-01T11:30:00.000Z', '2026-03-01T12:10:00.000Z')));
      expect(seen.splice(0).map((x) => x.q.end)).toEqual(['2026-03-01T11:59:59.999Z']);
      await drain(di.pages(q('password_manager', '2026-03-01T12:00:00.000Z', '2026-03-01T12:10:00.000Z')));
      expect(await di.count(q('password_manager', '2026-03-01T12:00:00.000Z', '2026-03-01T12:10:00.000Z'))).toBe(0);
      expect(seen).toEqual([]);
    },
  );

  it("reads the service names from the API's 400 answer", () => {
    expect(
      parseServiceList('unknown service "x"; valid services are: alerts, all, directory, password_manager, sso'),
    ).toEqual(['alerts', 'directory', 'password_manager', 'sso']);
    expect(parseServiceList('Bad Request: service must be one of [directory sso ai_admin]')).toEqual([
      'directory',
      'sso',
      'ai_admin',
    ]);
    expect(parseServiceList('internal error')).toEqual([]);
  });

  it(
    'the simulator: hidden services are left out of "all" but served by name, /events/distinct counts per service, ' +
      'the client queries several services',
    async () => {
      const w = await world(['password_manager']);
      const di = createDiClient({ apiUrl: w.sim.url, auth: { kind: 'apiKey', apiKey: w.sim.apiKey }, clock: w.clock });
      cleanup.push(() => di.close());
      // A window whose events are all indexed (late ones at most 10 min late).
      const end = w.V - 20 * MIN;
      const window = { start: new Date(w.from).toISOString(), end: new Date(end).toISOString() };
      const n = (service: string) => w.sim.expectedEvents({ service, start: w.from, end }).length;
      const all = await di.distinct!({ ...window, service: 'all' }, 'service');
      expect(new Map(all.map((b) => [b.key, b.count]))).toEqual(
        new Map([
          ['directory', n('directory')],
          ['sso', n('sso')],
        ]),
      );
      const named = await di.distinct!(
        { ...window, service: 'directory', alsoServices: ['sso', 'password_manager'] },
        'service',
      );
      expect(named.find((b) => b.key === 'password_manager')?.count).toBe(n('password_manager'));
      expect(await di.count({ ...window, service: 'all' })).toBe(n('directory') + n('sso'));
      expect(await di.count({ ...window, service: 'all', alsoServices: ['password_manager'] })).toBe(
        n('directory') + n('sso') + n('password_manager'),
      );
      await expect(di.count({ ...window, service: 'no_such_service' })).rejects.toMatchObject({
        status: 400,
        apiMessage: expect.stringContaining('password_manager'),
      });
      // withoutServices drops exactly the named service's events from a page.
      let kept = 0;
      let dropped = 0;
      w.sim.setHiddenFromAll([]);
      for await (const page of di.pages({ ...window, service: 'all' })) {
        const f = withoutServices(page, ['password_manager']);
        for (const e of f.events) {
          expect(JSON.parse(Buffer.from(e.raw).toString()).service).not.toBe('password_manager');
          kept++;
        }
        dropped += page.events.length - f.events.length;
      }
      expect(kept).toBe(n('directory') + n('sso'));
      expect(dropped).toBe(n('password_manager'));
    },
    60_000,
  );
});
