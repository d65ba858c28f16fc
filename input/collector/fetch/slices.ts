// Cutting a backfill's time range into slices fetched in parallel: of equal duration, or holding about the same
// number of events (by /events/count). Pure latency before any slice starts, so the counts run in parallel.
import type { SliceState } from '../state/state.js';
import { rangeQuery, type StreamContext } from './range.js';

const DAY_MS = 86_400_000;

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
export async function planBalancedSlices(
  ctx: StreamContext,
  start: number,
  end: number,
  n: number,
  signal: AbortSignal | undefined,
  counted?: { total?: number },
): Promise<SliceState[]> {
  const coarse = planSlices(start, end, Math.min(4 * n, 256));
  if (n <= 1 || coarse.length <= n) return planSlices(start, end, n);
  const countAll = async (pieces: readonly SliceState[]): Promise<number[]> => {
    const counts = new Array<number>(pieces.length).fill(0);
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < pieces.length) {
        const i = next++;
        const p = pieces[i]!;
        counts[i] = await ctx.di.count(rangeQuery(ctx, p.start, p.end), signal);
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
function cutByCounts(
  pieces: readonly SliceState[],
  counts: readonly number[],
  start: number,
  end: number,
  n: number,
): SliceState[] {
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

/** Events left in the unfinished slices, for the progress bar; undefined when counting failed (no reason to stop). */
export async function countLeft(
  ctx: StreamContext,
  slices: readonly SliceState[],
  signal: AbortSignal | undefined,
): Promise<number | undefined> {
  try {
    const counts = await Promise.all(
      slices
        .filter((s) => !s.done && s.cursor < s.end)
        .map((s) => ctx.di.count(rangeQuery(ctx, s.cursor, s.end), signal)),
    );
    return counts.reduce((a, b) => a + b, 0);
  } catch {
    return undefined;
  }
}
