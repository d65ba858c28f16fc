// Backfill: a long gap between the checkpoint and now − lag is cut into time slices fetched in parallel, each
// its own search_after chain. Each slice's cursor (every event before it is acked) is persisted, so after a
// crash each slice resumes where its acked events end; the id journal drops what is fetched twice. The
// checkpoint jumps to the backfill's end once every slice is done.
import { setMaxListeners } from 'node:events';
import type { SliceState } from '../state/state.js';
import type { StreamStore } from '../state/store.js';
import { fetchRangeChecked, rangeQuery, type StreamContext } from '../fetch/range.js';
import type { BackfillBoard } from './progress.js';
import { isoMillis } from '../state/timestamp.js';

const DAY_MS = 86_400_000;
const PERSIST_EVERY_MS = 200;

/** A gap longer than this is backfilled in slices rather than fetched as one window. */
export function backfillThresholdMs(overlapMs: number): number {
  return Math.max(overlapMs, DAY_MS);
}

/** Cuts [start, end) into `n` slices of equal duration (whole milliseconds; fewer when the span is tiny). */
export function planSlices(start: number, end: number, n: number): SliceState[] {
  const count = Math.max(1, Math.min(Math.floor(n), end - start));
  const slices: SliceState[] = [];
  for (let i = 0; i < count; i++) {
    const s = start + Math.floor(((end - start) * i) / count);
    const e = i === count - 1 ? end : start + Math.floor(((end - start) * (i + 1)) / count);
    slices.push({ start: s, end: e, cursor: s, done: false });
  }
  return slices;
}

/**
 * Cuts [start, end) into `n` slices holding about the same number of events: DI traffic is bursty (office
 * hours, batch jobs), so equal durations can leave one slice with most of the work, and the slowest slice is
 * the backfill's duration. Counts 4·n equal-time pieces with /events/count, then counts again, in quarters,
 * only the pieces where a cut falls (at most n − 1), and cuts where the running total crosses each k/n of the
 * whole, interpolated inside the quarter where it crosses (events taken as spread evenly within it). Two rounds
 * of at most 4·n parallel counts: planning is pure latency before any slice starts. `counted.total` gets the
 * events counted over the whole range (for the progress bar), when it counted.
 */
export async function planBalancedSlices(ctx: StreamContext, start: number, end: number, n: number, signal: AbortSignal | undefined, counted?: { total?: number }): Promise<SliceState[]> {
  const coarse = planSlices(start, end, Math.min(4 * n, 256));
  if (n <= 1 || coarse.length <= n) return planSlices(start, end, n);
  const countAll = async (pieces: readonly SliceState[]): Promise<number[]> => {
    const counts = new Array<number>(pieces.length).fill(0);
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < pieces.length) {
        const i = next++;
        const p = pieces[i]!;
        counts[i] = await ctx.di.count(rangeQuery(ctx.key, p.start, p.end), signal);
      }
    };
    await Promise.all(Array.from({ length: Math.min(4 * n, 64, pieces.length) }, worker));
    return counts;
  };
  const coarseCounts = await countAll(coarse);
  const coarseTotal = coarseCounts.reduce((a, b) => a + b, 0);
  if (counted) counted.total = coarseTotal;
  if (coarseTotal === 0) return planSlices(start, end, n);
  // The pieces holding a cut, refined into quarters.
  const holdsCut = new Set<number>();
  for (let k = 1, i = 0, before = 0; k < n; k++) {
    const target = (coarseTotal * k) / n;
    while (i < coarse.length - 1 && before + coarseCounts[i]! < target) before += coarseCounts[i++]!;
    holdsCut.add(i);
  }
  const quarters = [...holdsCut].map((i) => planSlices(coarse[i]!.start, coarse[i]!.end, 4));
  const quarterCounts = await countAll(quarters.flat());
  const pieces: SliceState[] = [];
  const counts: number[] = [];
  let q = 0;
  coarse.forEach((p, i) => {
    if (!holdsCut.has(i)) {
      pieces.push(p);
      counts.push(coarseCounts[i]!);
      return;
    }
    for (const sub of quarters.shift()!) {
      pieces.push(sub);
      counts.push(quarterCounts[q++]!);
    }
  });
  return cutByCounts(pieces, counts, start, end, n);
}

/** Cuts where the running total of `counts` crosses each k/n, interpolated within the piece; never an empty slice. */
function cutByCounts(pieces: readonly SliceState[], counts: readonly number[], start: number, end: number, n: number): SliceState[] {
  const total = counts.reduce((a, b) => a + b, 0);
  if (total === 0) return planSlices(start, end, n);
  const cuts: number[] = [start];
  let before = 0; // events in the pieces before piece i
  for (let i = 0; i < pieces.length && cuts.length < n; i++) {
    const p = pieces[i]!;
    const c = counts[i]!;
    // Every k/n of the total that falls inside this piece gives a cut, at its share of the piece's duration.
    while (cuts.length < n && c > 0 && before + c >= (total * cuts.length) / n) {
      const share = ((total * cuts.length) / n - before) / c;
      const at = Math.floor(p.start + share * (p.end - p.start));
      // Strictly increasing and inside (start, end): a slice is never empty.
      const cut = Math.min(Math.max(at, cuts[cuts.length - 1]! + 1), end - (n - cuts.length));
      if (cut <= cuts[cuts.length - 1]! || cut >= end) break;
      cuts.push(cut);
    }
    before += c;
  }
  cuts.push(end);
  return cuts.slice(0, -1).map((s, i) => ({ start: s, end: cuts[i + 1]!, cursor: s, done: false }));
}

export interface BackfillOptions {
  readonly slices: number;
  readonly progress: BackfillBoard;
}

/** Events left in the unfinished slices, for the progress bar; undefined when counting failed (no reason to stop). */
async function countLeft(ctx: StreamContext, slices: readonly SliceState[], signal: AbortSignal | undefined): Promise<number | undefined> {
  try {
    const counts = await Promise.all(slices.filter((s) => !s.done && s.cursor < s.end).map((s) => ctx.di.count(rangeQuery(ctx.key, s.cursor, s.end), signal)));
    return counts.reduce((a, b) => a + b, 0);
  } catch {
    return undefined;
  }
}

/**
 * Runs (or resumes) the backfill up to `end` (used only when the state has none yet). Resolves true when it
 * completed and the checkpoint moved, false when aborted (progress persisted). Throws the first slice error
 * after stopping the other slices and persisting their progress.
 */
export async function runBackfill(ctx: StreamContext, store: StreamStore, end: number, opts: BackfillOptions, signal: AbortSignal | undefined): Promise<boolean> {
  const { key, logger } = ctx;
  let st = store.state;
  const counted: { total?: number } = {};
  if (!st.backfill) {
    const start = Math.max(st.checkpoint - ctx.overlapMs, st.since);
    st = { ...st, backfill: { end, slices: await planBalancedSlices(ctx, start, end, opts.slices, signal, counted) } };
    await store.save(st);
    logger.info({ org: key.org, service: key.service, start: isoMillis(start), end: isoMillis(end), slices: st.backfill!.slices.length }, 'backfill started');
  } else {
    logger.info({ org: key.org, service: key.service, end: isoMillis(st.backfill.end), slicesLeft: st.backfill.slices.filter((s) => !s.done).length }, 'backfill resumed');
  }
  const bEnd = st.backfill!.end;
  const slices: SliceState[] = [...st.backfill!.slices];
  /** Where each slice started in this run: ids from there on stay in memory for a completeness re-fetch. */
  const runStarts = slices.map((s) => s.cursor);
  const progress = opts.progress.join(key, slices, counted.total);
  // A resumed backfill counts what is left without holding its slices back (a count can take a while).
  if (counted.total === undefined) void countLeft(ctx, slices, signal).then((n) => n !== undefined && progress.setTotal(n));
  // Progress counts events as Fluent Bit acks them (a slice's cursor is reported later, once its oldest pages settle).
  const sliceCtx: StreamContext = {
    ...ctx,
    metrics: {
      ...ctx.metrics,
      eventsForwarded: (o, sv, n) => {
        ctx.metrics.eventsForwarded(o, sv, n);
        progress.update(slices, n);
      },
    },
  };
  const local = new AbortController();
  // Every slice's requests listen on it: more than Node's default of 10 listeners is expected, not a leak.
  setMaxListeners(0, local.signal);
  const onAbort = (): void => local.abort();
  signal?.addEventListener('abort', onAbort, { once: true });
  if (signal?.aborted) local.abort();

  const persist = (): Promise<void> => {
    const cur = store.state;
    return store.save({ ...cur, backfill: { end: bEnd, slices: [...slices] } });
  };
  // Progress is persisted at most every PERSIST_EVERY_MS: after a crash a slice re-fetches from a slightly older
  // cursor, and the id journal drops what was already forwarded.
  let persistTimer: NodeJS.Timeout | undefined;
  const schedulePersist = (): void => {
    if (persistTimer) return;
    persistTimer = setTimeout(() => {
      persistTimer = undefined;
      void persist().then(compactIfLarge).catch((err: unknown) => {
        logger.error({ org: key.org, service: key.service, error: (err as Error).message }, 'could not persist backfill progress');
      });
    }, PERSIST_EVERY_MS);
  };
  const compactIfLarge = async (): Promise<void> => {
    // Ids below a running slice's run start, or in a finished slice, are no longer needed (until the overlap of the end).
    if (ctx.seen.size < ctx.seenCompactAt) return;
    await ctx.seen.compact((ts) => ts >= bEnd - ctx.overlapMs || slices.some((s, i) => !s.done && ts >= runStarts[i]! && ts < s.end));
  };

  const runSlice = async (i: number): Promise<void> => {
    const s = slices[i]!;
    if (s.done) return;
    if (s.cursor >= s.end) {
      slices[i] = { ...s, done: true };
      await persist();
      return;
    }
    const { outcome } = await fetchRangeChecked(sliceCtx, { start: s.cursor, end: s.end, countFrom: s.cursor }, local.signal, (cursor) => {
      const cur = slices[i]!;
      if (cursor > cur.cursor) slices[i] = { ...cur, cursor: Math.min(cursor, cur.end) };
      schedulePersist();
    });
    if (outcome.aborted) return;
    slices[i] = { ...slices[i]!, cursor: s.end, done: true };
    await persist();
  };

  const results = await Promise.allSettled(
    slices.map((_, i) =>
      runSlice(i).catch((err: unknown) => {
        local.abort(); // one slice failed: stop the others, keep their progress
        throw err;
      }),
    ),
  );
  signal?.removeEventListener('abort', onAbort);
  clearTimeout(persistTimer);
  await persist();
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed || !slices.every((s) => s.done)) progress.leave();
  if (failed) throw failed.reason;
  if (!slices.every((s) => s.done)) return false;
  progress.finish();
  const { backfill: _done, ...rest } = store.state;
  void _done;
  await store.save({ ...rest, checkpoint: bEnd });
  await ctx.seen.compact((ts) => ts >= bEnd - ctx.overlapMs);
  ctx.metrics.checkpoint(key.org, key.service, bEnd);
  ctx.metrics.success(key.org, key.service);
  logger.info({ org: key.org, service: key.service, checkpoint: isoMillis(bEnd) }, 'backfill complete');
  return true;
}
