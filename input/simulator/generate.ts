// The generated events of one stream in one time bucket, derived from (seed, stream, bucket) alone: how many
// (bursty around the rate), when (some sharing a millisecond: the paging tie case), how late each is indexed,
// and its id and timestamp in the service's spelling. The body is the store's business (pool.ts).
import { serviceFormat } from './catalog.js';
import { hash32, hex, prng, type Rng } from './random.js';
import { eventId, stampTime } from './stamp.js';

export interface IndexDelay {
  /** Most events are visible within this many ms of their timestamp. Default 5 s. */
  readonly typicalMaxMs: number;
  /** Fraction of events indexed late, uniformly between typicalMaxMs and maxMs. Default 0.02. */
  readonly lateFraction: number;
  /** Latest indexing delay. Default 30 min. */
  readonly maxMs: number;
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
  /** Explicit events: done by a provider's admin (generated ones: their pool body says). */
  readonly providerActivity?: boolean;
}

export interface BucketSpec {
  readonly seed: number;
  readonly stream: number;
  readonly service: string;
  readonly bucket: number;
  readonly bucketMs: number;
  /** Events per minute of the stream. */
  readonly rate: number;
  readonly fromMs: number;
  readonly toMs: number;
  readonly indexDelay: IndexDelay;
}

/** The bucket's events, sorted by (ms, id). */
export function generateBucket(g: BucketSpec): Skeleton[] {
  const bStart = g.bucket * g.bucketMs;
  const bEnd = bStart + g.bucketMs - 1;
  if (g.rate <= 0 || bEnd < g.fromMs || bStart > g.toMs) return [];
  const r = prng(hash32(g.seed, g.stream, g.bucket));
  // Bursty: the bucket's mean varies between half and one and a half times the rate.
  const mean = ((g.rate * g.bucketMs) / 60_000) * (0.5 + r());
  const n = Math.floor(mean) + (r() < mean % 1 ? 1 : 0);
  const format = serviceFormat(g.service);
  const machine = hex(hash32(g.seed, g.stream, 0x5eed), 8) + hex(hash32(g.seed, g.stream, 0xbeef), 2);
  const out: Skeleton[] = [];
  let prevMs = bStart;
  for (let k = 0; k < n; k++) {
    const at = k > 0 && r() < 0.15 ? prevMs : bStart + Math.floor(r() * g.bucketMs);
    prevMs = at;
    const t = stampTime(format.time, at, r);
    const variant = (r() * 4294967296) >>> 0;
    const delay = indexDelayMs(r, g.indexDelay);
    const id = eventId(format.id, t.ms, machine, k, r);
    if (t.ms < g.fromMs || t.ms > g.toMs) continue;
    out.push({
      ms: t.ms,
      subNs: t.subNs,
      id,
      timestamp: t.timestamp,
      visibleAt: t.ms + delay,
      stream: g.stream,
      variant,
    });
  }
  return out.sort(byMsThenId);
}

function indexDelayMs(r: Rng, d: IndexDelay): number {
  const u = r();
  const v = r();
  if (d.maxMs <= 0) return 0;
  if (u < d.lateFraction && d.maxMs > d.typicalMaxMs) {
    return Math.floor(d.typicalMaxMs + v * (d.maxMs - d.typicalMaxMs));
  }
  return Math.floor(v * Math.min(d.typicalMaxMs, d.maxMs));
}

export function byMsThenId(a: { ms: number; id: string }, b: { ms: number; id: string }): number {
  return a.ms !== b.ms ? a.ms - b.ms : a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}
