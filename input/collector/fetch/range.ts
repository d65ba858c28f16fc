// Fetching one time range of one stream and handing what is new in it to delivery. Used by the polling windows, by
// the parts a poll fetches by counts (overlap-counts.ts) and by each backfill slice. The checkpoint logic lives with
// the callers; this module guarantees that `onAcked(cursor)` is reported only once every event of the range before
// `cursor` was delivered (delivery/: an id is journaled as delivered only after its ack settled), for every org of
// the query: each event goes to its org's delivery state (routes.ts), in send groups of one org each.
import { ESCAPED_TIMESTAMP } from '../../di/page-events.js';
import type { Clock, DiClient, DiPage, DiQuery, ForwardClient, Logger, PageEvents, SearchTerm } from '../../types.js';
import { sendGroup, type SendTarget, type WriteLedger } from '../delivery/index.js';
import type { EngineMetrics } from '../metrics.js';
import { eventTimeMillis, parseEventTime, parseEventTimeBytes, type EventTimeOut } from '../state/timestamp.js';
import { GroupBuilder } from './group-builder.js';
import { UnroutedEventError, type Routes } from './routes.js';

export interface StreamContext {
  /** The orgs (one or several) the stream's queries serve, and where each event goes. */
  readonly routes: Routes;
  readonly di: DiClient;
  readonly forward: ForwardClient;
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

export function rangeQuery(ctx: StreamContext, start: number, end: number, searchTerm?: SearchTerm): DiQuery {
  return ctx.routes.query(start, end, searchTerm);
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
  /** Per org of the query (routes.ts): where its groups go. */
  private readonly targets: SendTarget[];
  /** Per org, reused by every page: events left in the page, duplicates, events fetched. */
  private readonly left: Uint32Array;
  private readonly dupes: Uint32Array;
  private readonly got: Uint32Array;
  private readonly builders: (GroupBuilder | undefined)[];
  /** Per event of the page being read: the index of its org (only for a query of several orgs). */
  private routeOf = new Int32Array(0);

  constructor(
    private readonly ctx: StreamContext,
    private readonly spec: RangeSpec,
    private readonly signal: AbortSignal | undefined,
    private readonly onAcked: ((cursor: number, acked: number) => void) | undefined,
  ) {
    const { routes } = ctx;
    const service = routes.service;
    this.targets = routes.orgs.map((r) => ({
      seen: r.seen,
      forward: ctx.forward,
      tag: r.tag,
      ...(ctx.writes ? { writes: ctx.writes } : {}),
      delivered: (n: number) => {
        this.forwarded += n;
        ctx.metrics.eventsForwarded(r.org, service, n);
      },
    }));
    const n = routes.orgs.length;
    this.left = new Uint32Array(n);
    this.dupes = new Uint32Array(n);
    this.got = new Uint32Array(n);
    this.builders = new Array<GroupBuilder | undefined>(n).fill(undefined);
  }

  async run(): Promise<RangeOutcome> {
    const { ctx, spec, signal } = this;
    let iterError: unknown;
    try {
      for await (const page of ctx.di.pages(rangeQuery(ctx, spec.start, spec.end, spec.searchTerm), signal)) {
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

  /**
   * Hands the page's new events to delivery in groups (one org each); returns once the pipeline has room for the
   * next page. An event of none of the query's orgs stops the page there (UnroutedEventError, after what was handed
   * over settles): nothing past it is forwarded from this query, and no cursor passes it.
   */
  private async page(page: DiPage): Promise<void> {
    const { ctx, spec } = this;
    const { start, end, countFrom } = spec;
    const orgs = ctx.routes.orgs;
    const events = page.events;
    const count = events.length;
    this.fetched += count;
    const routed = this.route(events);
    let cursor = start;
    let observed = 0,
      atCountFrom = 0,
      atEnd = 0;
    const groups: Promise<void>[] = [];
    // A page's bytes are needed until every send reading them has encoded them (or failed), not until the acks.
    const encoded: Promise<void>[] = [];
    for (let i = 0; i < count; i++) {
      const r = routed ? this.routeOf[i]! : 0;
      if (r < 0) {
        this.failure ??= new UnroutedEventError(events.id(i), events.organization(i), orgs.length);
        break;
      }
      this.left[r]!--;
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
      const { seen } = orgs[r]!;
      if (seen.has(id)) {
        this.dupes[r]!++;
        continue;
      }
      // The raw bytes go to the encoder as a str (their span in the page): the page is never decoded to a string.
      const g = (this.builders[r] ??= new GroupBuilder(
        events.body,
        Math.max(1, Math.min(ctx.sendBatch, this.left[r]! + 1)),
      ));
      g.add(events, i, id, sec, nsec, ms);
      seen.reserve(id);
      if (g.length >= g.capacity) {
        this.send(r, g, encoded, groups);
        this.builders[r] = undefined;
      }
    }
    for (let r = 0; r < orgs.length; r++) {
      const g = this.builders[r];
      this.builders[r] = undefined;
      if (g !== undefined && g.length > 0) this.send(r, g, encoded, groups);
    }
    this.observed += observed;
    this.atCountFrom += atCountFrom;
    this.atEnd += atEnd;
    this.report();
    await this.pipeline(page, encoded, groups, Math.min(cursor, end));
  }

  /**
   * Each event's org (this.routeOf) and each org's events in the page (this.left, also fetched); false for a query
   * of one org (every event is its own: nothing to look up).
   */
  private route(events: PageEvents): boolean {
    const { routes } = this.ctx;
    const n = events.length;
    if (routes.orgs.length === 1) {
      this.left[0] = n;
      this.got[0]! += n;
      return false;
    }
    if (this.routeOf.length < n) this.routeOf = new Int32Array(Math.max(n, 2 * this.routeOf.length));
    this.left.fill(0);
    for (let i = 0; i < n; i++) {
      const r = routes.routeOf(events, i);
      this.routeOf[i] = r;
      if (r >= 0) this.left[r]!++;
    }
    for (let r = 0; r < routes.orgs.length; r++) this.got[r]! += this.left[r]!;
    return true;
  }

  /** The page's per-org counts into the metrics (events fetched, duplicates skipped), once per org and page. */
  private report(): void {
    const { routes, metrics } = this.ctx;
    const service = routes.service;
    for (let r = 0; r < routes.orgs.length; r++) {
      const org = routes.orgs[r]!.org;
      const got = this.got[r]!,
        dupes = this.dupes[r]!;
      if (got > 0) metrics.eventsFetched?.(org, service, got);
      if (dupes > 0) {
        this.duplicates += dupes;
        metrics.duplicatesSkipped(org, service, dupes);
      }
      this.got[r] = 0;
      this.dupes[r] = 0;
    }
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
      const { routes, logger, clock } = this.ctx;
      logger.warn(
        { ...routes.labels, id: events.id(i), error: (err as Error).message },
        'event with an invalid timestamp: forwarding it with the current time',
      );
      const now = clock.now();
      time.sec = Math.floor(now / 1000);
      time.nsec = (now % 1000) * 1e6;
      return this.spec.start;
    }
  }

  /** Sends one group of org `r`; its failure is the range's (the first one wins). */
  private send(r: number, b: GroupBuilder, encoded: Promise<void>[], groups: Promise<void>[]): void {
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
    const p = sendGroup(this.targets[r]!, b.batch(), b.ids.finish(), hooks).catch((err: unknown) => {
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
