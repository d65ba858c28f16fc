// Completeness by counts, not downloads. A poll asks `/events/interval` how many events each bucket (a second, or
// coarser for a long window) of [checkpoint − overlap, end) holds, compares each with the ids already forwarded
// there (the id table knows their event times), and fetches only the buckets that hold more than was forwarded:
// the new part of the window, and the seconds of the overlap where late-indexed events appeared. All of them in
// one `/events` query: their time ranges OR-ed in `search_term`, the ids already forwarded there excluded
// (`not_in`), so each late event costs neither a request of its own nor the download of its second's neighbours.
// An API that refuses or ignores search_term (asked once per stream by a count of an id no event has; a query
// that returns excluded ids also shows it) gets one query per part instead. Re-fetching the whole overlap on every
// poll downloaded each event about overlap / interval (60) times.
//
// Bounds: a bucket is [key, key + width) in event time truncated to the millisecond, as the id table stores it,
// clipped to the window; a fetch of [a, b) forwards events with a ≤ time < b, so an event exactly on a bound
// belongs to the bucket it starts. Whether the API's own bounds are inclusive does not matter: an event the API
// counts at exactly `end` makes the last bucket look short, which costs one small fetch that finds nothing new.
// Counts that never match (events the API counts but that cannot be forwarded where they are counted: an
// unparseable timestamp is journaled at its window's start; an event deleted after it was counted): a bucket
// fetched at a given count is not fetched again until its count changes. A bucket holding fewer events than were
// forwarded (events deleted) is never fetched. What this cannot see: a late event and a deletion in the same
// second leave its count unchanged (DI events are deleted only by the 90-day retention, far from the overlap).
import { DiError, DiFatalError, DiTransientError } from '../../di/errors.js';
import type { DiBucket, DiInterval, SearchCriterion, SearchTerm } from '../../types.js';
import { isoMillis } from '../state/timestamp.js';
import { fetchRange, rangeQuery, type RangeOutcome, type StreamContext } from './range.js';

const SECOND = 1000;
const INTERVALS: readonly (DiInterval & { readonly ms: number })[] = [
  { unit: 's', value: 1, ms: SECOND },
  { unit: 's', value: 2, ms: 2 * SECOND },
  { unit: 's', value: 5, ms: 5 * SECOND },
  { unit: 's', value: 10, ms: 10 * SECOND },
  { unit: 's', value: 30, ms: 30 * SECOND },
  { unit: 'm', value: 1, ms: 60 * SECOND },
  { unit: 'm', value: 5, ms: 300 * SECOND },
  { unit: 'm', value: 15, ms: 900 * SECOND },
  { unit: 'h', value: 1, ms: 3600 * SECOND },
  { unit: 'h', value: 6, ms: 6 * 3600 * SECOND },
  { unit: 'd', value: 1, ms: 86_400 * SECOND },
];
/**
 * Buckets per answer at most: a 1 h overlap is counted per second (3,600 buckets, only those holding events are sent).
 */
export const MAX_BUCKETS = 4000;
/**
 * A request costs about as much as downloading this many events (latency, quota): two differing buckets closer
 * than that many events are fetched as one range.
 */
export const MERGE_GAP_EVENTS = 20;
/** Time ranges OR-ed in one query at most (the API answers "extremely complex searches" with a 500). */
export const MAX_TERM_RANGES = 100;
/** Ids excluded in one query at most; with more (a coarse bucket after a long stop) none is, the journal skips them. */
export const MAX_NOT_IN = 1000;

/** The finest bucket that keeps a span within MAX_BUCKETS. */
export function bucketFor(spanMs: number): DiInterval & { readonly ms: number } {
  return INTERVALS.find((iv) => spanMs / iv.ms <= MAX_BUCKETS) ?? INTERVALS[INTERVALS.length - 1]!;
}

/** A range to fetch: [from, to), made of the differing buckets `keys` (and the gaps merged between them). */
export interface FetchPart {
  readonly from: number;
  readonly to: number;
  /** Bucket key → the API's count, for the buckets that differed. */
  readonly counts: ReadonlyMap<number, number>;
}

/**
 * The parts of [start, end) to fetch: buckets where the API holds more events than were forwarded, unless fetched
 * at that same count before (`fetchedAt`); neighbours closer than MERGE_GAP_EVENTS events merged. Pure.
 */
export function partsToFetch(
  buckets: readonly DiBucket[],
  widthMs: number,
  forwarded: (origin: number, buckets: number) => Uint32Array,
  start: number,
  end: number,
  fetchedAt: ReadonlyMap<number, number>,
): FetchPart[] {
  if (buckets.length === 0) return [];
  const origin = buckets[0]!.key;
  const index = (key: number): number => Math.round((key - origin) / widthMs);
  const fwd = forwarded(origin, index(buckets[buckets.length - 1]!.key) + 1);
  const parts: { from: number; to: number; counts: Map<number, number> }[] = [];
  // API events in the buckets after the last part's end (the gap a merge would download needlessly).
  let gapEvents = 0;
  for (const b of buckets) {
    const from = Math.max(b.key, start);
    const to = Math.min(b.key + widthMs, end);
    if (to <= from) continue;
    const i = index(b.key);
    if (b.count <= fwd[i]! || fetchedAt.get(b.key) === b.count) {
      gapEvents += b.count;
      continue;
    }
    const last = parts[parts.length - 1];
    if (last && gapEvents <= MERGE_GAP_EVENTS) {
      last.to = to;
      last.counts.set(b.key, b.count);
    } else {
      parts.push({ from, to, counts: new Map([[b.key, b.count]]) });
    }
    gapEvents = 0;
  }
  return parts;
}

/** Per stream, in memory: the API's count of each bucket when it was last fetched, for one bucket width. */
export interface FetchMemo {
  widthMs: number;
  readonly counts: Map<number, number>;
  /** Whether the API applies `search_term` (undefined: not known yet; false: it refused, ignored or failed one). */
  searchTerms?: boolean;
  /** When a search_term query that failed (not refused: a 5xx, a timeout) is tried again (clock ms). */
  searchTermsRetryAt?: number;
}

export interface CountedOutcome {
  readonly fetched: number;
  readonly forwarded: number;
  readonly duplicates: number;
  readonly aborted: boolean;
  /** `/events` queries made (each one page or more): one per group of parts, or one per part without search_term. */
  readonly parts: number;
}

/**
 * One poll of [start, end) by counts: one `/events/interval` request, then `/events` only for the parts whose counts
 * differ. `memo` (per stream, in memory) remembers the count each bucket had when it was last fetched.
 * Resolves undefined, having fetched nothing, when the API refuses `/events/interval` (DiFatalError, DiQueryError)
 * or keeps answering it with something else than buckets (after the DI client's retries).
 */
export async function fetchByCounts(
  ctx: StreamContext,
  spec: WindowSpec,
  memo: FetchMemo,
  signal: AbortSignal | undefined,
): Promise<CountedOutcome | undefined> {
  const { start, end } = spec;
  const iv = bucketFor(end - start);
  const buckets = await intervalCounts(ctx, start, end, iv, signal);
  if (buckets === undefined) return undefined;
  const parts = windowParts(ctx, memo, buckets, iv.ms, start, end);
  const retry = memo.searchTermsRetryAt !== undefined && ctx.clock.now() >= memo.searchTermsRetryAt;
  if ((memo.searchTerms === undefined || retry) && parts.length > 0) {
    memo.searchTermsRetryAt = undefined;
    memo.searchTerms = await honoursSearchTerm(ctx, memo, start, end, signal);
  }
  const poll = new CountedPoll(ctx, spec, memo, iv.ms, signal);
  const rest = await poll.fetchGroups(parts);
  if (!poll.aborted) await poll.fetchEach(rest);
  return poll.outcome();
}

interface WindowSpec {
  readonly start: number;
  readonly end: number;
  readonly checkpoint: number;
}

/** The API's counts per bucket of [start, end); undefined when this API has no /events/interval to rely on. */
async function intervalCounts(
  ctx: StreamContext,
  start: number,
  end: number,
  iv: DiInterval,
  signal: AbortSignal | undefined,
): Promise<DiBucket[] | undefined> {
  const { routes, logger } = ctx;
  try {
    return await ctx.di.interval!(rangeQuery(ctx, start, end), iv, signal);
  } catch (err) {
    // Refused (fatal), or answered without usable buckets: this API (or proxy) has no /events/interval to rely on.
    // A refusal of the caller (401 key, 402/403 an org of the query) is not about the endpoint: the poll fails.
    const caller = err instanceof DiFatalError && [401, 402, 403].includes(err.status ?? 0);
    if (
      (err instanceof DiError && err.fatal && !caller) ||
      (err instanceof DiTransientError && err.reason === 'bad_interval')
    ) {
      logger.warn(
        { ...routes.labels, error: (err as Error).message },
        '/events/interval refused: every poll re-fetches its whole overlap instead (each event is downloaded about ' +
          'overlap / interval times)',
      );
      return undefined;
    }
    throw err;
  }
}

/** The parts of the window to fetch, given the buckets' counts, the memo, and the ids the bound evicted. */
function windowParts(
  ctx: StreamContext,
  memo: FetchMemo,
  buckets: readonly DiBucket[],
  widthMs: number,
  start: number,
  end: number,
): FetchPart[] {
  const { routes, logger } = ctx;
  // Counts of buckets of another width say nothing about these (a longer window after a restart counts coarser).
  if (memo.widthMs !== widthMs) {
    memo.counts.clear();
    memo.widthMs = widthMs;
  }
  const fetchedAt = memo.counts;
  for (const k of fetchedAt.keys()) if (k + widthMs <= start) fetchedAt.delete(k);
  const forwarded = (origin: number, n: number): Uint32Array => routes.countByBucket(origin, widthMs, n, start, end);
  const parts = partsToFetch(buckets, widthMs, forwarded, start, end, fetchedAt);
  // A re-fetch at or before an id evicted by --max-seen-ids could repeat events: those parts are left alone.
  const evictedUpTo = routes.evictedUpTo;
  if (evictedUpTo < start) return parts;
  const risky = parts.filter((p) => p.from <= evictedUpTo);
  if (risky.length === 0) return parts;
  logger.warn(
    { ...routes.labels, parts: risky.length, evictedUpTo: isoMillis(evictedUpTo) },
    'late events counted where ids were evicted (maxSeenIds): not fetching them, a re-fetch could repeat events',
  );
  routes.each((org) => ctx.metrics.windowIncomplete?.(org, routes.service));
  return parts.filter((p) => p.from > evictedUpTo);
}

/** The fetches of one poll by counts, and what they add up to. */
class CountedPoll {
  private fetched = 0;
  private forwarded = 0;
  private duplicates = 0;
  private requests = 0;
  aborted = false;

  constructor(
    private readonly ctx: StreamContext,
    private readonly spec: WindowSpec,
    private readonly memo: FetchMemo,
    private readonly widthMs: number,
    private readonly signal: AbortSignal | undefined,
  ) {}

  outcome(): CountedOutcome {
    const { fetched, forwarded, duplicates, aborted, requests } = this;
    return { fetched, forwarded, duplicates, aborted, parts: requests };
  }

  /**
   * One query per group of parts: their time ranges OR-ed, the ids already forwarded there excluded — while the API
   * has not shown that it does not honour search_term. Returns the parts left to fetch one query each.
   */
  async fetchGroups(parts: readonly FetchPart[]): Promise<readonly FetchPart[]> {
    const { ctx, memo } = this;
    const { routes } = ctx;
    let i = 0;
    while (memo.searchTerms !== false && i < parts.length) {
      const group = parts.slice(i, i + MAX_TERM_RANGES);
      const known = routes.idsIn(
        group.map((p) => ({ from: p.from - 1, to: p.to })),
        MAX_NOT_IN,
      );
      const excluded = known.length <= MAX_NOT_IN ? known : [];
      const searchTerm = partsTerm(group, excluded);
      if (searchTerm === undefined) break; // one part, nothing to exclude: the plain range below
      const first = group[0]!,
        last = group[group.length - 1]!;
      this.countRefetches(group);
      let o: RangeOutcome;
      try {
        o = await fetchRange(ctx, { start: first.from, end: last.to, countFrom: first.from, searchTerm }, this.signal);
      } catch (err) {
        if (!searchTermFailed(ctx, memo, err, this.signal)) throw err;
        break;
      }
      if (!this.add(o)) return [];
      for (const p of group) this.remember(p);
      if (excluded.length > 0 && o.duplicates > 0) {
        // Events it excluded came back: the filter is not applied (nothing repeats: the journal knew them).
        memo.searchTerms = false;
        ctx.logger.warn(
          { ...routes.labels, duplicates: o.duplicates },
          `the API ignored search_term (it returned events the query excluded): ${ONE_QUERY_EACH}`,
        );
      }
      i += group.length;
    }
    return parts.slice(i);
  }

  /** One query per part. */
  async fetchEach(parts: readonly FetchPart[]): Promise<void> {
    const { ctx, spec } = this;
    const { routes } = ctx;
    for (const p of parts) {
      this.countRefetches([p]);
      const o = await fetchRange(ctx, { start: p.from, end: p.to, countFrom: p.from }, this.signal);
      if (!this.add(o)) return;
      this.remember(p);
      if (p.to <= spec.checkpoint && o.forwarded > 0) {
        ctx.logger.debug(
          {
            ...routes.labels,
            start: isoMillis(p.from),
            end: isoMillis(p.to),
            forwarded: o.forwarded,
          },
          'late-indexed events found by their counts',
        );
      }
    }
  }

  /** Parts before the checkpoint are fetched again (late events found by their counts). */
  private countRefetches(parts: readonly FetchPart[]): void {
    const { routes, metrics } = this.ctx;
    for (const p of parts) {
      if (p.to <= this.spec.checkpoint) routes.each((org) => metrics.completenessRefetch(org, routes.service));
    }
  }

  /** Adds a fetch's counts; false when it was aborted. */
  private add(o: RangeOutcome): boolean {
    this.requests++;
    this.fetched += o.fetched;
    this.forwarded += o.forwarded;
    this.duplicates += o.duplicates;
    this.aborted = o.aborted;
    return !o.aborted;
  }

  /** Buckets wholly inside the window are remembered at the count they were fetched at. */
  private remember(p: FetchPart): void {
    const { start, end } = this.spec;
    // The last one's count may include an event exactly at `end` (inclusive end_time) that this fetch left for the
    // next window; remembering that count would skip the bucket next time and never forward the event.
    for (const [k, n] of p.counts) if (k >= start && k + this.widthMs <= end) this.memo.counts.set(k, n);
  }
}

const ONE_QUERY_EACH =
  'the parts of the overlap to fetch are fetched one query each from now on (more requests, the same events)';
/** An id no event has (an ObjectId of time 0). */
const NO_SUCH_ID = '000000000000000000000000';

/**
 * Whether the API applies search_term, asked once per stream with the cheapest query: a count of an id no event
 * has, over the window. An API (or proxy) that drops the filter counts the whole window; one that refuses it says
 * 400. Either way the parts are then fetched one query each, which needs no filter.
 */
async function honoursSearchTerm(
  ctx: StreamContext,
  memo: FetchMemo,
  start: number,
  end: number,
  signal: AbortSignal | undefined,
): Promise<boolean> {
  const { routes, logger } = ctx;
  try {
    const n = await ctx.di.count(
      rangeQuery(ctx, start, end, { and: [{ field: 'id', operator: 'in', value: [NO_SUCH_ID] }] }),
      signal,
    );
    if (n === 0) return true;
    logger.warn(
      { ...routes.labels, count: n },
      `the API ignored search_term (it counted ${n} events for an id no event has): ${ONE_QUERY_EACH}`,
    );
  } catch (err) {
    if (!searchTermFailed(ctx, memo, err, signal)) throw err;
  }
  return false;
}

/** After a search_term query failed again after the DI client's retries, it is tried again after this. */
export const SEARCH_TERM_RETRY_MS = 3_600_000;

/**
 * Whether `err` is the API refusing (400: for good) or failing (5xx, timeouts, after the DI client's retries: for
 * SEARCH_TERM_RETRY_MS; "extremely complex searches" are documented to 500) a query with search_term: the parts
 * are then fetched one query each, which needs no filter, so a poll never fails for the filter. Anything else (an
 * abort, Fluent Bit, a refused key) is not about the filter.
 */
function searchTermFailed(ctx: StreamContext, memo: FetchMemo, err: unknown, signal: AbortSignal | undefined): boolean {
  const { routes, logger } = ctx;
  if (signal?.aborted || !(err instanceof DiError)) return false;
  const refused = err instanceof DiFatalError && err.status === 400;
  if (err.fatal && !refused) return false;
  memo.searchTerms = false;
  if (refused) {
    logger.warn({ ...routes.labels, error: err.message }, `the API refused search_term: ${ONE_QUERY_EACH}`);
  } else {
    memo.searchTermsRetryAt = ctx.clock.now() + SEARCH_TERM_RETRY_MS;
    logger.warn(
      { ...routes.labels, error: err.message },
      'a query with search_term failed: the parts of the overlap to fetch are fetched one query each for the next ' +
        'hour (more requests, the same events)',
    );
  }
  return true;
}

/**
 * The filter of one query over `parts` (sorted, disjoint): within [first.from, last.to), only their ranges, and not
 * the ids `excluded` (already forwarded there). Undefined when it would filter nothing (one part, no id). Ranges
 * open 1 ms early: whether the API's `after` is strict or not, an event at `from` is in; an event of the
 * millisecond before is excluded by id when forwarded (the caller lists the ids of [from − 1, to)).
 */
export function partsTerm(parts: readonly FetchPart[], excluded: readonly string[]): SearchTerm | undefined {
  const criteria: SearchCriterion[] = [];
  if (parts.length > 1) {
    criteria.push({
      or: parts.map((p) => ({
        and: [
          { field: 'timestamp', operator: 'after', value: isoMillis(p.from - 1) },
          { field: 'timestamp', operator: 'before', value: isoMillis(p.to) },
        ],
      })),
    });
  }
  if (excluded.length > 0) criteria.push({ field: 'id', operator: 'not_in', value: excluded });
  return criteria.length === 0 ? undefined : { and: criteria };
}
