// Completeness by counts against the simulator: late events still arrive at about one download per event, also
// from an API that ignores, refuses or fails search_term; the simulator's /events/interval. (Which parts of a
// window are fetched: test/unit/collector/overlap-counts.test.ts.)
import { describe, expect, it } from 'vitest';
import { overlapCost } from '../../bench/overlap.bench.ts';

describe('completeness by counts against the simulator (live, 2 % late)', () => {
  it('late events still arrive, nothing repeats, and downloads stay about one per forwarded event (5 events/s)', async () => {
    const c = await overlapCost({ mode: 'counts', streams: 1, rate: 5, minutes: 10 });
    expect(c.missing).toBe(0);
    expect(c.forwarded).toBeGreaterThan(2000);
    expect(c.downloaded / c.forwarded).toBeLessThanOrEqual(1.1);
    expect(c.requests / c.polls).toBeLessThanOrEqual(3);
    expect(c.warnings).toEqual([]);
  }, 120_000);

  it(
    'an API that ignores, refuses or fails search_term: the parts are fetched one query each, still complete and ' +
      'without repeats',
    async () => {
      const says = {
        ignore: 'ignored search_term',
        refuse: 'refused search_term',
        fail: 'a query with search_term failed',
      };
      for (const searchTerm of ['ignore', 'refuse', 'fail'] as const) {
        const c = await overlapCost({ mode: 'counts', streams: 2, rate: 0.5, minutes: 8, searchTerm });
        expect(c.missing, searchTerm).toBe(0); // overlapCost throws on an event forwarded twice
        expect(c.forwarded, searchTerm).toBeGreaterThan(300);
        expect(c.downloaded / c.forwarded, searchTerm).toBeLessThanOrEqual(1.3);
        expect(
          c.warnings.some((w) => w.includes(says[searchTerm])),
          `${searchTerm}: ${c.warnings.join('; ')}`,
        ).toBe(true);
      }
    },
    360_000,
  );
});

describe("the simulator's /events/interval", () => {
  it('buckets aligned to the interval, only those holding events, summing to /events/count; bad units refused', async () => {
    const { startSimulator } = await import('../../../input/simulator/server.js');
    const { createDiClient } = await import('../../../input/di/client.js');
    const to = Date.now() - 60_000;
    const sim = await startSimulator({
      seed: 3,
      services: ['directory'],
      eventsPerMinute: 30,
      from: to - 3_600_000,
      to,
      indexDelay: { lateFraction: 0 },
    });
    const di = createDiClient({
      apiUrl: sim.url,
      auth: { kind: 'apiKey', apiKey: sim.apiKey },
      pageLimit: 1000,
      requestTimeoutMs: 10_000,
      logger: { debug() {}, info() {}, warn() {}, error() {} },
    });
    try {
      const q = {
        service: 'directory',
        start: new Date(to - 3_600_000).toISOString(),
        end: new Date(to).toISOString(),
      };
      for (const iv of [
        { unit: 's' as const, value: 1 },
        { unit: 'm' as const, value: 5 },
      ]) {
        const buckets = await di.interval!(q, iv);
        const ms = iv.unit === 's' ? 1000 : 300_000;
        expect(buckets.length).toBeGreaterThan(0);
        for (const b of buckets) {
          expect(b.key % ms).toBe(0);
          expect(b.count).toBeGreaterThan(0);
        }
        expect(buckets.reduce((n, b) => n + b.count, 0)).toBe(await di.count(q));
      }
      const bad = await fetch(`${sim.url}/events/interval`, {
        method: 'POST',
        headers: { 'x-api-key': sim.apiKey },
        body: JSON.stringify({ service: ['directory'], start_time: q.start, interval_unit: 'x' }),
      });
      expect(bad.status).toBe(400);
    } finally {
      await di.close();
      await sim.close();
    }
  });
});
