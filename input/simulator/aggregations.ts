// POST /events/interval and /events/distinct: the API's two aggregations (di-openapi.yaml), computed over
// the same range and visibility as /events and /events/count. Bodies are Elasticsearch's bucket shapes,
// as the published schemas give them.
import type { EventStore, ScanRange } from './events.js';

export class AggregationError extends Error {}

const UNIT_MS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 } as const;
type Unit = keyof typeof UNIT_MS;
/** Like Elasticsearch's search.max_buckets: a query that would need more is refused, not truncated. */
export const MAX_BUCKETS = 10_000;
/** Distinct values returned; the rest is summed in sum_other_doc_count, as a terms aggregation does. */
export const MAX_DISTINCT = 1_000;

export interface IntervalBucket {
  key: number;
  key_as_string: string;
  doc_count: number;
}
export interface DistinctBucket {
  key: string;
  doc_count: number;
}

/** "+0530", "-05:00", "Z" or "" → offset in ms east of UTC. */
function offsetMs(tz: unknown): number {
  if (tz === undefined || tz === '' || tz === 'Z' || tz === 'UTC') return 0;
  const m = typeof tz === 'string' ? /^([+-])([01]\d|2[0-3]):?([0-5]\d)$/.exec(tz) : null;
  if (!m) throw new AggregationError(`invalid timezone "${String(tz)}": expected an offset such as -0500 or +05:30`);
  return (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3])) * 60_000;
}

/** Bucketed counts: buckets of interval_value × interval_unit, aligned in the caller's timezone. */
export function intervalBuckets(
  store: EventStore,
  range: ScanRange,
  body: Record<string, unknown>,
): { buckets: IntervalBucket[] } {
  const unit = body.interval_unit;
  if (typeof unit !== 'string' || !(unit in UNIT_MS))
    throw new AggregationError(`interval_unit is required: one of ${Object.keys(UNIT_MS).join(', ')}`);
  const raw = body.interval_value ?? '1';
  if (typeof raw !== 'string' || !/^[1-9]\d{0,5}$/.test(raw))
    throw new AggregationError(
      `invalid interval_value "${String(raw)}": a positive whole number, as a string (e.g. "2")`,
    );
  const width = Number(raw) * UNIT_MS[unit as Unit];
  const shift = offsetMs(body.timezone);
  if ((range.end.ms - range.start.ms) / width > MAX_BUCKETS) {
    throw new AggregationError(
      `the range needs more than ${MAX_BUCKETS} buckets of ${raw}${unit}: use a larger interval or a shorter range`,
    );
  }
  const counts = new Map<number, number>();
  store.each(range, (s) => {
    const key = Math.floor((s.ms + shift) / width) * width - shift;
    counts.set(key, (counts.get(key) ?? 0) + 1);
    return true;
  });
  const buckets = [...counts]
    .sort((a, b) => a[0] - b[0])
    .map(([key, doc_count]) => ({ key, key_as_string: new Date(key).toISOString(), doc_count }));
  return { buckets };
}

function fieldValue(event: unknown, path: readonly string[]): unknown {
  let v: unknown = event;
  for (const k of path) {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return undefined;
    v = (v as Record<string, unknown>)[k];
  }
  return v;
}

/** Distinct values of `field` (a dotted path) with their counts, commonest first. */
export function distinctBuckets(
  store: EventStore,
  range: ScanRange,
  body: Record<string, unknown>,
): { buckets: DistinctBucket[]; doc_count_error_upper_bound: number; sum_other_doc_count: number } {
  const field = body.field;
  if (typeof field !== 'string' || field.trim() === '')
    throw new AggregationError('field is required: the event field to list the values of, e.g. event_type');
  const path = field.split('.');
  const counts = new Map<string, number>();
  store.each(range, (s) => {
    const v = fieldValue(JSON.parse(store.text(s)), path);
    for (const x of Array.isArray(v) ? v : [v]) {
      if (typeof x === 'string' || typeof x === 'number' || typeof x === 'boolean')
        counts.set(String(x), (counts.get(String(x)) ?? 0) + 1);
    }
    return true;
  });
  const all = [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  const buckets = all.slice(0, MAX_DISTINCT).map(([key, doc_count]) => ({ key, doc_count }));
  const other = all.slice(MAX_DISTINCT).reduce((n, [, c]) => n + c, 0);
  return { buckets, doc_count_error_upper_bound: 0, sum_other_doc_count: other };
}
