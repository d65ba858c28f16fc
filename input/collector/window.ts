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
  /** Event bytes of sends not yet settled (the forward client's frames) above which the next page waits (unbounded when unset). */
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

  const settleOldest = async (): Promise<void> => {
    const p = pending.shift()!;
    await p.done;
    if (failure === undefined) onAcked?.(p.cursor, forwarded);
  };

  // Bytes of the sends encoded and not settled yet: what the forward client holds as frames (in flight, then for
  // the ack's settle time). Counted per send from its encoding, not per page from its arrival: a page's bytes
  // used to count until its last send settled, so the bound held whole 12 MB pages, most of them not even
  // encoded, and capped throughput at about pipelineBytes / (wait for a slot + encode + ack + settle). The page
  // not yet encoded is bounded on its own (one at a time, below).
  let pendingBytes = 0;
  const maxPendingBytes = ctx.pipelineBytes ?? Infinity;
  let bytesWaiter: (() => void) | undefined;
  const bytesSettled = (n: number): void => {
    pendingBytes -= n;
    const w = bytesWaiter;
    bytesWaiter = undefined;
    w?.();
  };

  const sendGroup = (entries: ForwardEntry[], ids: SeenEntry[], bytes: number, onEncoded: () => void): Promise<void> => {
    let counted = false;
    const encodedNow = (): void => {
      counted = true;
      pendingBytes += bytes;
      onEncoded();
    };
    return ctx.forward.send(ctx.tag, entries, { onEncoded: encodedNow }).finally(() => counted && bytesSettled(bytes)).then(
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
  };

  let iterError: unknown;
  try {
    for await (const page of ctx.di.pages(rangeQuery(key, start, end), signal)) {
      let cursor = start;
      let entries: ForwardEntry[] = [];
      let ids: SeenEntry[] = [];
      let groupBytes = 0;
      const groups: Promise<void>[] = [];
      // A page's bytes are needed until every send reading them has encoded them (or failed), not until the acks.
      const encoded: Promise<void>[] = [];
      const group = (e: ForwardEntry[], i: SeenEntry[], bytes: number): void => {
        let done!: () => void;
        encoded.push(new Promise<void>((r) => { done = r; }));
        const g = sendGroup(e, i, bytes, done);
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
        groupBytes += ev.raw.length;
        seen.reserve(ev.id);
        if (entries.length >= ctx.sendBatch) {
          group(entries, ids, groupBytes);
          entries = [];
          ids = [];
          groupBytes = 0;
        }
      }
      if (entries.length > 0) group(entries, ids, groupBytes);
      if (pageDuplicates > 0) {
        duplicates += pageDuplicates;
        ctx.metrics.duplicatesSkipped(key.org, key.service, pageDuplicates);
      }
      // The page's bytes may be reused by the DI client once every send reading them has copied them into its
      // frames (or failed): all of them, not just until the first failure.
      const release = page.release;
      const allEncoded = Promise.all(encoded);
      if (release) void allEncoded.then(release);
      pending.push({ done: Promise.all(groups).then(() => undefined), cursor: Math.min(cursor, end) });
      while (pending.length > ctx.pipelinePages) await settleOldest();
      // The next page (already prefetched by the DI client) is taken once this one is encoded: a page queued
      // unencoded behind it would only hold its buffer and its 10,000 event objects (long enough to be promoted to
      // the old generation) while the forward client's in-flight bound paces the encoding anyway.
      await allEncoded;
      // ...and once the frames awaiting acks and their settle time are back under the bound.
      while (pendingBytes > maxPendingBytes) await new Promise<void>((r) => (bytesWaiter = r));
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
