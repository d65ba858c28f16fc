// Completeness by counts: which parts of a window are fetched, from /events/interval buckets and the forwarded ids
// per bucket, and the one query that names them. (Against the simulator: test/integration/collector/
// overlap-counts.test.ts.)
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  MAX_BUCKETS,
  MERGE_GAP_EVENTS,
  bucketFor,
  partsTerm,
  partsToFetch,
} from '../../../input/collector/fetch/overlap-counts.js';
import { SeenIds } from '../../../input/collector/delivery/seen-ids.js';
import { memoryLogger } from '../../support/fakes.js';

const S = 1000;
const none = new Map<number, number>();
/** Forwarded counts per bucket from a list of (bucket index → count). */
const fwd =
  (counts: Record<number, number>) =>
  (origin: number, n: number): Uint32Array => {
    void origin;
    const a = new Uint32Array(n);
    for (const [i, c] of Object.entries(counts)) if (Number(i) < n) a[Number(i)] = c;
    return a;
  };

describe('partsToFetch', () => {
  it('fetches only the buckets holding more events than were forwarded; equal or fewer (deleted) are left alone', () => {
    const buckets = [
      { key: 0, count: 5 },
      { key: S, count: 3 },
      { key: 2 * S, count: 2 },
      { key: 50 * S, count: 4 },
    ];
    const parts = partsToFetch(buckets, S, fwd({ 0: 5, 1: 2, 2: 3, 50: 4 }), 0, 100 * S, none);
    expect(parts.map((p) => [p.from, p.to])).toEqual([[S, 2 * S]]);
  });

  it('clips buckets to the window and merges differing buckets separated by few events into one range', () => {
    const buckets = [
      { key: 0, count: 1 },
      { key: S, count: MERGE_GAP_EVENTS },
      { key: 2 * S, count: 1 },
      { key: 3 * S, count: MERGE_GAP_EVENTS + 1 },
      { key: 4 * S, count: 1 },
    ];
    // buckets 0, 2 and 4 differ; 1 and 3 match (their events would be downloaded needlessly by a merge)
    const parts = partsToFetch(
      buckets,
      S,
      fwd({ 1: MERGE_GAP_EVENTS, 3: MERGE_GAP_EVENTS + 1 }),
      500,
      4 * S + 300,
      none,
    );
    expect(parts.map((p) => [p.from, p.to])).toEqual([
      [500, 3 * S],
      [4 * S, 4 * S + 300],
    ]);
    expect([...parts[0]!.counts.keys()]).toEqual([0, 2 * S]);
  });

  it('a bucket fetched at its current count is not fetched again until the count changes', () => {
    const buckets = [{ key: 10 * S, count: 3 }];
    expect(partsToFetch(buckets, S, fwd({}), 0, 20 * S, new Map([[10 * S, 3]]))).toEqual([]);
    expect(partsToFetch(buckets, S, fwd({}), 0, 20 * S, new Map([[10 * S, 2]]))).toHaveLength(1);
  });

  it('every event the API counts beyond the forwarded ones lies in a fetched part (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(200), fc.nat(6), fc.nat(6)), { maxLength: 60 }), (spec) => {
        const byKey = new Map<number, [number, number]>();
        for (const [i, api, f] of spec) byKey.set(i, [api, f]);
        const keys = [...byKey.keys()].sort((a, b) => a - b);
        const buckets = keys.map((i) => ({ key: i * S, count: byKey.get(i)![0] })).filter((b) => b.count > 0);
        if (buckets.length === 0) return;
        const origin = buckets[0]!.key;
        const forwarded = (o: number, n: number): Uint32Array => {
          const a = new Uint32Array(n);
          for (const [i, [, f]] of byKey) {
            const j = (i * S - o) / S;
            if (j >= 0 && j < n) a[j] = f;
          }
          return a;
        };
        const parts = partsToFetch(buckets, S, forwarded, 0, 201 * S, none);
        for (const b of buckets) {
          const f = forwarded(origin, 202)[(b.key - origin) / S]!;
          const inPart = parts.some((p) => p.from <= b.key && b.key + S <= p.to);
          if (b.count > f) expect(inPart, `bucket ${b.key}`).toBe(true);
        }
        // Parts are disjoint and in order.
        for (let i = 1; i < parts.length; i++) expect(parts[i]!.from).toBeGreaterThanOrEqual(parts[i - 1]!.to);
      }),
    );
  });

  it('buckets are whole seconds for an hour, coarser for longer windows, never more than MAX_BUCKETS', () => {
    expect(bucketFor(3_600_000)).toMatchObject({ unit: 's', value: 1 });
    for (const span of [1, 3_600_000, 86_400_000, 30 * 86_400_000])
      expect(span / bucketFor(span).ms).toBeLessThanOrEqual(MAX_BUCKETS);
  });
});

describe('one query for the parts (search_term)', () => {
  it('ORs the ranges of several parts (opened 1 ms early) and excludes the ids already forwarded there', () => {
    const parts = [
      { from: 10 * S, to: 11 * S, counts: none },
      { from: 40 * S, to: 42 * S, counts: none },
    ];
    expect(partsTerm(parts.slice(0, 1), [])).toBeUndefined(); // the plain range says it all
    expect(partsTerm(parts.slice(0, 1), ['a'])).toEqual({ and: [{ field: 'id', operator: 'not_in', value: ['a'] }] });
    expect(partsTerm(parts, ['a', 'b'])).toEqual({
      and: [
        {
          or: [
            {
              and: [
                { field: 'timestamp', operator: 'after', value: '1970-01-01T00:00:09.999Z' },
                { field: 'timestamp', operator: 'before', value: '1970-01-01T00:00:11.000Z' },
              ],
            },
            {
              and: [
                { field: 'timestamp', operator: 'after', value: '1970-01-01T00:00:39.999Z' },
                { field: 'timestamp', operator: 'before', value: '1970-01-01T00:00:42.000Z' },
              ],
            },
          ],
        },
        { field: 'id', operator: 'not_in', value: ['a', 'b'] },
      ],
    });
  });

  it('the id journal names the delivered ids of the ranges (not those in flight), at most max + 1', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'ids-in-'));
    try {
      const seen = await SeenIds.open(path.join(dir, 'x.ids'), {
        maxIds: 1000,
        logger: memoryLogger(),
        stream: { org: '', service: 'x' },
      });
      const ids = Array.from({ length: 50 }, (_, i) => ({ id: `5f${i.toString(16).padStart(22, '0')}`, ts: i * 100 }));
      seen.commit(ids);
      seen.reserve('ffffffffffffffffffffffff'); // in flight: no time yet
      const ranges = [
        { from: 0, to: 250 },
        { from: 1000, to: 1001 },
        { from: 4850, to: 10_000 },
      ];
      expect(seen.idsIn(ranges, 100).sort()).toEqual([0, 1, 2, 10, 49].map((i) => ids[i]!.id).sort());
      expect(seen.idsIn([{ from: 0, to: 10_000 }], 9)).toHaveLength(10);
      await seen.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
