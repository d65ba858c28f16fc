// The simulator's event store: a deterministic, lazily computed set of events per (org, service) stream.
// Time is cut into buckets; a bucket's events are derived from (seed, stream, bucket) alone, so 90 days or
// millions of events cost nothing until queried, and the same seed always yields the same events.
// Order is the API's: by epoch millisecond, then id; search_after is [epoch ms, id].
import { compareInstants, formatInstant, parseRfc3339, type Instant } from '../di/rfc3339.js';
import { CATALOG_SERVICES, streamEntries } from './catalog.js';
import { fillHoles, hash32, hashString, hex, prng, renderBody, type Rng } from './render.js';

/** Services the generator makes events for: every service of the catalog. */
export const GENERATED_SERVICES = CATALOG_SERVICES;

/** Everything of an event of `service` but its id and timestamp (a `{…,` prefix), its type drawn by weight. */
function renderPrefix(service: string, variant: number, org: string): string {
  const entries = streamEntries(service, 'org');
  const total = entries.reduce((n, e) => n + e.weight, 0);
  let x = prng(variant)() * total;
  const entry = entries.find((e) => (x -= e.weight) < 0) ?? entries[entries.length - 1]!;
  return fillHoles(JSON.stringify(renderBody(entry, variant)).slice(0, -1) + ',', org, org);
}

export interface IndexDelay {
  /** Most events are visible within this many ms of their timestamp. Default 5 s. */
  readonly typicalMaxMs: number;
  /** Fraction of events indexed late, uniformly between typicalMaxMs and maxMs. Default 0.02. */
  readonly lateFraction: number;
  /** Latest indexing delay. Default 30 min. */
  readonly maxMs: number;
}

/** An event given explicitly (tests): served as is. */
export interface ExplicitEvent {
  readonly orgId?: string;
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
  /** Generated events per minute per (org, service) stream; 0 for none. */
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

/** What the store knows about an event without rendering it. */
export interface Skeleton {
  readonly ms: number;
  readonly subNs: number;
  readonly id: string;
  readonly timestamp: string;
  readonly visibleAt: number;
  readonly stream: number;
  readonly variant: number;
  /** Set for explicit events. */
  readonly text?: string;
}

export interface Stream {
  readonly orgId: string;
  readonly service: string;
  /** Value of `organization` in generated events. */
  readonly organization: string;
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
  /** Only events it accepts (the query's search_term). */
  readonly match?: (s: Skeleton) => boolean;
}

/** Distinct event bodies per stream (id and timestamp always differ). */
const PREFIX_POOL = 512;

const BUCKET_SIZES = [1_000, 5_000, 10_000, 60_000, 300_000, 600_000, 3_600_000];

export class EventStore {
  readonly streams: Stream[] = [];
  readonly bucketMs: number;
  private readonly streamIndex = new Map<string, number>();
  private readonly explicit = new Map<string, Skeleton[]>(); // `${stream}:${bucket}` → events
  private explicitMinMs = Infinity;
  private explicitMaxMs = -Infinity;
  private readonly cache = new Map<string, Skeleton[]>();
  private cached = 0;
  private readonly prefixes: Buffer[][] = [];
  private readonly cacheLimit: number;

  constructor(private readonly opts: EventStoreOptions) {
    for (const orgId of opts.orgs) for (const service of opts.services) this.addStream(orgId, service);
    // Aim at a few hundred to two thousand events per stream and bucket.
    const perMin = Math.max(opts.eventsPerMinute, 1e-9);
    this.bucketMs = [...BUCKET_SIZES].reverse().find((b) => (perMin * b) / 60_000 <= 2_000) ?? BUCKET_SIZES[0]!;
    this.cacheLimit = opts.cacheLimit ?? 300_000;
    for (const e of opts.events ?? []) this.addExplicit(e);
  }

  /** Index of the stream, or undefined. */
  stream(orgId: string, service: string): number | undefined {
    return this.streamIndex.get(`${orgId}\u0000${service}`);
  }

  /** Streams a query for `service` over `orgIds` reads: `all` is every service of those orgs. */
  /** `hiddenFromAll`: services that `all` leaves out (as the real `all` is reported to do for some). */
  streamsFor(orgIds: readonly string[], service: string, hiddenFromAll?: ReadonlySet<string>): number[] {
    const out: number[] = [];
    this.streams.forEach((s, i) => {
      const inAll = service === 'all' && !hiddenFromAll?.has(s.service);
      if (orgIds.includes(s.orgId) && (inAll || s.service === service)) out.push(i);
    });
    return out;
  }

  /** The service of stream `i` (an index streamsFor returned). */
  serviceOf(i: number): string {
    return this.streams[i]!.service;
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
    if (s.text !== undefined) return Buffer.from(s.text, 'utf8');
    const prefix = this.prefix(s);
    const suffix = suffixOf(s);
    const out = Buffer.allocUnsafe(prefix.length + suffix.length);
    prefix.copy(out, 0);
    out.write(suffix, prefix.length, 'latin1');
    return out;
  }

  /**
   * A JSON array of the events as UTF-8 bytes, written into one buffer: body prefixes are encoded once per
   * stream, so a 10,000-event page costs copies rather than a 15 MB string join and re-encode.
   */
  page(events: readonly Skeleton[]): Buffer {
    let total = 2 + Math.max(0, events.length - 1);
    const parts: (Buffer | string)[] = [];
    for (const s of events) {
      if (s.text !== undefined) {
        const b = Buffer.from(s.text, 'utf8');
        parts.push(b, '');
        total += b.length;
      } else {
        const prefix = this.prefix(s);
        const suffix = suffixOf(s);
        parts.push(prefix, suffix);
        total += prefix.length + suffix.length;
      }
    }
    const out = Buffer.allocUnsafe(total);
    let pos = 0;
    out[pos++] = 0x5b;
    for (let i = 0; i < parts.length; i += 2) {
      if (i > 0) out[pos++] = 0x2c;
      pos += (parts[i] as Buffer).copy(out, pos);
      // id and timestamp are generated ASCII (hex, UUID, RFC 3339): nothing to escape, one byte per char.
      pos += out.write(parts[i + 1] as string, pos, 'latin1');
    }
    out[pos++] = 0x5d;
    return out;
  }

  private prefix(s: Skeleton): Buffer {
    let pool = this.prefixes[s.stream];
    if (!pool) {
      const { service, organization } = this.streams[s.stream]!;
      pool = this.prefixes[s.stream] = Array.from({ length: PREFIX_POOL }, (_, v) => Buffer.from(renderPrefix(service, hash32(this.opts.seed, s.stream, v), organization), 'utf8'));
    }
    return pool[s.variant % PREFIX_POOL]!;
  }

  private walk(range: ScanRange, visit: (s: Skeleton) => boolean): void {
    if (range.streams.length === 0) return;
    const lowMs = range.after ? Math.max(range.after.ms, range.start.ms) : range.start.ms;
    let highMs = Math.min(range.end.ms, range.visibleAt);
    const genEnd = this.opts.eventsPerMinute > 0 ? (this.opts.toMs === 'live' ? Infinity : this.opts.toMs) : -Infinity;
    highMs = Math.min(highMs, Math.max(genEnd, this.explicitMaxMs));
    const genStart = this.opts.eventsPerMinute > 0 ? this.opts.fromMs : Infinity;
    const firstMs = Math.max(lowMs, Math.min(genStart, this.explicitMinMs));
    if (!(firstMs <= highMs)) return;
    const lastBucket = Math.floor(highMs / this.bucketMs);
    for (let b = Math.floor(firstMs / this.bucketMs); b <= lastBucket; b++) {
      const events = this.bucket(range.streams, b);
      let i = 0;
      if (range.after && b === Math.floor(range.after.ms / this.bucketMs)) i = upperBound(events, range.after.ms, range.after.id);
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
    const generated = this.generate(stream, b);
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

  private generate(stream: number, b: number): Skeleton[] {
    const { eventsPerMinute: rate, fromMs, toMs, seed, indexDelay } = this.opts;
    const bStart = b * this.bucketMs;
    const bEnd = bStart + this.bucketMs - 1;
    const to = toMs === 'live' ? Infinity : toMs;
    if (rate <= 0 || bEnd < fromMs || bStart > to) return [];
    const r = prng(hash32(seed, stream, b));
    // Bursty: the bucket's mean varies between half and one and a half times the rate.
    const mean = ((rate * this.bucketMs) / 60_000) * (0.5 + r());
    const n = Math.floor(mean) + (r() < mean % 1 ? 1 : 0);
    const service = this.streams[stream]!.service;
    const machine = hex(hash32(seed, stream, 0x5eed), 8) + hex(hash32(seed, stream, 0xbeef), 2);
    const raw: { ms: number; subNs: number; digits: 0 | 3 | 6 | 9; k: number; variant: number; delay: number; uuid?: string }[] = [];
    let prevMs = bStart;
    for (let k = 0; k < n; k++) {
      // Some events share a millisecond with the previous one: the paging tie case.
      let ms = k > 0 && r() < 0.15 ? prevMs : bStart + Math.floor(r() * this.bucketMs);
      prevMs = ms;
      let subNs = Math.floor(r() * 1_000_000);
      const p = r();
      const digits: 0 | 3 | 6 | 9 = p < 0.1 ? 0 : p < 0.6 ? 3 : p < 0.8 ? 6 : 9;
      if (digits === 0) {
        ms -= ms % 1000;
        subNs = 0;
      } else if (digits === 3) subNs = 0;
      else if (digits === 6) subNs -= subNs % 1000;
      const variant = (r() * 4294967296) >>> 0;
      const delay = indexDelayMs(r, indexDelay);
      const id = service === 'radius' ? uuid(r) : undefined;
      if (ms < fromMs || ms > to) continue;
      raw.push({ ms, subNs, digits, k, variant, delay, uuid: id });
    }
    raw.sort((a, b) => a.ms - b.ms);
    const out: Skeleton[] = [];
    for (const e of raw) {
      const id = e.uuid ?? hex(Math.floor(e.ms / 1000), 8) + machine + hex(e.k, 6);
      out.push({ ms: e.ms, subNs: e.subNs, id, timestamp: formatInstant(e, e.digits), visibleAt: e.ms + e.delay, stream, variant: e.variant });
    }
    return out.sort(byMsThenId);
  }

  private addStream(orgId: string, service: string): number {
    const key = `${orgId}\u0000${service}`;
    let i = this.streamIndex.get(key);
    if (i === undefined) {
      i = this.streams.length;
      const organization = /^[0-9a-f]{24}$/.test(orgId) ? orgId : hex(hash32(this.opts.seed, hashString(orgId)), 8) + hex(hashString(`org:${orgId}`), 8) + hex(hash32(hashString(orgId), 7), 8);
      this.streams.push({ orgId, service, organization });
      this.streamIndex.set(key, i);
    }
    return i;
  }

  private addExplicit(e: ExplicitEvent): void {
    const text = typeof e.event === 'string' ? e.event : JSON.stringify(e.event);
    const obj = JSON.parse(text) as { id?: unknown; timestamp?: unknown };
    if (typeof obj.id !== 'string' || typeof obj.timestamp !== 'string') throw new Error('explicit simulator event needs string "id" and "timestamp"');
    const t = parseRfc3339(obj.timestamp);
    if (!t) throw new Error(`explicit simulator event ${obj.id}: timestamp "${obj.timestamp}" is not RFC 3339`);
    const stream = this.addStream(e.orgId ?? '', e.service);
    const b = Math.floor(t.ms / this.bucketMs);
    const key = `${stream}:${b}`;
    const list = this.explicit.get(key) ?? [];
    list.push({ ms: t.ms, subNs: t.subNs, id: obj.id, timestamp: obj.timestamp, visibleAt: e.visibleAt ?? t.ms, stream, variant: 0, text });
    this.explicit.set(key, list);
    this.explicitMinMs = Math.min(this.explicitMinMs, t.ms);
    this.explicitMaxMs = Math.max(this.explicitMaxMs, t.ms);
  }
}

function suffixOf(s: Skeleton): string {
  return `"id":"${s.id}","timestamp":"${s.timestamp}"}`;
}

function indexDelayMs(r: Rng, d: IndexDelay): number {
  const u = r();
  const v = r();
  if (d.maxMs <= 0) return 0;
  if (u < d.lateFraction && d.maxMs > d.typicalMaxMs) return Math.floor(d.typicalMaxMs + v * (d.maxMs - d.typicalMaxMs));
  return Math.floor(v * Math.min(d.typicalMaxMs, d.maxMs));
}

function uuid(r: Rng): string {
  const h = hex(r() * 4294967296, 8) + hex(r() * 4294967296, 8) + hex(r() * 4294967296, 8) + hex(r() * 4294967296, 8);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`.toUpperCase();
}

function byMsThenId(a: { ms: number; id: string }, b: { ms: number; id: string }): number {
  return a.ms !== b.ms ? a.ms - b.ms : a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
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
