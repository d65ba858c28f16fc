// The simulator's event store: a deterministic, lazily computed set of events per stream, an (org, service) pair or
// a provider's Multi-Tenant-Portal stream. Time is cut into buckets; a bucket's events are derived from (seed,
// stream, bucket) alone (generate.ts), so 90 days or millions of events cost nothing until queried, and the same
// seed always yields the same events. Bodies come from pools shared by every org (pool.ts).
// Order is the API's: by epoch millisecond, then id; search_after is [epoch ms, id].
import { compareInstants, parseRfc3339, type Instant } from '../di/rfc3339.js';
import { CATALOG_SERVICES } from './catalog.js';
import { byMsThenId, generateBucket, type IndexDelay, type Skeleton } from './generate.js';
import { BodyPool, type Hole, type PoolBody } from './pool.js';
import type { Body } from './render.js';
import { organizationId, providerObjectId } from './stamp.js';

export type { IndexDelay, Skeleton } from './generate.js';

/** Services the generator makes events for by default: every service of the catalog. */
export const GENERATED_SERVICES: readonly string[] = CATALOG_SERVICES;

/** An event given explicitly (tests, scenarios): served as is. */
export interface ExplicitEvent {
  readonly orgId?: string;
  /** Served on this provider's Multi-Tenant-Portal stream (x-provider-id) instead of an org's. */
  readonly providerId?: string;
  readonly service: string;
  /** The event object or its exact JSON text; must hold string `id` and `timestamp`. */
  readonly event: Record<string, unknown> | string;
  /** Clock time at which it becomes visible; default its timestamp. */
  readonly visibleAt?: number;
}

export interface EventStoreOptions {
  readonly seed: number;
  /** Org ids; '' is the single org of a plain API key (no x-org-id). */
  readonly orgs: readonly string[];
  /** Services that have generated events. */
  readonly services: readonly string[];
  /** Provider (MSP) ids: each has a Multi-Tenant-Portal stream; org i belongs to provider i mod n. */
  readonly providers?: readonly string[];
  /** Generated events per minute per stream; 0 for none. */
  readonly eventsPerMinute: number;
  /** First instant of generated events (epoch ms). */
  readonly fromMs: number;
  /** Last instant (inclusive), or 'live': events keep coming as the clock advances. */
  readonly toMs: number | 'live';
  readonly indexDelay: IndexDelay;
  readonly events?: readonly ExplicitEvent[];
  /** Bound on cached skeletons (memory). Default 300,000. */
  readonly cacheLimit?: number;
}

export interface Stream {
  readonly kind: 'org' | 'provider';
  /** The org's id ('' for provider streams). */
  readonly orgId: string;
  readonly service: string;
  /** Value of `organization` in generated events (provider streams: the provider's own). */
  readonly organization: string;
  /** The provider: of the org, or whose stream it is. */
  readonly providerId?: string;
}

export interface ScanRange {
  readonly streams: readonly number[];
  readonly start: Instant;
  /** Inclusive. */
  readonly end: Instant;
  /** Exclusive lower bound in (ms, id) order: the search_after cursor. */
  readonly after?: { readonly ms: number; readonly id: string };
  /** Only events with visibleAt <= this. */
  readonly visibleAt: number;
  /** Only events it accepts (the query's search_term, exclude_provider_activity). */
  readonly match?: (s: Skeleton) => boolean;
}

const BUCKET_SIZES = [1_000, 5_000, 10_000, 60_000, 300_000, 600_000, 3_600_000];

interface Holes {
  readonly org: Buffer;
  readonly provider: Buffer;
  /** Provider streams: the organizations of its orgs, one per event by variant. */
  readonly children?: readonly Buffer[];
}

export class EventStore {
  readonly streams: Stream[] = [];
  readonly bucketMs: number;
  private readonly streamIndex = new Map<string, number>();
  private readonly holes: Holes[] = [];
  private readonly explicit = new Map<string, Skeleton[]>(); // `${stream}:${bucket}` → events
  private explicitMinMs = Infinity;
  private explicitMaxMs = -Infinity;
  private readonly cache = new Map<string, Skeleton[]>();
  private cached = 0;
  private readonly pools = new Map<string, BodyPool>();
  /** The pool of each stream, once asked for. */
  private readonly poolOf: BodyPool[] = [];
  private readonly cacheLimit: number;
  private readonly providers: readonly string[];

  constructor(private readonly opts: EventStoreOptions) {
    this.providers = opts.providers ?? [];
    for (const orgId of opts.orgs) for (const service of opts.services) this.addStream(orgId, service);
    for (const p of this.providers) this.addProviderStream(p);
    // Aim at a few hundred to two thousand events per stream and bucket.
    const perMin = Math.max(opts.eventsPerMinute, 1e-9);
    this.bucketMs = [...BUCKET_SIZES].reverse().find((b) => (perMin * b) / 60_000 <= 2_000) ?? BUCKET_SIZES[0]!;
    this.cacheLimit = opts.cacheLimit ?? 300_000;
    for (const e of opts.events ?? []) this.addExplicit(e);
  }

  /** Index of the org's stream of `service`, or undefined. */
  stream(orgId: string, service: string): number | undefined {
    return this.streamIndex.get(`${orgId}\u0000${service}`);
  }

  /** Streams a query for `service` over `orgIds` reads: `all` is every service of those orgs. */
  /** `hiddenFromAll`: services that `all` leaves out (as the real `all` is reported to do for some). */
  streamsFor(orgIds: readonly string[], service: string, hiddenFromAll?: ReadonlySet<string>): number[] {
    return this.select((s) => s.kind === 'org' && orgIds.includes(s.orgId), service, hiddenFromAll);
  }

  /** Streams an x-provider-id query reads: the provider's Multi-Tenant-Portal events (service directory). */
  providerStreamsFor(providerId: string, service: string, hiddenFromAll?: ReadonlySet<string>): number[] {
    return this.select((s) => s.kind === 'provider' && s.providerId === providerId, service, hiddenFromAll);
  }

  private select(owner: (s: Stream) => boolean, service: string, hidden?: ReadonlySet<string>): number[] {
    const out: number[] = [];
    this.streams.forEach((s, i) => {
      const inAll = service === 'all' && !hidden?.has(s.service);
      if (owner(s) && (inAll || s.service === service)) out.push(i);
    });
    return out;
  }

  /** The service of stream `i` (an index streamsFor returned). */
  serviceOf(i: number): string {
    return this.streams[i]!.service;
  }

  /** Whether the event is provider activity: on a provider's stream, or done in an org by a provider's admin. */
  isProviderActivity(s: Skeleton): boolean {
    if (s.text !== undefined) return s.providerActivity === true;
    return this.streams[s.stream]!.kind === 'provider' || this.body(s).providerActivity;
  }

  /** Events of the range in API order, at most `limit`. */
  scan(range: ScanRange, limit: number): Skeleton[] {
    const out: Skeleton[] = [];
    this.walk(range, (s) => {
      out.push(s);
      return out.length < limit;
    });
    return out;
  }

  /** Visits the range's events in API order until `visit` returns false (aggregations: nothing is kept). */
  each(range: ScanRange, visit: (s: Skeleton) => boolean): void {
    this.walk(range, visit);
  }

  count(range: ScanRange): number {
    let n = 0;
    this.walk(range, () => {
      n++;
      return true;
    });
    return n;
  }

  /** The exact JSON text of an event. */
  text(s: Skeleton): string {
    return this.bytes(s).toString('utf8');
  }

  /** The event's JSON as UTF-8 bytes. */
  bytes(s: Skeleton): Buffer {
    return this.page([s]).subarray(1, -1);
  }

  /**
   * A JSON array of the events as UTF-8 bytes, written into one buffer: bodies are encoded once per service and
   * filled with the stream's ids, so a 10,000-event page costs copies rather than a 15 MB string join and re-encode.
   */
  page(events: readonly Skeleton[]): Buffer {
    // Every event is pieces around holes, then a suffix: generated ones their pool body and `"id":…}`, explicit
    // ones their text alone. The two loops are methods of their own: inlined here, V8 kept deoptimizing page().
    const n = events.length;
    const pieces = new Array<Piece>(n);
    const suffixes = new Array<string>(n);
    const out = Buffer.allocUnsafe(2 + Math.max(0, n - 1) + this.plan(events, pieces, suffixes));
    out[0] = 0x5b;
    out[this.fill(events, pieces, suffixes, out)] = 0x5d;
    return out;
  }

  /** The pieces and suffix of each event; returns their bytes. */
  private plan(events: readonly Skeleton[], pieces: Piece[], suffixes: string[]): number {
    let total = 0;
    for (let i = 0; i < events.length; i++) {
      const s = events[i]!;
      const p = s.text === undefined ? this.body(s) : explicitPiece(s.text);
      // id and timestamp are generated ASCII (hex, UUID, RFC 3339): nothing to escape, one byte per char.
      const suffix = s.text === undefined ? `"id":"${s.id}","timestamp":"${s.timestamp}"}` : '';
      pieces[i] = p;
      suffixes[i] = suffix;
      total += p.bytes.length + suffix.length;
    }
    return total;
  }

  /** Writes the events, comma-separated, from position 1; returns the position after the last. */
  private fill(
    events: readonly Skeleton[],
    pieces: readonly Piece[],
    suffixes: readonly string[],
    out: Buffer,
  ): number {
    let pos = 1;
    for (let i = 0; i < events.length; i++) {
      if (i > 0) out[pos++] = 0x2c;
      pos = this.write(events[i]!, pieces[i]!, out, pos);
      pos += out.write(suffixes[i]!, pos, 'latin1');
    }
    return pos;
  }

  /** The pool body of a generated event. */
  private body(s: Skeleton): PoolBody {
    return (this.poolOf[s.stream] ??= this.pool(s.stream)).body(s.variant);
  }

  /** Writes an event's body at `pos` with the stream's ids in its holes; returns the position after it. */
  private write(s: Skeleton, p: Piece, out: Buffer, pos: number): number {
    out.set(p.bytes, pos);
    const end = pos + p.bytes.length;
    if (p.holes.length === 0) return end;
    const h = this.holes[s.stream]!;
    const org = h.children ? h.children[s.variant % h.children.length]! : h.org;
    for (let i = 0; i < p.holes.length; i++) {
      out.set(p.holes[i] === 'org' ? org : h.provider, pos + p.holeAt[i]!);
    }
    return end;
  }

  private pool(stream: number): BodyPool {
    const { kind, service } = this.streams[stream]!;
    const key = `${kind}/${service}`;
    let pool = this.pools.get(key);
    if (!pool) {
      pool = new BodyPool({ seed: this.opts.seed, service, stream: kind, withProviders: this.providers.length > 0 });
      this.pools.set(key, pool);
    }
    return pool;
  }

  private walk(range: ScanRange, visit: (s: Skeleton) => boolean): void {
    if (range.streams.length === 0) return;
    const lowMs = range.after ? Math.max(range.after.ms, range.start.ms) : range.start.ms;
    let highMs = Math.min(range.end.ms, range.visibleAt);
    const live = this.opts.toMs === 'live';
    const genEnd = this.opts.eventsPerMinute > 0 ? (live ? Infinity : (this.opts.toMs as number)) : -Infinity;
    highMs = Math.min(highMs, Math.max(genEnd, this.explicitMaxMs));
    const genStart = this.opts.eventsPerMinute > 0 ? this.opts.fromMs : Infinity;
    const firstMs = Math.max(lowMs, Math.min(genStart, this.explicitMinMs));
    if (!(firstMs <= highMs)) return;
    const lastBucket = Math.floor(highMs / this.bucketMs);
    for (let b = Math.floor(firstMs / this.bucketMs); b <= lastBucket; b++) {
      const events = this.bucket(range.streams, b);
      let i = 0;
      if (range.after && b === Math.floor(range.after.ms / this.bucketMs)) {
        i = upperBound(events, range.after.ms, range.after.id);
      }
      for (; i < events.length; i++) {
        const s = events[i]!;
        if (s.visibleAt > range.visibleAt) continue;
        // Buckets are ordered by (ms, id), so within the bounds' millisecond the nanoseconds are checked one by one.
        if (s.ms > range.end.ms) return;
        if (compareInstants(s, range.start) < 0 || compareInstants(s, range.end) > 0) continue;
        if (range.match && !range.match(s)) continue;
        if (!visit(s)) return;
      }
    }
  }

  /** Events of the streams in bucket b, sorted by (ms, id). */
  private bucket(streams: readonly number[], b: number): Skeleton[] {
    if (streams.length === 1) return this.streamBucket(streams[0]!, b);
    const key = `${streams.join(',')}:${b}`;
    const hit = this.cache.get(key);
    if (hit) return this.touch(key, hit);
    const merged = streams.flatMap((s) => this.streamBucket(s, b)).sort(byMsThenId);
    return this.remember(key, merged);
  }

  private streamBucket(stream: number, b: number): Skeleton[] {
    const key = `${stream}:${b}`;
    const hit = this.cache.get(key);
    if (hit) return this.touch(key, hit);
    const { seed, eventsPerMinute: rate, fromMs, toMs, indexDelay } = this.opts;
    const service = this.streams[stream]!.service;
    const to = toMs === 'live' ? Infinity : toMs;
    const spec = { seed, stream, service, bucket: b, bucketMs: this.bucketMs, rate, fromMs, toMs: to, indexDelay };
    const generated = generateBucket(spec);
    const extra = this.explicit.get(key);
    const events = extra ? [...generated, ...extra].sort(byMsThenId) : generated;
    return this.remember(key, events);
  }

  private touch(key: string, v: Skeleton[]): Skeleton[] {
    this.cache.delete(key);
    this.cache.set(key, v);
    return v;
  }

  private remember(key: string, v: Skeleton[]): Skeleton[] {
    this.cache.set(key, v);
    this.cached += v.length;
    for (const [k, old] of this.cache) {
      if (this.cached <= this.cacheLimit || k === key) break;
      this.cache.delete(k);
      this.cached -= old.length;
    }
    return v;
  }

  private addStream(orgId: string, service: string): number {
    const key = `${orgId}\u0000${service}`;
    let i = this.streamIndex.get(key);
    if (i === undefined) {
      i = this.streams.length;
      const organization = organizationId(orgId, this.opts.seed);
      const providerId = this.providerOf(orgId);
      const owner = providerId !== undefined ? { providerId } : {};
      this.streams.push({ kind: 'org', orgId, service, organization, ...owner });
      const provider = providerObjectId(providerId ?? orgId, this.opts.seed);
      this.holes.push({ org: ascii(organization), provider: ascii(provider) });
      this.streamIndex.set(key, i);
    }
    return i;
  }

  /** The provider of an org: org i of the options belongs to provider i mod n. */
  private providerOf(orgId: string): string | undefined {
    const i = this.opts.orgs.indexOf(orgId);
    return this.providers.length > 0 && i >= 0 ? this.providers[i % this.providers.length] : undefined;
  }

  private addProviderStream(providerId: string): number {
    const key = `\u0001${providerId}\u0000directory`;
    let i = this.streamIndex.get(key);
    if (i === undefined) {
      i = this.streams.length;
      const own = providerObjectId(providerId, this.opts.seed);
      const children = this.opts.orgs
        .filter((o) => this.providerOf(o) === providerId)
        .map((o) => ascii(organizationId(o, this.opts.seed)));
      this.streams.push({ kind: 'provider', orgId: '', service: 'directory', organization: own, providerId });
      this.holes.push({ org: ascii(own), provider: ascii(own), ...(children.length ? { children } : {}) });
      this.streamIndex.set(key, i);
    }
    return i;
  }

  private addExplicit(e: ExplicitEvent): void {
    const text = typeof e.event === 'string' ? e.event : JSON.stringify(e.event);
    const obj = JSON.parse(text) as { id?: unknown; timestamp?: unknown };
    if (typeof obj.id !== 'string' || typeof obj.timestamp !== 'string') {
      throw new Error('explicit simulator event needs string "id" and "timestamp"');
    }
    const t = parseRfc3339(obj.timestamp);
    if (!t) throw new Error(`explicit simulator event ${obj.id}: timestamp "${obj.timestamp}" is not RFC 3339`);
    const stream =
      e.providerId !== undefined ? this.addProviderStream(e.providerId) : this.addStream(e.orgId ?? '', e.service);
    const b = Math.floor(t.ms / this.bucketMs);
    const key = `${stream}:${b}`;
    const list = this.explicit.get(key) ?? [];
    const providerActivity = e.providerId !== undefined || providerActivityOf(obj as Body, this.streams[stream]!);
    list.push({
      ms: t.ms,
      subNs: t.subNs,
      id: obj.id,
      timestamp: obj.timestamp,
      visibleAt: e.visibleAt ?? t.ms,
      stream,
      variant: 0,
      text,
      providerActivity,
    });
    this.explicit.set(key, list);
    this.explicitMinMs = Math.min(this.explicitMinMs, t.ms);
    this.explicitMaxMs = Math.max(this.explicitMaxMs, t.ms);
  }
}

/** An explicit directory event is provider activity when it names a provider (`provider`, `initiated_by.provider`). */
function providerActivityOf(obj: Body, stream: Stream): boolean {
  const by = obj.initiated_by;
  const named = typeof by === 'object' && by !== null && !Array.isArray(by) && typeof by.provider === 'string';
  return stream.service === 'directory' && (named || (typeof obj.provider === 'string' && obj.provider !== ''));
}

function ascii(text: string): Buffer {
  return Buffer.from(text, 'latin1');
}

/** What page() writes of an event before its suffix. */
type Piece = Pick<PoolBody, 'bytes' | 'holes' | 'holeAt'>;
const NO_HOLES: readonly Hole[] = [];
const NO_OFFSETS: readonly number[] = [];

function explicitPiece(text: string): Piece {
  return { bytes: Buffer.from(text, 'utf8'), holes: NO_HOLES, holeAt: NO_OFFSETS };
}

/** First index whose (ms, id) is after (ms, id). */
function upperBound(events: readonly Skeleton[], ms: number, id: string): number {
  let lo = 0;
  let hi = events.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const e = events[mid]!;
    if (e.ms < ms || (e.ms === ms && e.id <= id)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
