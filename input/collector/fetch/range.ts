// Fetching one time range of one stream and handing what is new in it to delivery. Used by the polling windows, by
// the parts a poll fetches by counts (overlap-counts.ts) and by each backfill slice. The checkpoint logic lives with
// the callers; this module guarantees that `onAcked(cursor)` is reported only once every event of the range before
// `cursor` was delivered (delivery/: an id is journaled as delivered only after its ack settled).
import { ESCAPED_TIMESTAMP } from '../../di/page-events.js';
import type { Clock, DiClient, DiPage, DiQuery, ForwardClient, Logger, PageEvents, SearchTerm } from '../../types.js';
import { sendGroup, type SeenIds, type SendTarget, type WriteLedger } from '../delivery/index.js';
import type { EngineMetrics } from '../metrics.js';
import type { StreamKey } from '../state/state.js';
import {
  eventTimeMillis,
  isoMillis,
  parseEventTime,
  parseEventTimeBytes,
  type EventTimeOut,
} from '../state/timestamp.js';
import { GroupBuilder } from './group-builder.js';

export interface StreamContext {
  readonly key: StreamKey;
  readonly tag: string;
  readonly di: DiClient;
  readonly forward: ForwardClient;
  readonly seen: SeenIds;
  readonly logger: Logger;
  readonly metrics: EngineMetrics;
  /** The collector's time: windows, lag, an unreadable event's time. */
  readonly clock: Clock;
  /** Real time: the pace of disk writes (a backfill's progress). */
  readonly wallClock: Clock;
  readonly overlapMs: number;
  /**
   * Entries per forward.send call: smaller batches narrow what a crash between an ack and its journal write repeats.
   */
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
    service: key.service,
    start: isoMillis(start),
    end: isoMillis(end),
    ...(key.org !== '' ? { orgId: key.org } : {}),
    ...(searchTerm !== undefined ? { searchTerm } : {}),
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

/**
 * Fetches every page of [start, end] and forwards the events not seen before, in order. Throws the DI client's
 * error or the forward client's fatal error after every send already under way has settled (delivered ones are
 * journaled). When `signal` aborts, stops fetching, waits for the acks of what was sent, and returns aborted.
 */
export function fetchRange(
  ctx: StreamContext,
  spec: RangeSpec,
  signal: AbortSignal | undefined,
  onAcked?: (cursor: number, acked: number) => void,
): Promise<RangeOutcome> {
  return new RangeFetch(ctx, spec, signal, onAcked).run();
}

/** A page handed to delivery: settled once every group of it is; every event before `cursor` is then delivered. */
interface PendingPage {
  readonly done: Promise<void>;
  readonly cursor: number;
}

/** One fetchRange: its pages in a pipeline (fetch, encode, await acks), its counts, its first failure. */
class RangeFetch {
  private fetched = 0;
  private observed = 0;
  private atCountFrom = 0;
  private atEnd = 0;
  private forwarded = 0;
  private duplicates = 0;
  private failure: unknown;
  private readonly pending: PendingPage[] = [];
  /** The time of the event being looked at (one object for the whole range: no object per event). */
  private readonly time: EventTimeOut = { sec: 0, nsec: 0 };
  /**
   * Bytes of the sends encoded and not settled yet (frames in flight until their ack, then events a connection loss
   * within the settle time would have the stream fetch again). Counted per send from its encoding, not per page from
   * its arrival: a page's bytes used to count until its last send settled, so the bound held whole 12 MB pages, most
   * of them not even encoded, and capped throughput at about pipelineBytes / (wait for a slot + encode + ack +
   * settle). The page not yet encoded is bounded on its own (one at a time: see page()).
   */
  private pendingBytes = 0;
  private bytesWaiter: (() => void) | undefined;
  private readonly target: SendTarget;

  constructor(
    private readonly ctx: StreamContext,
    private readonly spec: RangeSpec,
    private readonly signal: AbortSignal | undefined,
    private readonly onAcked: ((cursor: number, acked: number) => void) | undefined,
  ) {
    const { key } = ctx;
    this.target = {
      seen: ctx.seen,
      forward: ctx.forward,
      tag: ctx.tag,
      ...(ctx.writes ? { writes: ctx.writes } : {}),
      delivered: (n) => {
        this.forwarded += n;
        ctx.metrics.eventsForwarded(key.org, key.service, n);
      },
    };
  }

  async run(): Promise<RangeOutcome> {
    const { ctx, spec, signal } = this;
    let iterError: unknown;
    try {
      for await (const page of ctx.di.pages(rangeQuery(ctx.key, spec.start, spec.end, spec.searchTerm), signal)) {
        await this.page(page);
        if (this.failure !== undefined || signal?.aborted) break;
      }
    } catch (err) {
      iterError = err;
    }
    while (this.pending.length > 0) await this.settleOldest();
    if (this.failure !== undefined) throw this.failure;
    const aborted = signal?.aborted === true;
    if (iterError !== undefined && !aborted) throw iterError;
    if (!aborted) this.onAcked?.(spec.end, this.forwarded);
    const { fetched, observed, atCountFrom, atEnd, forwarded, duplicates } = this;
    return { fetched, observed, atCountFrom, atEnd, forwarded, duplicates, aborted };
  }

  /** Hands the page's new events to delivery in groups; returns once the pipeline has room for the next page. */
  private async page(page: DiPage): Promise<void> {
    const { ctx, spec } = this;
    const { start, end, countFrom } = spec;
    const { seen } = ctx;
    const events = page.events;
    const count = events.length;
    this.fetched += count;
    let cursor = start;
    let observed = 0,
      atCountFrom = 0,
      atEnd = 0,
      duplicates = 0;
    let g: GroupBuilder | undefined;
    const groups: Promise<void>[] = [];
    // A page's bytes are needed until every send reading them has encoded them (or failed), not until the acks.
    const encoded: Promise<void>[] = [];
    for (let i = 0; i < count; i++) {
      const ms = this.eventMillis(events, i);
      const { sec, nsec } = this.time;
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
        duplicates++;
        continue;
      }
      // The raw bytes go to the encoder as a str (their span in the page): the page is never decoded to a string.
      g ??= new GroupBuilder(events.body, Math.max(1, Math.min(ctx.sendBatch, count - i)));
      g.add(events, i, id, sec, nsec, ms);
      seen.reserve(id);
      if (g.length >= g.capacity) {
        this.send(g, encoded, groups);
        g = undefined;
      }
    }
    if (g !== undefined && g.length > 0) this.send(g, encoded, groups);
    this.observed += observed;
    this.atCountFrom += atCountFrom;
    this.atEnd += atEnd;
    if (duplicates > 0) {
      this.duplicates += duplicates;
      ctx.metrics.duplicatesSkipped(ctx.key.org, ctx.key.service, duplicates);
    }
    await this.pipeline(page, encoded, groups, Math.min(cursor, end));
  }

  /** Event i's time into this.time; returns it in ms (truncated). */
  private eventMillis(events: PageEvents, i: number): number {
    const time = this.time;
    // The timestamp is read from the page's bytes; only an escaped or unusual one is decoded to a string.
    const plain = (events.escapes[i]! & ESCAPED_TIMESTAMP) === 0;
    if (plain && parseEventTimeBytes(events.body, events.tsStart[i]! + 1, events.tsEnd[i]! - 1, time)) {
      return eventTimeMillis(time);
    }
    try {
      const t = parseEventTime(events.timestamp(i));
      time.sec = t.sec;
      time.nsec = t.nsec;
      return eventTimeMillis(time);
    } catch (err) {
      // Cannot be placed in time: forward it anyway (nothing is lost), timed now, remembered as of the range start.
      const { key, logger, clock } = this.ctx;
      logger.warn(
        { org: key.org, service: key.service, id: events.id(i), error: (err as Error).message },
        'event with an invalid timestamp: forwarding it with the current time',
      );
      const now = clock.now();
      time.sec = Math.floor(now / 1000);
      time.nsec = (now % 1000) * 1e6;
      return this.spec.start;
    }
  }

  /** Sends one group; its failure is the range's (the first one wins). */
  private send(b: GroupBuilder, encoded: Promise<void>[], groups: Promise<void>[]): void {
    let done!: () => void;
    encoded.push(new Promise<void>((r) => (done = r)));
    const bytes = b.bytes;
    let counted = false;
    const hooks = {
      onEncoded: (): void => {
        counted = true;
        this.pendingBytes += bytes;
        done();
      },
      onSent: (): void => {
        if (counted) this.bytesSettled(bytes);
      },
    };
    const p = sendGroup(this.target, b.batch(), b.ids.finish(), hooks).catch((err: unknown) => {
      this.failure ??= err;
    });
    void p.finally(done);
    groups.push(p);
  }

  /** Lets go of the page once it is encoded, and waits while the pipeline is at one of its bounds. */
  private async pipeline(
    page: DiPage,
    encoded: Promise<void>[],
    groups: Promise<void>[],
    cursor: number,
  ): Promise<void> {
    // The page's bytes may be reused by the DI client once every send reading them has copied them into its
    // frames (or failed): all of them, not just until the first failure.
    const allEncoded = Promise.all(encoded);
    if (page.release) void allEncoded.then(page.release);
    this.pending.push({ done: Promise.all(groups).then(() => undefined), cursor });
    while (this.pending.length > this.ctx.pipelinePages) await this.settleOldest();
    // The next page (already prefetched by the DI client) is taken once this one is encoded: a page queued
    // unencoded behind it would only hold its buffer and its 10,000 event objects (long enough to be promoted to
    // the old generation) while the forward client's in-flight bound paces the encoding anyway.
    await allEncoded;
    // ...and once the frames awaiting acks and their settle time are back under the bound.
    const max = this.ctx.pipelineBytes ?? Infinity;
    while (this.pendingBytes > max) await new Promise<void>((r) => (this.bytesWaiter = r));
  }

  private bytesSettled(n: number): void {
    this.pendingBytes -= n;
    const w = this.bytesWaiter;
    this.bytesWaiter = undefined;
    w?.();
  }

  private async settleOldest(): Promise<void> {
    const p = this.pending.shift()!;
    await p.done;
    if (this.failure === undefined) this.onAcked?.(p.cursor, this.forwarded);
  }
}
