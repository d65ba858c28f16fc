// Backfill: a long gap between the checkpoint and now − lag is cut into time slices fetched in parallel, each its own
// search_after chain (fetch/slices.ts). Each slice's cursor (every event before it delivered) is persisted, so after a
// crash each slice resumes where its delivered events end; the id journal drops what is fetched twice. The checkpoint
// jumps to the backfill's end once every slice is done.
import { setMaxListeners } from 'node:events';
import { ClockTimer } from '../../clock.js';
import { fetchRangeChecked } from '../fetch/checked.js';
import type { StreamContext } from '../fetch/range.js';
import { countLeft, planBalancedSlices } from '../fetch/slices.js';
import type { SliceState } from '../state/state.js';
import type { StateStore } from '../state/store.js';
import { isoMillis } from '../state/timestamp.js';
import type { BackfillBoard, BackfillTrack } from './progress.js';

/** Progress is persisted at most this often (real time: it paces disk writes). */
const PERSIST_EVERY_MS = 200;

export interface BackfillOptions {
  readonly slices: number;
  readonly progress: BackfillBoard;
}

/**
 * Runs (or resumes) the backfill up to `end` (used only when the state has none yet). Resolves true when it
 * completed and the checkpoint moved, false when aborted (progress persisted). Throws the first slice error
 * after stopping the other slices and persisting their progress.
 */
export async function runBackfill(
  ctx: StreamContext,
  store: StateStore,
  end: number,
  opts: BackfillOptions,
  signal: AbortSignal | undefined,
): Promise<boolean> {
  const { routes, logger, metrics } = ctx;
  const labels = routes.labels;
  let st = store.state;
  const counted: { total?: number } = {};
  if (!st.backfill) {
    const start = Math.max(st.checkpoint - ctx.overlapMs, st.since);
    st = { ...st, backfill: { end, slices: await planBalancedSlices(ctx, start, end, opts.slices, signal, counted) } };
    await store.save(st);
    logger.info(
      {
        ...labels,
        start: isoMillis(start),
        end: isoMillis(end),
        slices: st.backfill!.slices.length,
      },
      'backfill started',
    );
  } else {
    const slicesLeft = st.backfill.slices.filter((s) => !s.done).length;
    logger.info({ ...labels, end: isoMillis(st.backfill.end), slicesLeft }, 'backfill resumed');
  }
  const run = new BackfillRun(ctx, store, opts.progress, counted.total, signal);
  const failed = await run.runSlices();
  if (failed || !run.slices.every((s) => s.done)) run.progress.leave();
  if (failed) throw failed.reason;
  if (!run.slices.every((s) => s.done)) return false;
  run.progress.finish();
  const { backfill: _done, ...rest } = store.state;
  void _done;
  await store.save({ ...rest, checkpoint: run.end });
  await routes.compact((ts) => ts >= run.end - ctx.overlapMs);
  routes.each((org) => {
    metrics.checkpoint(org, routes.service, run.end);
    metrics.success(org, routes.service);
  });
  logger.info({ ...labels, checkpoint: isoMillis(run.end) }, 'backfill complete');
  return true;
}

/** The slices of one backfill run, their progress (persisted as they go) and their stop. */
class BackfillRun {
  readonly slices: SliceState[];
  readonly progress: BackfillTrack;
  readonly end: number;
  /** Where each slice started in this run: ids from there on stay in memory for a completeness re-fetch. */
  private readonly runStarts: number[];
  /** Stops every slice: the stream's signal, or one slice's failure. */
  private readonly local = new AbortController();
  private readonly persistTimer: ClockTimer;
  /** The context of the slices: progress counts events as they are delivered. */
  private readonly sliceCtx: StreamContext;

  constructor(
    private readonly ctx: StreamContext,
    private readonly store: StateStore,
    board: BackfillBoard,
    counted: number | undefined,
    private readonly signal: AbortSignal | undefined,
  ) {
    const b = store.state.backfill!;
    this.end = b.end;
    this.slices = [...b.slices];
    this.runStarts = this.slices.map((s) => s.cursor);
    this.progress = board.join(ctx.routes.labels, this.slices, counted);
    // A resumed backfill counts what is left without holding its slices back (a count can take a while).
    if (counted === undefined) {
      void countLeft(ctx, this.slices, signal).then((n) => n !== undefined && this.progress.setTotal(n));
    }
    this.persistTimer = new ClockTimer(ctx.wallClock);
    // Progress counts events as they are delivered (a slice's cursor is reported later, once its oldest pages settle).
    this.sliceCtx = {
      ...ctx,
      metrics: {
        ...ctx.metrics,
        eventsForwarded: (o, sv, n) => {
          ctx.metrics.eventsForwarded(o, sv, n);
          this.progress.update(this.slices, n);
        },
      },
    };
    // Every slice's requests listen on it: more than Node's default of 10 listeners is expected, not a leak.
    setMaxListeners(0, this.local.signal);
  }

  /** Runs every slice to its end or to the stop; the first failure, if any (the others stopped, all persisted). */
  async runSlices(): Promise<PromiseRejectedResult | undefined> {
    const onAbort = (): void => this.local.abort();
    this.signal?.addEventListener('abort', onAbort, { once: true });
    if (this.signal?.aborted) this.local.abort();
    const results = await Promise.allSettled(
      this.slices.map((_, i) =>
        this.runSlice(i).catch((err: unknown) => {
          this.local.abort(); // one slice failed: stop the others, keep their progress
          throw err;
        }),
      ),
    );
    this.signal?.removeEventListener('abort', onAbort);
    this.persistTimer.clear();
    await this.persist();
    return results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  }

  private async runSlice(i: number): Promise<void> {
    const s = this.slices[i]!;
    if (s.done) return;
    if (s.cursor >= s.end) {
      this.slices[i] = { ...s, done: true };
      await this.persist();
      return;
    }
    const spec = { start: s.cursor, end: s.end, countFrom: s.cursor };
    const { outcome } = await fetchRangeChecked(this.sliceCtx, spec, this.local.signal, (cursor) => {
      const cur = this.slices[i]!;
      if (cursor > cur.cursor) this.slices[i] = { ...cur, cursor: Math.min(cursor, cur.end) };
      this.schedulePersist();
    });
    if (outcome.aborted) return;
    this.slices[i] = { ...this.slices[i]!, cursor: s.end, done: true };
    await this.persist();
  }

  private persist(): Promise<void> {
    return this.store.save({ ...this.store.state, backfill: { end: this.end, slices: [...this.slices] } });
  }

  /**
   * Persists the progress within PERSIST_EVERY_MS: after a crash a slice re-fetches from a slightly older cursor,
   * and the id journal drops what was already forwarded.
   */
  private schedulePersist(): void {
    if (this.persistTimer.armed) return;
    this.persistTimer.arm(PERSIST_EVERY_MS, () => {
      void this.persist()
        .then(() => this.compactIfLarge())
        .catch((err: unknown) => {
          const { routes, logger } = this.ctx;
          logger.error({ ...routes.labels, error: (err as Error).message }, 'could not persist backfill progress');
        });
    });
  }

  /**
   * Ids below a running slice's run start, or in a finished slice, are no longer needed (until the overlap of the end).
   */
  private async compactIfLarge(): Promise<void> {
    const { routes, seenCompactAt, overlapMs } = this.ctx;
    if (routes.largest < seenCompactAt) return;
    const { slices, runStarts, end } = this;
    await routes.compact(
      (ts) => ts >= end - overlapMs || slices.some((s, i) => !s.done && ts >= runStarts[i]! && ts < s.end),
    );
  }
}
