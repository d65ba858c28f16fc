// Fetching one time range of one stream and forwarding what is new in it. Used by the polling windows and by
// each backfill slice. The checkpoint logic lives with the callers; this module guarantees that an id is
// journaled only after Fluent Bit acked it, and that `onAcked(cursor)` is only reported once every event of
// the range before `cursor` has been acked.
import { Utf8Bytes } from '../forward/utf8-bytes.js';
import type { Clock, DiClient, DiQuery, ForwardClient, ForwardEntry, Logger } from '../types.js';
import type { EngineMetrics } from './metrics.js';
import type { SeenEntry, SeenIds } from './seen-ids.js';
import type { StreamKey } from './state.js';
import { eventTimeMillis, isoMillis, parseEventTime } from './timestamp.js';

export interface StreamContext {
  readonly key: StreamKey;
  readonly tag: string;
  readonly di: DiClient;
  readonly forward: ForwardClient;
  readonly seen: SeenIds;
  readonly logger: Logger;
  readonly metrics: EngineMetrics;
  readonly clock: Clock;
  readonly overlapMs: number;
  /** Entries per forward.send call: smaller batches narrow what a crash between an ack and its journal write repeats. */
  readonly sendBatch: number;
  /** Pages whose entries may still await their ack while the next page is fetched. */
  readonly pipelinePages: number;
  /** Bytes of pending pages above which the next page waits for the oldest's acks (unbounded when unset). */
  readonly pipelineBytes?: number;
  /** A backfill drops ids it no longer needs once the set holds this many. */
  readonly seenCompactAt: number;
}

export interface RangeSpec {
  /** Query start, inclusive. */
  readonly start: number;
  /** Exclusive for forwarding: events at or after it are left for the next window. Sent as end_time. */
  readonly end: number;
  /** Lower bound of the completeness count (≥ start). */
  readonly countFrom: number;
}

export interface RangeOutcome {
  /** Events returned in [countFrom, end) (truncated to ms; see countMatches). */
  readonly observed: number;
  /** Of those, events exactly at countFrom (to nanoseconds). */
  readonly atCountFrom: number;
  /** Events exactly at end (not forwarded now: they belong to the next window). */
  readonly atEnd: number;
  readonly forwarded: number;
  readonly duplicates: number;
  readonly aborted: boolean;
}

export function rangeQuery(key: StreamKey, start: number, end: number): DiQuery {
  return { service: key.service, start: isoMillis(start), end: isoMillis(end), ...(key.org !== '' ? { orgId: key.org } : {}) };
}

/**
 * Whether `/events/count` agrees with what a fetch saw. The API does not say whether its bounds are inclusive,
 * so events exactly on a bound may or may not be in its count: any of the four readings is accepted.
 */
export function countMatches(count: number, o: RangeOutcome): boolean {
  const b = o.observed;
  return count === b || count === b + o.atEnd || count === b - o.atCountFrom || count === b - o.atCountFrom + o.atEnd;
}

interface PendingPage {
  readonly done: Promise<void>;
  readonly cursor: number;
  /** Bytes of the page's events (its buffer stays alive until they are acked). */
  readonly bytes: number;
}

/**
 * Fetches every page of [start, end] and forwards the events not seen before, in order. Throws the DI client's
 * error or the forward client's fatal error after every send already under way has settled (acked ones are
 * journaled). When `signal` aborts, stops fetching, waits for the acks of what was sent, and returns aborted.
 */
export async function fetchRange(
  ctx: StreamContext,
  spec: RangeSpec,
  signal: AbortSignal | undefined,
  onAcked?: (cursor: number, acked: number) => void,
): Promise<RangeOutcome> {
  const { key, seen, logger } = ctx;
  const { start, end, countFrom } = spec;
  let observed = 0, atCountFrom = 0, atEnd = 0, forwarded = 0, duplicates = 0;
  let failure: unknown;
  const pending: PendingPage[] = [];

  let pendingBytes = 0;
  const maxPendingBytes = ctx.pipelineBytes ?? Infinity;
  const settleOldest = async (): Promise<void> => {
    const p = pending.shift()!;
    pendingBytes -= p.bytes;
    await p.done;
    if (failure === undefined) onAcked?.(p.cursor, forwarded);
  };

  const sendGroup = (entries: ForwardEntry[], ids: SeenEntry[], onEncoded: () => void): Promise<void> =>
    ctx.forward.send(ctx.tag, entries, { onEncoded }).then(
      () => {
        seen.commit(ids);
        forwarded += ids.length;
        ctx.metrics.eventsForwarded(key.org, key.service, ids.length);
      },
      (err: unknown) => {
        seen.release(ids);
        failure ??= err;
      },
    );

  let iterError: unknown;
  try {
    for await (const page of ctx.di.pages(rangeQuery(key, start, end), signal)) {
      let cursor = start;
      let entries: ForwardEntry[] = [];
      let ids: SeenEntry[] = [];
      const groups: Promise<void>[] = [];
      // A page's bytes are needed until every send reading them has encoded them (or failed), not until the acks.
      const encoded: Promise<void>[] = [];
      const group = (e: ForwardEntry[], i: SeenEntry[]): void => {
        let done!: () => void;
        encoded.push(new Promise<void>((r) => { done = r; }));
        const g = sendGroup(e, i, done);
        void g.finally(done);
        groups.push(g);
      };
      let pageDuplicates = 0;
      for (const ev of page.events) {
        let time;
        let ms: number;
        try {
          time = parseEventTime(ev.timestamp);
          ms = eventTimeMillis(time);
        } catch (err) {
          // Cannot be placed in time: forward it anyway (nothing is lost), timed now, remembered as of the window start.
          logger.warn({ org: key.org, service: key.service, id: ev.id, error: (err as Error).message }, 'event with an invalid timestamp: forwarding it with the current time');
          const now = ctx.clock.now();
          time = { sec: Math.floor(now / 1000), nsec: (now % 1000) * 1e6 };
          ms = start;
        }
        if (ms > cursor) cursor = ms;
        const exact = time.nsec % 1e6 === 0;
        if (ms >= end) {
          if (ms === end && exact) atEnd++;
          continue;
        }
        if (ms < start) continue;
        if (ms >= countFrom) {
          observed++;
          if (ms === countFrom && exact) atCountFrom++;
        }
        if (seen.has(ev.id)) {
          pageDuplicates++;
          continue;
        }
        // The raw bytes go to the encoder as a str: the page is never decoded to a string.
        entries.push({ time, record: { message: new Utf8Bytes(ev.raw) } });
        ids.push({ id: ev.id, ts: ms });
        seen.reserve(ev.id);
        if (entries.length >= ctx.sendBatch) {
          group(entries, ids);
          entries = [];
          ids = [];
        }
      }
      if (entries.length > 0) group(entries, ids);
      if (pageDuplicates > 0) {
        duplicates += pageDuplicates;
        ctx.metrics.duplicatesSkipped(key.org, key.service, pageDuplicates);
      }
      // The page's bytes may be reused by the DI client once every send reading them has copied them into its
      // frames (or failed): all of them, not just until the first failure.
      const release = page.release;
      if (release) void Promise.all(encoded).then(release);
      let bytes = 0;
      for (const ev of page.events) bytes += ev.raw.length;
      pending.push({ done: Promise.all(groups).then(() => undefined), cursor: Math.min(cursor, end), bytes });
      pendingBytes += bytes;
      while (pending.length > ctx.pipelinePages || (pending.length > 0 && pendingBytes > maxPendingBytes)) await settleOldest();
      if (failure !== undefined || signal?.aborted) break;
    }
  } catch (err) {
    iterError = err;
  }
  while (pending.length > 0) await settleOldest();
  if (failure !== undefined) throw failure;
  const aborted = signal?.aborted === true;
  if (iterError !== undefined && !aborted) throw iterError;
  if (!aborted) onAcked?.(end, forwarded);
  return { observed, atCountFrom, atEnd, forwarded, duplicates, aborted };
}

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
  const { key } = ctx;
  let outcome = await fetchRange(ctx, spec, signal, onAcked);
  if (outcome.aborted || spec.countFrom >= spec.end) return { outcome, complete: true };
  const countQuery = rangeQuery(key, spec.countFrom, spec.end);
  let count = await ctx.di.count(countQuery, signal);
  if (countMatches(count, outcome)) return { outcome, complete: true };
  const labels = { org: key.org, service: key.service, start: countQuery.start, end: countQuery.end };
  if (ctx.seen.evictedUpTo >= spec.start) {
    ctx.logger.warn({ ...labels, count, received: outcome.observed }, 'window count differs from /events/count, but ids of this window were evicted (maxSeenIds) so a re-fetch could repeat events: not re-fetching');
    ctx.metrics.windowIncomplete?.(key.org, key.service);
    return { outcome, complete: false };
  }
  ctx.logger.info({ ...labels, count, received: outcome.observed }, 'window count differs from /events/count: fetching the window again');
  ctx.metrics.completenessRefetch(key.org, key.service);
  const first = outcome;
  outcome = await fetchRange(ctx, spec, signal, onAcked);
  outcome = { ...outcome, forwarded: first.forwarded + outcome.forwarded, duplicates: first.duplicates + outcome.duplicates };
  if (outcome.aborted) return { outcome, complete: true };
  count = await ctx.di.count(countQuery, signal);
  if (countMatches(count, outcome)) return { outcome, complete: true };
  ctx.logger.warn(
    { ...labels, count, received: outcome.observed },
    'window still differs from /events/count after a re-fetch; moving on (events indexed late are recovered by the overlap of the next windows)',
  );
  ctx.metrics.windowIncomplete?.(key.org, key.service);
  return { outcome, complete: false };
}
