// One stream (engine/stream.ts) against in-memory fakes: a new stream starts at --since and says so; a resumed one
// says what it ignores; the restart decision comes before any fetch; a poll cut by Fluent Bit's connection closing
// within the settle time runs again at once; a transient failure waits for the next interval, a fatal one stops.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BackfillBoard } from '../../../input/collector/engine/progress.js';
import { runStream, type StreamSettings } from '../../../input/collector/engine/stream.js';
import { noMetrics, type EngineMetrics } from '../../../input/collector/metrics.js';
import { StateWriter, loadState, streamPaths } from '../../../input/collector/state/state.js';
import { DiFatalError, DiTransientError } from '../../../input/di/errors.js';
import { ForwardUnsettledError } from '../../../input/forward/errors.js';
import { FakeDi, FakeForward, manualClock, memoryLogger, type FakeEvent } from '../../support/fakes.js';

const T0 = Date.parse('2026-03-01T12:00:00Z');
const MIN = 60_000;
const key = { org: '', service: 'directory' };
const ev = (i: number, ms: number): FakeEvent => ({
  id: `e${String(i).padStart(5, '0')}`,
  timestamp: new Date(ms).toISOString(),
});

let dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function setup(events: FakeEvent[], over: Partial<StreamSettings> = {}) {
  const stateDir = mkdtempSync(path.join(tmpdir(), 'stream-'));
  dirs.push(stateDir);
  const clock = manualClock(T0);
  const logger = memoryLogger();
  const calls: string[] = [];
  const metrics: EngineMetrics = { ...noMetrics, unsettledRefetch: () => void calls.push('unsettledRefetch') };
  const settings: StreamSettings = {
    stateDir,
    tag: 'jumpcloud.{service}',
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
  const di = new FakeDi(events, clock);
  const forward = new FakeForward();
  const deps = { di, forward, logger, metrics, clock, wallClock: clock };
  return { stateDir, clock, logger, calls, settings, di, forward, deps };
}

const EVENTS = [ev(1, T0 - 20 * MIN), ev(2, T0 - 10 * MIN), ev(3, T0 - 5 * MIN)];

/** The stream of `key`'s one org: its one result. */
async function runOne(...args: Parameters<typeof runStream> extends [unknown, ...infer R] ? R : never) {
  const results = await runStream({ service: key.service, orgs: [key.org] }, ...args);
  expect(results).toHaveLength(1);
  return results[0]!;
}

describe('runStream', () => {
  it('a new stream collects from --since to now − lag, says so, and saves its checkpoint', async () => {
    const s = setup(EVENTS);
    const r = await runOne(s.settings, s.deps, undefined);
    expect(r).toMatchObject({
      status: 'ok',
      forwarded: 3,
      duplicatesSkipped: 0,
      checkpoint: new Date(T0 - MIN).toISOString(),
    });
    expect(s.forward.received.map((r) => [r.tag, r.id])).toEqual(EVENTS.map((e) => ['jumpcloud.directory', e.id]));
    expect(s.logger.lines[0]).toMatchObject({ level: 'info', msg: 'new stream: collecting from --since' });
    expect(await loadState(s.settings.stateDir, key)).toEqual({ ...key, since: T0 - 30 * MIN, checkpoint: T0 - MIN });
  });

  it('a resumed stream skips what its journal holds, and says that a different --since is ignored', async () => {
    const s = setup(EVENTS, { sinceGiven: true, sinceMs: T0 - 60 * MIN });
    new StateWriter(s.settings.stateDir, key);
    const paths = streamPaths(s.settings.stateDir, key);
    writeFileSync(
      paths.state,
      JSON.stringify({
        version: 1,
        ...key,
        since: new Date(T0 - 30 * MIN).toISOString(),
        checkpoint: new Date(T0 - 8 * MIN).toISOString(),
      }),
    );
    writeFileSync(paths.journal, `e00002\t${T0 - 10 * MIN}\n`);
    const r = await runOne(s.settings, s.deps, undefined);
    // The window reaches back an overlap before the checkpoint: e00002 is in it, and skipped by its id.
    expect(r).toMatchObject({ status: 'ok', forwarded: 1, duplicatesSkipped: 1 });
    expect(s.forward.ids()).toEqual(['e00003']);
    expect(s.logger.lines.map((l) => l.msg)).toEqual(
      expect.arrayContaining(['resuming stream', expect.stringMatching(/^--since .* is ignored for stream directory/)]),
    );
  });

  it('decides what the last run left in flight before fetching: without --fluent-bit-http, acked ids are sent again', async () => {
    const s = setup(EVENTS);
    new StateWriter(s.settings.stateDir, key);
    const paths = streamPaths(s.settings.stateDir, key);
    writeFileSync(
      paths.state,
      JSON.stringify({
        version: 1,
        ...key,
        since: new Date(T0 - 30 * MIN).toISOString(),
        checkpoint: new Date(T0 - 8 * MIN).toISOString(),
      }),
    );
    writeFileSync(paths.journal, `e00002\t${T0 - 10 * MIN}\tacked@${T0 - 9 * MIN}\n`);
    const r = await runOne(s.settings, s.deps, undefined);
    expect(r).toMatchObject({ status: 'ok', forwarded: 2, duplicatesSkipped: 0 });
    const msgs = s.logger.lines.map((l) => l.msg ?? '');
    const decided = msgs.findIndex((m) => m.startsWith('events acked by Fluent Bit less than --ack-settle'));
    expect(decided).toBeGreaterThanOrEqual(0);
    expect(decided).toBeLessThan(msgs.indexOf('resuming stream'));
  });

  it('a poll cut by a connection closed within the settle time runs again at once, not at the next interval', async () => {
    const s = setup(EVENTS, { once: false });
    let sends = 0;
    const send = s.forward.send.bind(s.forward);
    s.forward.send = async (tag, batch) => {
      if (++sends === 1) throw new ForwardUnsettledError('closed within the settle time', 3);
      return send(tag, batch);
    };
    const stop = new AbortController();
    const sleeps: number[] = [];
    const sleep = s.clock.sleep;
    const clock = {
      ...s.clock,
      sleep: (ms: number, signal?: AbortSignal) => (sleeps.push(ms), stop.abort(), sleep(ms, signal)),
    };
    const r = await runOne(s.settings, { ...s.deps, clock }, stop.signal);
    expect(r.status).toBe('stopped');
    expect(s.calls).toEqual(['unsettledRefetch']);
    expect(s.forward.ids().sort()).toEqual(EVENTS.map((e) => e.id));
    // Two polls (the cut one again at once), then the interval's sleep.
    expect(sleeps).toEqual([5 * MIN]);
  });

  it('a transient failure waits for the next interval (the checkpoint does not move); a fatal one stops the stream', async () => {
    const s = setup(EVENTS, { once: false });
    let queries = 0;
    s.di.failWith = () => (++queries === 1 ? new DiTransientError('503 after retries', 'http_503', 503) : undefined);
    const stop = new AbortController();
    let sleeps = 0;
    const clock = {
      ...s.clock,
      sleep: async (ms: number, signal?: AbortSignal) => {
        if (++sleeps === 2) stop.abort();
        await s.clock.sleep(ms, signal);
      },
    };
    const r = await runOne(s.settings, { ...s.deps, clock }, stop.signal);
    expect(r).toMatchObject({ status: 'stopped', forwarded: 3 });
    expect(
      s.logger.lines.some(
        (l) => l.level === 'error' && l.msg?.startsWith('poll failed; retrying at the next interval'),
      ),
    ).toBe(true);

    const f = setup(EVENTS, { once: false });
    f.di.failWith = () => new DiFatalError('DI not licensed', 402);
    const failed = await runOne(f.settings, f.deps, undefined);
    expect(failed).toMatchObject({ status: 'failed', forwarded: 0, checkpoint: new Date(T0 - 30 * MIN).toISOString() });
    expect(failed.error?.message).toBe('DI not licensed');
  });
});
