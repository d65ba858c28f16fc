// A backfill (engine/backfill.ts) against in-memory fakes: slices that tile the range and end at the checkpoint,
// each event forwarded once; a resumed backfill fetches only from each slice's persisted cursor; a failed slice
// stops the others with their progress kept; a stop keeps the backfill for the next start.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SeenIds } from '../../../input/collector/delivery/index.js';
import { runBackfill } from '../../../input/collector/engine/backfill.js';
import { BackfillBoard } from '../../../input/collector/engine/progress.js';
import type { StreamContext } from '../../../input/collector/fetch/range.js';
import { Routes } from '../../../input/collector/fetch/routes.js';
import { noMetrics } from '../../../input/collector/metrics.js';
import { StateWriter, loadState, streamPaths, type StreamState } from '../../../input/collector/state/state.js';
import { StreamStore } from '../../../input/collector/state/store.js';
import { DiFatalError } from '../../../input/di/errors.js';
import { FakeDi, FakeForward, manualClock, memoryLogger, type FakeEvent } from '../../support/fakes.js';

const T0 = Date.parse('2026-03-01T00:00:00Z');
const HOUR = 3_600_000;
const key = { org: '', service: 'all' };
const ev = (i: number, ms: number): FakeEvent => ({
  id: `e${String(i).padStart(5, '0')}`,
  timestamp: new Date(ms).toISOString(),
});
/** 120 events, one every 20 minutes over 40 hours. */
const EVENTS = Array.from({ length: 120 }, (_, i) => ev(i, T0 + i * 20 * 60_000));
const END = T0 + 40 * HOUR;

let dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function setup(events: FakeEvent[], state?: StreamState) {
  const stateDir = mkdtempSync(path.join(tmpdir(), 'backfill-'));
  dirs.push(stateDir);
  const clock = manualClock(END + HOUR);
  const di = new FakeDi(events, clock, 5);
  const forward = new FakeForward();
  const logger = memoryLogger();
  const writer = new StateWriter(stateDir, key); // creates the stream's directory
  const seen = await SeenIds.open(streamPaths(stateDir, key).journal, { maxIds: 10_000, logger, stream: key });
  const store = new StreamStore(writer, seen, state ?? { ...key, since: T0, checkpoint: T0 });
  await store.save(store.state);
  const ctx: StreamContext = {
    routes: new Routes(key.service, [{ org: key.org, seen, tag: 'jumpcloud.all' }]),
    di,
    forward,
    logger,
    metrics: noMetrics,
    clock,
    wallClock: clock,
    overlapMs: HOUR,
    sendBatch: 4,
    pipelinePages: 2,
    seenCompactAt: 5_000,
  };
  const progress = new BackfillBoard({ logger, out: { isTTY: false, write: () => true }, clock });
  return { stateDir, di, forward, logger, seen, store, ctx, progress };
}

describe('runBackfill', () => {
  it('forwards every event of the range once, in slices that tile it, and moves the checkpoint to its end', async () => {
    const s = await setup(EVENTS);
    expect(await runBackfill(s.ctx, s.store, END, { slices: 4, progress: s.progress }, undefined)).toBe(true);
    expect(s.forward.ids().sort()).toEqual(EVENTS.map((e) => e.id));
    const st = await loadState(s.stateDir, key);
    expect(st).toEqual({ ...key, since: T0, checkpoint: END });
    // One query chain per slice, the slices tiling [checkpoint − overlap, end): their starts are the plan's cuts.
    const starts = [...new Set(s.di.queries.map((q) => q.start))];
    expect(starts.length).toBe(4);
    expect(s.logger.lines.map((l) => l.msg)).toEqual(expect.arrayContaining(['backfill started', 'backfill complete']));
    await s.seen.close();
  });

  it("resumes from each slice's persisted cursor: a done slice is not fetched again, nor what a cursor passed", async () => {
    const mid = T0 + 20 * HOUR;
    const state: StreamState = {
      ...key,
      since: T0,
      checkpoint: T0,
      backfill: {
        end: END,
        slices: [
          { start: T0, end: mid, cursor: mid, done: true },
          { start: mid, end: END, cursor: mid + 10 * HOUR, done: false },
        ],
      },
    };
    const s = await setup(EVENTS, state);
    expect(await runBackfill(s.ctx, s.store, END + HOUR, { slices: 4, progress: s.progress }, undefined)).toBe(true);
    // The plan persisted wins over the `end` asked for: the backfill ends where it was planned to.
    expect((await loadState(s.stateDir, key))?.checkpoint).toBe(END);
    expect(s.di.queries.every((q) => Date.parse(q.start) >= mid + 10 * HOUR)).toBe(true);
    expect(s.forward.ids().sort()).toEqual(
      EVENTS.filter((e) => Date.parse(e.timestamp) >= mid + 10 * HOUR).map((e) => e.id),
    );
    expect(s.logger.lines.some((l) => l.msg === 'backfill resumed')).toBe(true);
    await s.seen.close();
  });

  it('a failed slice stops the others and throws; the progress made is persisted and the backfill kept', async () => {
    const s = await setup(EVENTS);
    // The third slice's query is refused.
    let queries = 0;
    s.di.failWith = () => (++queries === 3 ? new DiFatalError('refused', 403) : undefined);
    await expect(runBackfill(s.ctx, s.store, END, { slices: 4, progress: s.progress }, undefined)).rejects.toThrow(
      'refused',
    );
    const st = await loadState(s.stateDir, key);
    expect(st?.checkpoint).toBe(T0);
    expect(st?.backfill?.slices).toHaveLength(4);
    // What was delivered before the failure is journaled: a restart does not send it again.
    for (const id of s.forward.ids()) expect(s.seen.has(id)).toBe(true);
    await s.seen.close();
  });

  it('stopped by the signal: false, the backfill kept in the state for the next start', async () => {
    const s = await setup(EVENTS);
    const stop = new AbortController();
    stop.abort();
    expect(await runBackfill(s.ctx, s.store, END, { slices: 2, progress: s.progress }, stop.signal)).toBe(false);
    const st = await loadState(s.stateDir, key);
    expect(st?.checkpoint).toBe(T0);
    expect(st?.backfill?.end).toBe(END);
    await s.seen.close();
  });
});
