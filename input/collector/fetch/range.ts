// Fetching one time range of one stream and forwarding what is new in it. Used by the polling windows and by
// each backfill slice. The checkpoint logic lives with the callers; this module guarantees that an id is
// journaled only after Fluent Bit acked it, and that `onAcked(cursor)` is only reported once every event of
// the range before `cursor` has been acked.
import { ESCAPED_TIMESTAMP } from '../../di/page-events.js';
import type { Clock, DiClient, DiQuery, ForwardClient, Logger, MessageBatch, PageEvents, SearchTerm } from '../../types.js';
import type { EngineMetrics } from '../metrics.js';
import { IdBatchBuilder, type IdBatch, type SeenIds } from '../delivery/seen-ids.js';
import type { StreamKey } from '../state/state.js';
import { eventTimeMillis, isoMillis, parseEventTime, parseEventTimeBytes, type EventTimeOut } from '../state/timestamp.js';

/**
 * The entries of one send group as columns over the page's bytes (a MessageBatch), filled event by event: no
 * object per entry, so nothing per event outlives the loop iteration that looked at it.
 */
class GroupBuilder {
  readonly start: Uint32Array;
  readonly end: Uint32Array;
  readonly sec: Uint32Array;
  readonly nsec: Uint32Array;
  readonly ids: IdBatchBuilder;
  length = 0;
  bytes = 0;

  constructor(private readonly body: Buffer, capacity: number) {
    const cols = new Uint32Array(4 * capacity);
    this.start = cols.subarray(0, capacity);
    this.end = cols.subarray(capacity, 2 * capacity);
    this.sec = cols.subarray(2 * capacity, 3 * capacity);
    this.nsec = cols.subarray(3 * capacity, 4 * capacity);
    this.ids = new IdBatchBuilder(capacity);
  }

  get capacity(): number {
    return this.start.length;
  }

  add(events: PageEvents, i: number, id: string, sec: number, nsec: number, ms: number): void {
    const n = this.length++;
    const s = events.start[i]!, e = events.end[i]!;
    this.start[n] = s;
    this.end[n] = e;
    this.sec[n] = sec;
    this.nsec[n] = nsec;
    this.bytes += e - s;
    this.ids.add(id, ms);
  }

  batch(): MessageBatch {
    const n = this.length;
    return { length: n, body: this.body, start: this.start.subarray(0, n), end: this.end.subarray(0, n), sec: this.sec.subarray(0, n), nsec: this.nsec.subarray(0, n) };
  }
}

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
  /** Event bytes of sends not yet settled above which the next page waits (unbounded when unset). */
  readonly pipelineBytes?: number;
  /** A backfill drops ids it no longer needs once the set holds this many. */
  readonly seenCompactAt: number;
  /** The forward ledger (--fluent-bit-http): numbers each chunk written, so a restart can tell which were stored. */
  readonly writes?: WriteLedger;
}

/** What fetchRange needs of the forward ledger (send-ledger.ts). */
export interface WriteLedger {
  /** A chunk of `entries` (`bytes` of msgpack) is about to be written on `connection`: its sequence number. */
  written(entries: number, bytes: number, connection: number): number;
  /** The write `seq` settled, or its send failed. */
  done(seq: number): void;
}

export interface RangeSpec {
  /** Query start, inclusive. */
  readonly start: number;
  /** Exclusive for forwarding: events at or after it are left for the next window. Sent as end_time. */
  readonly end: number;
  /** Lower bound of the completeness count (≥ start). */
  readonly countFrom: number;
  /** Only the events it matches (the parts of the range a poll fetches; overlap-counts.ts). */
  readonly searchTerm?: SearchTerm;
}

export interface RangeOutcome {
  /** Events the API returned for the range (every page, in or out of its bounds). */
  readonly fetched: number;
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

export function rangeQuery(key: StreamKey, start: number, end: number, searchTerm?: SearchTerm): DiQuery {
  return {
    service: key.service, start: isoMillis(start), end: isoMillis(end),
    ...(key.org !== '' ? { orgId: key.org } : {}), ...(searchTerm !== undefined ? { searchTerm } : {}),
  };
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
  let fetched = 0, observed = 0, atCountFrom = 0, atEnd = 0, forwarded = 0, duplicates = 0;
  let failure: unknown;
  const pending: PendingPage[] = [];
  /** The time of the event being looked at (one object for the whole range: no object per event). */
  const time: EventTimeOut = { sec: 0, nsec: 0 };

  const settleOldest = async (): Promise<void> => {
    const p = pending.shift()!;
    await p.done;
    if (failure === undefined) onAcked?.(p.cursor, forwarded);
  };

  // Bytes of the sends encoded and not settled yet (frames in flight until their ack, then events a connection
  // loss within the settle time would have the stream fetch again). Counted per send from its encoding, not per page from its arrival: a page's bytes
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

  const sendGroup = (entries: MessageBatch, ids: IdBatch, bytes: number, onEncoded: () => void): Promise<void> => {
    let counted = false;
    const encodedNow = (): void => {
      counted = true;
      pendingBytes += bytes;
      onEncoded();
    };
    // Journaled per chunk, as each ack settles (and at each ack too, with journalAcks): a kill repeats at most what
    // was acked within the settle time, not a whole send. A journal write that fails fails the send.
    let settled = 0;
    let journalError: unknown;
    const journal = (write: () => void): void => {
      try {
        write();
      } catch (err) {
        journalError ??= err;
      }
    };
    // The ledger's number of each chunk's latest write (by its first entry): done once it settled or failed.
    const ledger = ctx.writes;
    const writes = ledger ? new Map<number, number>() : undefined;
    const written = (from: number, to: number, connection: number, bytes: number): void => journal(() => {
      const seq = ledger!.written(to - from, bytes, connection);
      const before = writes!.get(from);
      writes!.set(from, seq);
      if (before !== undefined) ledger!.done(before); // resent: that write's fate no longer matters here
      seen.written(ids, from, to, seq);
    });
    const writesDone = (from?: number): void => {
      if (!writes) return;
      for (const [f, seq] of writes) {
        if (from !== undefined && f !== from) continue;
        writes.delete(f);
        ledger!.done(seq);
      }
    };
    const settledRange = (from: number, to: number): void => {
      journal(() => seen.commit(ids, from, to));
      writesDone(from);
      settled += to - from;
      forwarded += to - from;
      ctx.metrics.eventsForwarded(key.org, key.service, to - from);
    };
    const hooks = {
      onEncoded: encodedNow,
      onChunkAcked: (from: number, to: number, ackedAt: number) => journal(() => seen.acked(ids, from, to, ackedAt)),
      onChunkSettled: settledRange,
      ...(ledger ? { onChunkWritten: written } : {}),
    };
    return ctx.forward.send(ctx.tag, entries, hooks).finally(() => counted && bytesSettled(bytes)).then(
      () => {
        // A client that reports no chunks (a test double): the whole send settled now.
        if (settled === 0) settledRange(0, ids.length);
        if (journalError !== undefined) throw journalError;
      },
    ).catch((err: unknown) => {
      seen.release(ids);
      failure ??= err;
    }).finally(() => writesDone());
  };

  let iterError: unknown;
  try {
    for await (const page of ctx.di.pages(rangeQuery(key, start, end, spec.searchTerm), signal)) {
      let cursor = start;
      const events = page.events;
      const count = events.length;
      fetched += count;
      const body = events.body;
      let g: GroupBuilder | undefined;
      const groups: Promise<void>[] = [];
      // A page's bytes are needed until every send reading them has encoded them (or failed), not until the acks.
      const encoded: Promise<void>[] = [];
      const group = (b: GroupBuilder): void => {
        let done!: () => void;
        encoded.push(new Promise<void>((r) => { done = r; }));
        const p = sendGroup(b.batch(), b.ids.finish(), b.bytes, done);
        void p.finally(done);
        groups.push(p);
      };
      let pageDuplicates = 0;
      for (let i = 0; i < count; i++) {
        let ms: number;
        // The timestamp is read from the page's bytes; only an escaped or unusual one is decoded to a string.
        if ((events.escapes[i]! & ESCAPED_TIMESTAMP) === 0 && parseEventTimeBytes(body, events.tsStart[i]! + 1, events.tsEnd[i]! - 1, time)) {
          ms = eventTimeMillis(time);
        } else {
          try {
            const t = parseEventTime(events.timestamp(i));
            time.sec = t.sec;
            time.nsec = t.nsec;
            ms = eventTimeMillis(time);
          } catch (err) {
            // Cannot be placed in time: forward it anyway (nothing is lost), timed now, remembered as of the window start.
            logger.warn({ org: key.org, service: key.service, id: events.id(i), error: (err as Error).message }, 'event with an invalid timestamp: forwarding it with the current time');
            const now = ctx.clock.now();
            time.sec = Math.floor(now / 1000);
            time.nsec = (now % 1000) * 1e6;
            ms = start;
          }
        }
        const { sec, nsec } = time;
        if (ms > cursor) cursor = ms;
        const exact = nsec % 1e6 === 0;
        if (ms >= end) {
          if (ms === end && exact) atEnd++;
          continue;
        }
        if (ms < start) continue;
        if (ms >= countFrom) {
          observed++;
          if (ms === countFrom && exact) atCountFrom++;
        }
        const id = events.id(i);
        if (seen.has(id)) {
          pageDuplicates++;
          continue;
        }
        // The raw bytes go to the encoder as a str (their span in the page): the page is never decoded to a string.
        g ??= new GroupBuilder(body, Math.max(1, Math.min(ctx.sendBatch, count - i)));
        g.add(events, i, id, sec, nsec, ms);
        seen.reserve(id);
        if (g.length >= g.capacity) {
          group(g);
          g = undefined;
        }
      }
      if (g !== undefined && g.length > 0) group(g);
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
  return { fetched, observed, atCountFrom, atEnd, forwarded, duplicates, aborted };
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
  outcome = { ...outcome, fetched: first.fetched + outcome.fetched, forwarded: first.forwarded + outcome.forwarded, duplicates: first.duplicates + outcome.duplicates };
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
