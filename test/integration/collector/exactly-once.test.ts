// Exactly once, in process, against the real DI simulator and the protocol-level forward receiver:
// several orgs × services at once, 5 % injected API faults (429/503/500/resets/timeouts/truncated/not-array),
// events indexed up to 30 min late, and a receiver that drops connections, withholds acks and loses acks
// after storing. Time runs 300× faster on a clock shared by simulator and collector.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { acceleratedClock } from '../../../input/clock.js';
import { runCollector } from '../../../input/collector/engine/run.js';
import { createForwardClient } from '../../../input/forward/client.js';
import { startSimulator, type Simulator } from '../../../input/simulator/server.js';
import type { CollectorConfig } from '../../../input/types.js';
import { startForwardReceiver, type ForwardReceiver } from '../../support/forward-receiver.js';
import { memoryLogger } from '../../support/fakes.js';
import { CountingForward, compareIds, expectNoLoss, expectedIds, until } from '../../support/collector.js';

const MIN = 60_000;
const SPEED = 300;
let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const f of cleanup.reverse()) await f().catch(() => undefined);
  cleanup = [];
});

interface Scenario {
  readonly seed: number;
  readonly receiverFaults: Parameters<ForwardReceiver['setFaults']>[0];
  readonly apiFaultRate: number;
}

async function scenario(sc: Scenario) {
  const V = Date.parse('2026-03-01T12:00:00Z');
  const clock = acceleratedClock(V, Date.now(), SPEED);
  const orgs = ['5f0c1a2b3c4d5e6f7a8b9c01', '5f0c1a2b3c4d5e6f7a8b9c02'];
  const services = ['directory', 'sso'];
  const from = V - 3 * 60 * MIN;
  const to = V + 20 * MIN;
  const sim: Simulator = await startSimulator({
    seed: sc.seed,
    clock,
    orgs,
    services,
    eventsPerMinute: 15,
    from,
    to,
    indexDelay: { typicalMaxMs: 5_000, lateFraction: 0.05, maxMs: 30 * MIN },
    faults: { rate: sc.apiFaultRate, seed: sc.seed + 1 },
  });
  cleanup.push(() => sim.close());
  const rx: ForwardReceiver = await startForwardReceiver({ seed: sc.seed + 2, faults: sc.receiverFaults });
  cleanup.push(() => rx.close());
  let reconnects = 0;
  const real = createForwardClient({
    target: { kind: 'tcp', host: '127.0.0.1', port: rx.port! },
    ackTimeoutMs: 400,
    backoff: { baseMs: 20, maxMs: 200 },
    maxChunkBytes: 64_000,
    settleMs: 0,
    hooks: { onReconnect: () => void reconnects++ },
  });
  const forward = new CountingForward(real);
  const config: CollectorConfig = {
    apiUrl: sim.url,
    auth: { kind: 'apiKey', apiKey: sim.apiKey },
    orgIds: orgs,
    services,
    pageLimit: 500,
    requestTimeoutMs: 1_000,
    // The receiver's ack means stored: no settle time (forward tests and fluent-bit.test.ts cover it).
    ackSettleMs: 0,
    forward: { kind: 'tcp', host: '127.0.0.1', port: rx.port! },
    tag: 'jumpcloud.{org}.{service}',
    stateDir: mkdtempSync(path.join(tmpdir(), 'exactly-once-')),
    sinceMs: from,
    lagMs: 2 * MIN,
    overlapMs: 60 * MIN,
    intervalMs: MIN,
    once: false,
    backfillSlices: 3,
    maxSeenIds: 1_000_000,
  };
  cleanup.push(async () => rmSync(config.stateDir, { recursive: true, force: true }));
  const expected = expectedIds(
    sim,
    orgs.flatMap((orgId) => services.map((service) => ({ orgId, service }))),
    from,
    to,
  );
  expect(expected.size).toBeGreaterThan(10_000);
  const logger = memoryLogger();
  const ctl = new AbortController();
  // A 1 h backfill threshold makes the first 3 h a sliced backfill; 1-min windows follow.
  const run = runCollector(config, {
    logger,
    clock,
    signal: ctl.signal,
    forwardClient: forward,
    tuning: { backfillThresholdMs: 60 * MIN, sendBatch: 300 },
  });
  // Everything exists at `to` and is visible 30 min later; allow a few polls after that.
  await until(
    () => clock.now() > to + 36 * MIN && new Set(rx.ids()).size >= expected.size,
    50_000,
    'every event to arrive',
  );
  ctl.abort();
  const result = await run;
  await real.close(2_000);
  expect(result.streams.map((s) => s.status)).toEqual(['stopped', 'stopped', 'stopped', 'stopped']);
  expect(result.exitCode).toBe(0);
  // One backfill per service: the two orgs are one query (--org-batch-size), each event routed to its org.
  expect(logger.lines.filter((l) => l.msg === 'backfill complete')).toHaveLength(2);
  // Late events were recovered through the overlap, and re-scanned ones skipped by id.
  expect(result.streams.reduce((n, s) => n + s.duplicatesSkipped, 0)).toBeGreaterThan(0);
  const cmp = compareIds(rx.ids(), expected);
  expectNoLoss(cmp, expected.size);
  // The engine handed every event to the forward client exactly once, whatever the faults.
  expect(forward.repeated()).toEqual([]);
  expect(forward.sent.size).toBe(expected.size);
  // Tags and times: each record carries its stream's tag and its own timestamp to the nanosecond.
  for (const r of rx.records) {
    const ev = JSON.parse(String(r.record.message)) as { id: string; timestamp: string; organization?: string };
    expect(r.tag).toMatch(/^jumpcloud\.5f0c1a2b3c4d5e6f7a8b9c0[12]\.(directory|sso)$/);
    // Routed by its `organization`: tagged with its own org.
    expect(r.tag.split('.')[1]).toBe(ev.organization);
    const ms = Date.parse(ev.timestamp);
    expect(r.time.sec).toBe(Math.floor(ms / 1000));
    expect(r.time.nsec).toBe(Number((/\.(\d+)Z$/.exec(ev.timestamp)?.[1] ?? '').padEnd(9, '0')));
  }
  return { cmp, rx, sim, reconnects, result };
}

describe('exactly once against the simulator and the forward receiver', () => {
  it(
    '2 orgs × 2 services, 5 % API faults, 30-min-late indexing, dropped connections: no loss, the engine sends ' +
      'each id once',
    async () => {
      const { cmp, rx, sim, reconnects } = await scenario({
        seed: 42,
        apiFaultRate: 0.05,
        receiverFaults: { dropProbability: 0.03 },
      });
      expect(rx.stats.drops).toBeGreaterThan(0);
      // Polls check their overlap by counts (one /events/interval request, pages only where counts differ), so a
      // 5 % fault rate hits fewer requests than when every poll re-fetched its whole overlap.
      expect(Object.values(sim.stats.faults).reduce((a, b) => a + (b ?? 0), 0)).toBeGreaterThanOrEqual(3);
      // Repeats can only come from chunks in flight on a dropped connection whose acks were written but not read:
      // at most the in-flight bound (8 chunks) per reconnect.
      expect(cmp.extraCopies).toBeLessThanOrEqual(reconnects * 8 * 300);
    },
  );

  it('withheld acks and acks lost after storing: no loss; repeats only from the transport resending unacked chunks', async () => {
    const { cmp, rx, reconnects } = await scenario({
      seed: 43,
      apiFaultRate: 0.05,
      receiverFaults: { dropProbability: 0.02, withholdProbability: 0.02, loseAckProbability: 0.02 },
    });
    expect(rx.stats.withheld).toBeGreaterThan(0);
    expect(rx.stats.lostAckChunks).toBeGreaterThan(0);
    // A chunk stored whose ack was lost must arrive again; chunks in flight on a connection torn down after a
    // withheld ack may too (stored, ack not read). The engine itself sent every id once (checked above), so every
    // extra copy is a resend of the same chunk: their number is bounded by reconnects × the in-flight bound.
    expect(cmp.extraCopies).toBeGreaterThanOrEqual(rx.stats.lostAckEntries);
    expect(reconnects).toBeGreaterThan(0);
    expect(cmp.extraCopies).toBeLessThanOrEqual(reconnects * 8 * 300);
  });
});
