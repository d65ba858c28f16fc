// The query rewrite of the services check (engine/services.ts, --services all): the DI client the streams query
// through, in which `all`'s queries also name the services `all` misses from their handover instant on, and a missed
// service's catch-up queries end before it. A query of `all` that spans a handover is split there (events are served
// in time order, so its pages stay in order); its part before the handover drops the missed service's events (and
// counts without them), in case `all` started returning it within that overlap.
import { ColumnarPageEvents, FIELDS } from '../../di/page-events.js';
import { compareInstants, parseRfc3339, type Instant } from '../../di/rfc3339.js';
import type { DiBucket, DiClient, DiInterval, DiPage, DiQuery } from '../../types.js';
import { isoMillis } from '../state/timestamp.js';

/** A service `all` misses: from `handover` on, `all`'s query names it; before it, its catch-up stream's queries. */
export interface Handover {
  readonly service: string;
  /** Epoch ms. */
  readonly handover: number;
}

/** A query whose count is added (1) or taken away (-1). */
interface CountTerm {
  readonly query: DiQuery;
  readonly sign: 1 | -1;
}

/** One part of a rewritten query, with the services whose events its pages must drop. */
interface Part {
  readonly query: DiQuery;
  readonly exclude: string[];
}

export class ServiceQueries {
  constructor(
    /** The services `all` misses for the query's org (none: the query stands as it is). */
    private readonly missedOf: (query: DiQuery) => readonly Handover[],
  ) {}

  /** The DI client the streams use: `all` queries name the missed services, catch-up queries end before B. */
  wrap(inner: DiClient): DiClient {
    return {
      pages: (query, signal) => this.pages(inner, query, signal),
      count: (query, signal) => this.count(inner, query, signal),
      ...(inner.interval
        ? {
            interval: (query: DiQuery, iv: DiInterval, signal?: AbortSignal) => this.interval(inner, query, iv, signal),
          }
        : {}),
      ...(inner.distinct ? { distinct: inner.distinct.bind(inner) } : {}),
      close: () => inner.close(),
    };
  }

  /** The queries that stand for `query`, in time order, with the services each names and must leave out. */
  private plan(query: DiQuery): Part[] | 'empty' | undefined {
    const missed = this.missedOf(query);
    if (missed.length === 0) return undefined;
    const qs = parseRfc3339(query.start);
    const qe = parseRfc3339(query.end);
    if (!qs || !qe) return undefined; // the client refuses it with a clear error
    if (query.service !== 'all') return catchUpPlan(query, missed, qs, qe);
    // Split points strictly inside the window (a query ending exactly at B leaves B to the next one).
    const cuts = [...new Set(missed.map((m) => m.handover))]
      .filter((b) => b > qs.ms && compareInstants(qe, { ms: b, subNs: 0 }) > 0)
      .sort((a, b) => a - b);
    const out: Part[] = [];
    let from = query.start;
    let fromMs = qs.ms;
    for (const cut of [...cuts, undefined]) {
      const to = cut === undefined ? query.end : isoMillis(cut - 1);
      const named = missed.filter((m) => m.handover <= fromMs).map((m) => m.service);
      const exclude = missed.filter((m) => m.handover > fromMs).map((m) => m.service);
      if (cut === undefined || compareInstants(parseRfc3339(from)!, parseRfc3339(to)!) < 0) {
        const also = named.length ? { alsoServices: [...(query.alsoServices ?? []), ...named] } : {};
        out.push({ query: { ...query, start: from, end: to, ...also }, exclude });
      }
      if (cut !== undefined) {
        from = isoMillis(cut);
        fromMs = cut;
      }
    }
    return out;
  }

  private async *pages(inner: DiClient, query: DiQuery, signal?: AbortSignal): AsyncIterable<DiPage> {
    const plan = this.plan(query);
    if (plan === 'empty') return;
    if (!plan) {
      yield* inner.pages(query, signal);
      return;
    }
    for (const part of plan) {
      for await (const page of inner.pages(part.query, signal)) {
        yield part.exclude.length ? withoutServices(page, part.exclude) : page;
      }
    }
  }

  private async count(inner: DiClient, query: DiQuery, signal?: AbortSignal): Promise<number> {
    let n = 0;
    for (const t of this.countTerms(query)) n += t.sign * (await inner.count(t.query, signal));
    return n;
  }

  /** `/events/interval` of what the pages of `query` hold: the same terms as count(), bucket by bucket. */
  private async interval(inner: DiClient, query: DiQuery, iv: DiInterval, signal?: AbortSignal): Promise<DiBucket[]> {
    const counts = new Map<number, number>();
    for (const t of this.countTerms(query)) addBuckets(counts, await inner.interval!(t.query, iv, signal), t.sign);
    return [...counts]
      .filter(([, n]) => n > 0)
      .sort((a, b) => a[0] - b[0])
      .map(([key, count]) => ({ key, count }));
  }

  /** The queries whose counts, each added with its sign, count what the pages of `query` hold under the plan. */
  private countTerms(query: DiQuery): CountTerm[] {
    const plan = this.plan(query);
    if (plan === 'empty') return [];
    if (!plan) return [{ query, sign: 1 }];
    return plan.flatMap((part): CountTerm[] => {
      if (part.exclude.length === 0) return [{ query: part.query, sign: 1 }];
      // (all ∪ named ∪ excluded) − excluded: what the part's pages hold once the excluded services are dropped.
      const also = [...(part.query.alsoServices ?? []), ...part.exclude];
      return [
        { query: { ...part.query, alsoServices: also }, sign: 1 },
        { query: { ...part.query, service: part.exclude[0]!, alsoServices: part.exclude.slice(1) }, sign: -1 },
      ];
    });
  }
}

/** A catch-up stream's query: only events before the handover are its own. */
function catchUpPlan(
  query: DiQuery,
  missed: readonly Handover[],
  qs: Instant,
  qe: Instant,
): Part[] | 'empty' | undefined {
  const m = missed.find((x) => x.service === query.service);
  if (!m) return undefined;
  const last: Instant = { ms: m.handover - 1, subNs: 0 };
  if (compareInstants(qe, last) <= 0) return undefined;
  if (compareInstants(qs, last) >= 0) return 'empty';
  return [{ query: { ...query, end: isoMillis(last.ms) }, exclude: [] }];
}

/** Bucket counts added (sign 1) or taken away (-1) by key: parts of one window meet inside a bucket at a cut. */
function addBuckets(into: Map<number, number>, buckets: readonly DiBucket[], sign: 1 | -1): void {
  for (const b of buckets) into.set(b.key, (into.get(b.key) ?? 0) + sign * b.count);
}

/** The page without the events of `services` (an event's top-level "service"); the same page when it has none. */
export function withoutServices(page: DiPage, services: readonly string[]): DiPage {
  const { events } = page;
  const needles = services.map((s) => Buffer.from(JSON.stringify(s)));
  if (!needles.some((n) => events.body.indexOf(n) >= 0)) return page;
  const keep: number[] = [];
  for (let i = 0; i < events.length; i++) {
    const r = events.raw(i);
    const raw = Buffer.from(r.buffer, r.byteOffset, r.byteLength);
    if (needles.some((n) => raw.indexOf(n) >= 0)) {
      const service = (JSON.parse(raw.toString('utf8')) as { service?: unknown }).service;
      if (typeof service === 'string' && services.includes(service)) continue;
    }
    keep.push(i);
  }
  if (keep.length === events.length) return page;
  const offsets = new Uint32Array(FIELDS * keep.length);
  const escapes = new Uint8Array(keep.length);
  keep.forEach((i, k) => {
    const e = events;
    const spans = [e.start[i]!, e.end[i]!, e.idStart[i]!, e.idEnd[i]!, e.tsStart[i]!, e.tsEnd[i]!];
    offsets.set([...spans, e.orgStart[i]!, e.orgEnd[i]!], FIELDS * k);
    escapes[k] = events.escapes[i]!;
  });
  return { ...page, events: new ColumnarPageEvents(events.body, keep.length, offsets, escapes) };
}
