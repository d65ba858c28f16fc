// A range fetched, then held to `/events/count`: the completeness check of a window or a backfill slice.
import {
  countMatches,
  fetchRange,
  rangeQuery,
  type RangeOutcome,
  type RangeSpec,
  type StreamContext,
} from './range.js';

export interface CheckedRange {
  readonly outcome: RangeOutcome;
  /** /events/count agreed (possibly after the re-fetch). */
  readonly complete: boolean;
}

/**
 * fetchRange, then the completeness check: `/events/count` over [countFrom, end) against what the fetch saw.
 * On a difference the range is fetched once more (dedup makes that safe); a remaining difference is logged and
 * counted, and the caller moves on: late events are still recovered by the next windows' overlap.
 */
export async function fetchRangeChecked(
  ctx: StreamContext,
  spec: RangeSpec,
  signal: AbortSignal | undefined,
  onAcked?: (cursor: number, acked: number) => void,
): Promise<CheckedRange> {
  const { routes, metrics } = ctx;
  const service = routes.service;
  let outcome = await fetchRange(ctx, spec, signal, onAcked);
  if (outcome.aborted || spec.countFrom >= spec.end) return { outcome, complete: true };
  const countQuery = rangeQuery(ctx, spec.countFrom, spec.end);
  let count = await ctx.di.count(countQuery, signal);
  if (countMatches(count, outcome)) return { outcome, complete: true };
  const labels = { ...routes.labels, start: countQuery.start, end: countQuery.end };
  if (routes.evictedUpTo >= spec.start) {
    ctx.logger.warn(
      { ...labels, count, received: outcome.observed },
      'window count differs from /events/count, but ids of this window were evicted (maxSeenIds) so a re-fetch ' +
        'could repeat events: not re-fetching',
    );
    routes.each((org) => metrics.windowIncomplete?.(org, service));
    return { outcome, complete: false };
  }
  ctx.logger.info(
    { ...labels, count, received: outcome.observed },
    'window count differs from /events/count: fetching the window again',
  );
  routes.each((org) => metrics.completenessRefetch(org, service));
  const first = outcome;
  outcome = await fetchRange(ctx, spec, signal, onAcked);
  outcome = {
    ...outcome,
    fetched: first.fetched + outcome.fetched,
    forwarded: first.forwarded + outcome.forwarded,
    duplicates: first.duplicates + outcome.duplicates,
  };
  if (outcome.aborted) return { outcome, complete: true };
  count = await ctx.di.count(countQuery, signal);
  if (countMatches(count, outcome)) return { outcome, complete: true };
  ctx.logger.warn(
    { ...labels, count, received: outcome.observed },
    'window still differs from /events/count after a re-fetch; moving on (events indexed late are recovered by ' +
      'the overlap of the next windows)',
  );
  routes.each((org) => metrics.windowIncomplete?.(org, service));
  return { outcome, complete: false };
}
