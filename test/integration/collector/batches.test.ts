// Orgs batched in one query, against the simulator (x-org-id repeated, each event carrying its `organization`) and
// the forward receiver: one org not licensed (402) and one not accessible (403) in a batch are found by halving the
// query and reported while the others are delivered exactly once; adding and removing orgs keeps every other org's
// state; the provider's own stream (x-provider-id) is delivered exactly once beside its orgs'; the services check
// costs a few requests per batch.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runCollector, type RunResult } from '../../../input/collector/engine/run.js';
import { noMetrics } from '../../../input/collector/metrics.js';
import type { ServiceCoverageEntry } from '../../../input/collector/engine/services.js';
import { DiFatalError } from '../../../input/di/errors.js';
import { startSimulator, type Simulator, type SimulatorOptions } from '../../../input/simulator/server.js';
import type { Clock, CollectorConfig } from '../../../input/types.js';
import { compareIds, expectNoLoss, expectedIds } from '../../support/collector.js';
import { memoryLogger } from '../../support/fakes.js';
import { startForwardReceiver, type ForwardReceiver } from '../../support/forward-receiver.js';

const MIN = 60_000;
const T0 = Date.UTC(2026, 2, 1, 12, 0, 0);
const ORGS = Array.from({ length: 6 }, (_, i) => `5f0b${(i + 1).toString(16).padStart(20, '0')}`);

const cleanups: (() => Promise<unknown> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** The collector's time, moved by the test between runs (sleeps end at once: --once runs only retry on it). */
function testClock(): Clock & { at: number } {
  const c = {
    at: T0,
    now: () => c.at,
    sleep: (ms: number, signal?: AbortSignal) =>
      new Promise<void>((r) => {
        const t = setTimeout(r, Math.min(ms, 20));
        signal?.addEventListener('abort', () => (clearTimeout(t), r()), { once: true });
      }),
  };
  return c;
}

/** A simulator, a receiver, a state directory, and the requests the simulator saw (route, x-org-id). */
async function world(opts: SimulatorOptions) {
  const clock = testClock();
  const requests: { route: string; orgs: string[] }[] = [];
  const sim = await startSimulator({
    clock,
    seed: 5,
    orgs: ORGS,
    services: ['directory', 'sso'],
    eventsPerMinute: 2,
    from: T0 - 3 * 60 * MIN,
    indexDelay: { lateFraction: 0 },
    onRequest: (r) => void requests.push({ route: r.route, orgs: r.orgId?.split(', ') ?? [] }),
    ...opts,
  });
  cleanups.push(() => sim.close());
  const rx = await startForwardReceiver({ seed: 4 });
  cleanups.push(() => rx.close());
  const dir = mkdtempSync(path.join(tmpdir(), 'batches-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const config = (over: Partial<CollectorConfig>): CollectorConfig => ({
    apiUrl: sim.url,
    auth: { kind: 'apiKey', apiKey: sim.apiKey },
    orgIds: ORGS,
    services: ['directory'],
    pageLimit: 1000,
    requestTimeoutMs: 5_000,
    forward: { kind: 'tcp', host: '127.0.0.1', port: rx.port! },
    ackSettleMs: 0,
    tag: 'jc.{org}.{service}',
    stateDir: path.join(dir, 'state'),
    sinceMs: T0 - 2 * 60 * MIN,
    lagMs: MIN,
    overlapMs: 30 * MIN,
    intervalMs: MIN,
    once: true,
    backfillSlices: 2,
    maxSeenIds: 100_000,
    maxRequestsPerSecond: 0,
    ...over,
  });
  return { clock, sim, rx, config, requests };
}

async function run(
  w: { clock: Clock },
  config: CollectorConfig,
  metrics = noMetrics,
): Promise<{ r: RunResult; logger: ReturnType<typeof memoryLogger> }> {
  const logger = memoryLogger();
  const r = await runCollector(config, { logger, clock: w.clock, metrics });
  return { r, logger };
}

function expectOnce(rx: ForwardReceiver, sim: Simulator, orgs: readonly string[], service: string, end: number): void {
  const expected = expectedIds(
    sim,
    orgs.map((orgId) => ({ orgId, service })),
    T0 - 2 * 60 * MIN,
    end - 1,
  );
  const cmp = compareIds(rx.ids(), expected);
  expectNoLoss(cmp, expected.size);
  expect(cmp.extraCopies).toBe(0);
}

describe('a batch with orgs the API refuses', () => {
  it('finds the one not licensed (402) and the one not accessible (403) by halving; the others arrive once', async () => {
    const unknown = '5f0bffffffffffffffffffff'; // not administered by the key: 403
    const w = await world({ unlicensedOrgs: [ORGS[2]!] });
    const orgs = [...ORGS, unknown];
    const { r, logger } = await run(w, w.config({ orgIds: orgs }));
    // Refused orgs are a configuration to fix: exit 3, as a refused single-org stream exits.
    expect(r.exitCode).toBe(3);
    const failed = r.streams.filter((s) => s.status === 'failed');
    expect(failed.map((s) => s.org).sort()).toEqual([ORGS[2], unknown].sort());
    expect(failed.every((s) => s.error instanceof DiFatalError)).toBe(true);
    expect(failed.find((s) => s.org === ORGS[2])!.error!.message).toMatch(
      new RegExp(`not licensed or not enabled for org ${ORGS[2]} \\(402`),
    );
    expect(failed.find((s) => s.org === unknown)!.error!.message).toMatch(
      new RegExp(`org ${unknown} is not administered`),
    );
    expect(r.streams.filter((s) => s.status === 'ok').map((s) => s.org)).toEqual(
      orgs.filter((o) => !failed.some((f) => f.org === o)),
    );
    const stopped = logger.lines.filter((l) => l.msg === 'stream stopped').map((l) => (l.obj as { org: string }).org);
    expect(stopped.sort()).toEqual([ORGS[2], unknown].sort());
    const good = ORGS.filter((o) => o !== ORGS[2]);
    expectOnce(w.rx, w.sim, good, 'directory', T0 - MIN);
    // The cost of finding them: the refused queries (7 orgs → halves → … → each refused org alone) and the extra
    // queries of the halves that succeeded. One query of the 5 others would have been one /events/interval.
    const refused = w.requests.filter((q) => q.orgs.includes(ORGS[2]!) || q.orgs.includes(unknown));
    const served = w.requests.filter((q) => !q.orgs.includes(ORGS[2]!) && !q.orgs.includes(unknown));
    // 7 → 4 (402) → 2 → 1: the unlicensed one; 3 (403) → 1: the unknown one. Each refused query is one request.
    expect(refused.map((q) => q.orgs.length)).toEqual([7, 4, 2, 1, 3, 1]);
    expect(refused.every((q) => q.route === '/events/interval')).toBe(true);
    expect(served.filter((q) => q.route === '/events/interval').map((q) => q.orgs.length)).toEqual([2, 1, 2]);
    console.log(
      `refused orgs 2 of 7: ${refused.length} refused requests, ${served.length} served ` +
        `(${served.filter((q) => q.route === '/events/interval').length} queries of the orgs that are left)`,
    );
    expect(w.sim.stats.requests['/events/interval']?.['402']).toBe(4);
    expect(w.sim.stats.requests['/events/interval']?.['403']).toBe(2);
  });
});

describe('the orgs of --org-ids change', () => {
  it("adding one starts it from --since; removing one keeps the others' state; nothing repeats", async () => {
    const w = await world({});
    const [a, b, c] = ORGS as [string, string, string];
    await run(w, w.config({ orgIds: [a, b] }));
    expectOnce(w.rx, w.sim, [a, b], 'directory', T0 - MIN);
    w.clock.at = T0 + 10 * MIN;
    const added = await run(w, w.config({ orgIds: [a, b, c] }));
    expect(added.r.exitCode).toBe(0);
    // c is new: from --since, alone; a and b resume from their checkpoint, together.
    expect(
      added.logger.lines
        .filter((l) => l.msg === 'new stream: collecting from --since')
        .map((l) => (l.obj as { org: string }).org),
    ).toEqual([c]);
    expectOnce(w.rx, w.sim, [a, b, c], 'directory', T0 + 9 * MIN);
    w.clock.at = T0 + 20 * MIN;
    const removed = await run(w, w.config({ orgIds: [a, c] }));
    expect(removed.r.streams.map((s) => [s.org, s.checkpoint])).toEqual([
      [a, new Date(T0 + 19 * MIN).toISOString()],
      [c, new Date(T0 + 19 * MIN).toISOString()],
    ]);
    w.clock.at = T0 + 30 * MIN;
    await run(w, w.config({ orgIds: [a, b, c] }));
    // b comes back where it stopped: everything of the three once, up to the last end.
    expectOnce(w.rx, w.sim, [a, b, c], 'directory', T0 + 29 * MIN);
  });
});

describe('--provider-id', () => {
  it("reads the provider's portal events as one more stream, exactly once, tagged with it; the orgs keep their provider activity", async () => {
    const w = await world({ providers: ['msp-north'] });
    const config = w.config({ providerId: 'msp-north', services: ['directory'], tag: 'jc.{service}' });
    const first = await run(w, config);
    expect(first.r.exitCode).toBe(0);
    w.clock.at = T0 + 15 * MIN;
    const second = await run(w, config);
    expect(second.r.streams.map((s) => [s.org, s.service, s.status])).toContainEqual([
      'provider.msp-north',
      'all',
      'ok',
    ]);
    const end = T0 + 14 * MIN - 1;
    const portal = w.sim.expectedEvents({ providerId: 'msp-north', service: 'all', start: T0 - 2 * 60 * MIN, end });
    expect(portal.length).toBeGreaterThan(100);
    const byTag = new Map<string, string[]>();
    for (const rec of w.rx.records) {
      const id = (JSON.parse(String(rec.record.message)) as { id: string }).id;
      byTag.set(rec.tag, [...(byTag.get(rec.tag) ?? []), id]);
    }
    expect(byTag.get('jc.provider.msp-north')!.sort()).toEqual(portal.map((e) => e.id).sort());
    // The orgs' own events, provider admins' actions in them included (exclude_provider_activity is not sent):
    // every one once, and none of them in the provider's stream.
    const orgEvents = expectedIds(
      w.sim,
      ORGS.map((orgId) => ({ orgId, service: 'directory' })),
      T0 - 2 * 60 * MIN,
      end,
    );
    const cmp = compareIds(byTag.get('jc.directory')!, orgEvents);
    expectNoLoss(cmp, orgEvents.size);
    expect(cmp.extraCopies).toBe(0);
    const inOrgs = w.sim.expectedEvents({ orgId: ORGS[0]!, service: 'directory', start: T0 - 2 * 60 * MIN, end });
    const withoutProvider = w.sim.expectedEvents({
      orgId: ORGS[0]!,
      service: 'directory',
      start: T0 - 2 * 60 * MIN,
      end,
      excludeProviderActivity: true,
    });
    expect(inOrgs.length).toBeGreaterThan(withoutProvider.length); // the provider admins' actions are there
    expect(portal.filter((e) => orgEvents.has(e.id))).toEqual([]);
    // Its own queries: x-provider-id alone, never with x-org-id.
    expect(w.sim.stats.requests['/events']?.['400']).toBeUndefined();
  });
});

describe('the services check of many orgs', () => {
  it('costs a few requests per batch, and finds per org what "all" misses', async () => {
    const w = await world({ services: ['directory', 'sso', 'password_manager'], hiddenFromAll: ['password_manager'] });
    const reports: ServiceCoverageEntry[][] = [];
    const metrics = {
      ...noMetrics,
      servicesCollected: (e: readonly ServiceCoverageEntry[]) => void reports.push([...e]),
    };
    const config = w.config({ services: ['all'], orgBatchSize: 3, servicesCheckMs: 60 * MIN });
    const { r } = await run(w, config, metrics);
    expect(r.exitCode).toBe(0);
    const checks = w.requests.filter((q) => q.route === '/events/distinct' || q.route === '/events/count');
    // Before any stream: the names the API accepts (1 probe), then per batch of 3 orgs: distinct by name and through
    // "all" (2), and, "all" missing password_manager, the same by organization (2): 1 + 2 × 4 (3 requests per org
    // before: 18).
    const distinct = w.requests.filter((q) => q.route === '/events/distinct');
    expect(distinct.length).toBe(8);
    expect(checks.filter((q) => q.route === '/events/count' && q.orgs.length > 0).length).toBeGreaterThanOrEqual(1);
    const missed = reports.at(-1)!.filter((e) => e.reason === 'missed_by_all');
    expect(missed.map((e) => e.org).sort()).toEqual([...ORGS].sort());
    expect(missed.every((e) => e.service === 'password_manager')).toBe(true);
    // Fresh state: named in each batch's "all" query from --since; every event of the three services once.
    const end = T0 - MIN;
    const expected = expectedIds(
      w.sim,
      ORGS.flatMap((orgId) => ['directory', 'sso', 'password_manager'].map((service) => ({ orgId, service }))),
      T0 - 2 * 60 * MIN,
      end - 1,
    );
    const cmp = compareIds(w.rx.ids(), expected);
    expectNoLoss(cmp, expected.size);
    expect(cmp.extraCopies).toBe(0);
  });
});
