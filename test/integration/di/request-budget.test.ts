// The global request budget (fair round-robin turns at a fixed rate, a global pause on 429) and the page
// memory budget, on their own and inside the DI client against the simulator.
import { describe, expect, it } from 'vitest';
import { ByteBudget } from '../../../input/di/byte-budget.js';
import { ConfigError, loadConfig } from '../../../input/config.js';
import { createDiClient } from '../../../input/di/client.js';
import { RequestBudget } from '../../../input/di/request-budget.js';
import { systemClock } from '../../../input/clock.js';
import type { DiQuery } from '../../../input/types.js';
import type { Clock } from '../../../input/types.js';
import { closedAfterEach, iso, manualClock } from '../../support/simulator.js';

/**
 * Virtual time: a sleep moves the clock forward after the callers resolved so far have run (unlike manualClock, whose
 * sleep moves it at once).
 */
function steppingClock(start: number): Clock {
  let t = start;
  return {
    now: () => t,
    sleep: async (ms) => {
      await new Promise((r) => setImmediate(r));
      t += ms;
    },
  };
}

const T0 = Date.UTC(2026, 5, 1, 12, 0, 0);
const { closers, sim } = closedAfterEach();

describe('RequestBudget', () => {
  it(
    'never gives more turns than the budget in any second, paces them 1/rate apart, and keeps up the budget on ' +
      'average',
    async () => {
      const clock = steppingClock(T0);
      const budget = new RequestBudget(10, clock);
      const at: number[] = [];
      await Promise.all(
        Array.from({ length: 200 }, (_, i) => budget.take(`org${i % 7}/directory`).then(() => at.push(clock.now()))),
      );
      expect(at).toHaveLength(200);
      at.sort((a, b) => a - b);
      // Turn i + 10 comes at least 1 s after turn i: no second holds more than 10.
      for (let i = 0; i + 10 < at.length; i++) expect(at[i + 10]! - at[i]!).toBeGreaterThanOrEqual(1000);
      // Paced, not a second's worth at once: after the first few (the catch-up allowance, 250 ms of turns), one turn
      // every 100 ms...
      const first = at.findIndex((t, i) => i > 0 && t > at[0]!);
      expect(first).toBeLessThanOrEqual(1 + 250 / 100);
      for (let i = first; i + 1 < at.length; i++)
        expect(at[i + 1]! - at[i]!, `turns ${i} and ${i + 1}`).toBeGreaterThanOrEqual(100);
      // ...and not slower either: 200 turns in 20 s.
      expect(at.at(-1)! - at[0]!).toBeLessThanOrEqual(20 * 1000);
    },
  );

  it("an early timer (Node counts timers from the loop's cached time) gives no turn before the clock says it is due", async () => {
    // A busy loop: every sleep ends 30 ms early by the clock.
    let t = T0;
    const early: Clock = {
      now: () => t,
      sleep: async (ms) => {
        await new Promise((r) => setImmediate(r));
        t += Math.max(1, ms - 30);
      },
    };
    const budget = new RequestBudget(20, early);
    const at: number[] = [];
    await Promise.all(
      Array.from({ length: 200 }, (_, i) => budget.take(`org${i % 5}/sso`).then(() => at.push(early.now()))),
    );
    at.sort((a, b) => a - b);
    for (let i = 0; i + 20 < at.length; i++)
      expect(at[i + 20]! - at[i]!, `turns ${i} and ${i + 20}`).toBeGreaterThanOrEqual(1000);
  });

  it('makes up for a late timer with the turns whose second has passed, never more than the budget per second', async () => {
    // A busy machine: every sleep overshoots by 250 ms.
    let t = T0;
    const late: Clock = {
      now: () => t,
      sleep: async (ms) => {
        await new Promise((r) => setImmediate(r));
        t += ms + 250;
      },
    };
    const budget = new RequestBudget(20, late);
    const at: number[] = [];
    await Promise.all(
      Array.from({ length: 400 }, (_, i) => budget.take(`org${i % 13}/sso`).then(() => at.push(late.now()))),
    );
    at.sort((a, b) => a - b);
    for (let i = 0; i + 20 < at.length; i++) expect(at[i + 20]! - at[i]!).toBeGreaterThanOrEqual(1000);
    // 400 turns at 20/s: about 20 s even though each wait ran 250 ms late (one turn per sleep would take 100 s).
    expect(at.at(-1)! - at[0]!).toBeLessThan(30_000);
  });

  it('is fair over 1,000 streams: each is served within one round, even behind a stream with 5,000 requests queued', async () => {
    const clock = steppingClock(T0);
    const budget = new RequestBudget(100, clock);
    const order: string[] = [];
    const greedy = Array.from({ length: 5000 }, () => budget.take('greedy/all').then(() => order.push('greedy')));
    const streams = Array.from({ length: 1000 }, (_, i) => `org${i}/directory`);
    // Each stream asks for three requests one after another (a page, the next page, a count).
    const others = streams.map(async (key) => {
      for (let r = 0; r < 3; r++) {
        await budget.take(key);
        order.push(key);
      }
    });
    await Promise.all([...greedy, ...others]);
    // The greedy stream found the budget idle and took that second's 100 turns at once; after that every stream's
    // third request is served within three rounds of 1,001 turns: the greedy one gets one turn per round, not its
    // whole queue first.
    const burst = 100;
    const lastTurn = new Map<string, number>();
    order.forEach((k, i) => lastTurn.set(k, i));
    for (const key of streams) expect(lastTurn.get(key)!).toBeLessThan(burst + 3 * 1001 + 1);
    expect(order.slice(0, burst + 3 * 1001).filter((k) => k === 'greedy').length).toBeLessThanOrEqual(burst + 4);
    expect(order).toHaveLength(5000 + 3000);
  });

  it('a throttle pauses every key: no turn is given before the pause ends; without Retry-After the pause doubles', async () => {
    const clock = steppingClock(T0);
    const budget = new RequestBudget(0, clock); // no rate limit: only the pause holds requests back
    const pause = budget.throttled(2_000);
    expect(pause).toBe(2_000);
    const at: number[] = [];
    await Promise.all(['a/x', 'b/x', 'c/x'].map((k) => budget.take(k).then(() => at.push(clock.now()))));
    expect(at.every((t) => t >= T0 + 2_000)).toBe(true);
    budget.succeeded();
    expect(budget.throttled(undefined)).toBe(1_000);
    expect(budget.throttled(undefined)).toBeGreaterThanOrEqual(2_000);
  });

  it('an aborted wait leaves the queue and rejects with the reason', async () => {
    const budget = new RequestBudget(1, systemClock);
    await budget.take('a/x');
    const ac = new AbortController();
    const waiting = budget.take('b/x', ac.signal);
    expect(budget.waiting).toBe(1);
    ac.abort(new Error('stop'));
    await expect(waiting).rejects.toThrow('stop');
    expect(budget.waiting).toBe(0);
  });
});

describe('ByteBudget', () => {
  it('serves in order, lets a reservation bigger than the budget through alone, and follows resize/release', async () => {
    const b = new ByteBudget(100);
    const r1 = await b.acquire(60);
    const got: string[] = [];
    const p2 = b.acquire(60).then((r) => (got.push('second'), r));
    const p3 = b.acquire(10).then((r) => (got.push('third'), r)); // fits, but waits its turn behind the second
    await new Promise((r) => setImmediate(r));
    expect(got).toEqual([]);
    r1.resize(30); // the real page was smaller
    const r2 = await p2;
    const r3 = await p3;
    expect(got).toEqual(['second', 'third']);
    expect(b.held).toBe(100);
    r1.release();
    r1.release(); // idempotent
    r2.release();
    r3.release();
    expect(b.held).toBe(0);
    const big = await b.acquire(500); // nothing else held: an oversized page still goes through
    expect(b.held).toBe(500);
    big.release();
    expect(b.peak).toBe(500);
  });
});

describe('DiClient under the budgets (simulator)', () => {
  it('every request waits for its turn: the API sees at most the budget per second, all streams served', async () => {
    const arrivals: number[] = [];
    const sent: number[] = [];
    const orgs = Array.from({ length: 20 }, (_, i) => `org${i}`);
    const s = await sim({
      orgs,
      eventsPerMinute: 6,
      from: Date.now() - 3_600_000,
      onRequest: (r) => arrivals.push(r.at),
    });
    const c = createDiClient({
      apiUrl: s.url,
      auth: { kind: 'apiKey', apiKey: s.apiKey },
      maxRequestsPerSecond: 20,
      hooks: { onRequest: () => sent.push(Date.now()) },
    });
    closers.push(() => c.close());
    const q = (orgId: string): DiQuery => ({
      orgIds: [orgId],
      service: 'directory',
      start: iso(Date.now() - 3_000_000),
      end: iso(Date.now() - 60_000),
    });
    const counts = await Promise.all(orgs.flatMap((o) => [c.count(q(o)), c.count(q(o)), c.count(q(o))]));
    expect(counts.every((n) => n > 0)).toBe(true);
    expect(arrivals).toHaveLength(60);
    expect(sent).toHaveLength(60);
    // When each request left the client (the server's arrival times trail them by its event loop, shared with
    // this test; the hook itself runs up to ~100 ms after the turn on this busy machine, while the budget's own
    // times are exact: tests above): no second holds more than 20, and 60 take at least two seconds.
    sent.sort((a, b) => a - b);
    for (let i = 0; i + 20 < sent.length; i++) expect(sent[i + 20]! - sent[i]!).toBeGreaterThanOrEqual(1000 - 100);
    expect(sent.at(-1)! - sent[0]!).toBeGreaterThanOrEqual(2000 - 100);
  });

  it('a 429 with Retry-After pauses every stream, not only the request that got it', async () => {
    const arrivals: { at: number; orgId?: string }[] = [];
    const orgs = Array.from({ length: 10 }, (_, i) => `org${i}`);
    const s = await sim({ orgs, eventsPerMinute: 6, from: Date.now() - 3_600_000, onRequest: (r) => arrivals.push(r) });
    // The client says when it paused: requests written before that may still reach the server just after.
    let pausedAt: number | undefined;
    let pauseMs = 0;
    const logger = {
      debug() {},
      info() {},
      error() {},
      warn: (o: object, msg?: string) => {
        if (msg?.includes('pausing every request') && pausedAt === undefined) {
          pausedAt = Date.now();
          pauseMs = (o as { pauseMs: number }).pauseMs;
        }
      },
    };
    const c = createDiClient({
      apiUrl: s.url,
      auth: { kind: 'apiKey', apiKey: s.apiKey },
      maxRequestsPerSecond: 0,
      retry: { baseDelayMs: 10, maxDelayMs: 20 },
      logger,
    });
    closers.push(() => c.close());
    const q = (orgId: string): DiQuery => ({
      orgIds: [orgId],
      service: 'directory',
      start: iso(Date.now() - 3_000_000),
      end: iso(Date.now() - 60_000),
    });
    // Ten streams counting in a loop for ~2.5 s; one request in the middle gets 429 with Retry-After (1-2 s).
    const until = Date.now() + 2_500;
    setTimeout(() => s.failNext('429-retry-after'), 300);
    await Promise.all(
      orgs.map(async (o) => {
        while (Date.now() < until) await c.count(q(o));
      }),
    );
    expect(s.stats.faults['429-retry-after']).toBe(1);
    expect(pausedAt).toBeDefined();
    expect(pauseMs).toBeGreaterThanOrEqual(900);
    // During the pause each org's requests reach the API only if they were already on the wire when it began (one
    // per org at most: each stream sends one at a time); without the global pause each would send dozens per second.
    const during = arrivals.filter((a) => a.at > pausedAt! && a.at < pausedAt! + pauseMs - 50);
    const perOrg = new Map<string | undefined, number>();
    for (const a of during) perOrg.set(a.orgId, (perOrg.get(a.orgId) ?? 0) + 1);
    expect([...perOrg.values()].every((n) => n <= 1)).toBe(true);
    const before = arrivals.filter((a) => a.at > pausedAt! - pauseMs && a.at <= pausedAt!);
    expect(before.length).toBeGreaterThan(during.length);
    // ...and every org served again after it.
    const after = new Set(arrivals.filter((a) => a.at >= pausedAt! + pauseMs).map((a) => a.orgId));
    expect(after.size).toBe(orgs.length);
  });

  it('page memory is one budget over every chain: 8 chains at once hold at most the budget plus one page', async () => {
    const clock = manualClock(T0);
    const s = await sim({ clock, services: ['directory'], eventsPerMinute: 120, from: T0 - 3_600_000 });
    const budget = 600_000;
    const c = createDiClient({
      apiUrl: s.url,
      auth: { kind: 'apiKey', apiKey: s.apiKey },
      clock,
      pageLimit: 500,
      pageBudgetBytes: budget,
    });
    closers.push(() => c.close());
    const span = 3_300_000 / 8;
    let biggest = 0;
    const ids = await Promise.all(
      Array.from({ length: 8 }, async (_, i) => {
        // The API's end_time is inclusive: each chain stops 1 ms before the next one starts.
        const q: DiQuery = {
          service: 'directory',
          start: iso(T0 - 3_600_000 + i * span),
          end: iso(T0 - 3_600_000 + (i + 1) * span - 1),
        };
        const out: string[] = [];
        for await (const p of c.pages(q)) {
          biggest = Math.max(biggest, p.events.body.length);
          for (const e of p.events) out.push(e.id);
          await new Promise((r) => setTimeout(r, 2)); // a consumer slower than the API
          p.release?.();
        }
        return out;
      }),
    );
    const expected = s.expectedEvents({
      service: 'directory',
      start: T0 - 3_600_000,
      end: T0 - 3_600_000 + 8 * span - 1,
      visibleAt: T0,
    });
    expect(ids.flat()).toEqual(expected.map((e) => e.id));
    expect(biggest).toBeGreaterThan(100_000); // pages of ~500 events
    const b = (c as unknown as { budgets(): { pageBytes: number; peakPageBytes: number } }).budgets();
    expect(b.peakPageBytes).toBeLessThanOrEqual(budget + biggest);
    expect(b.pageBytes).toBe(0); // every page given back
  });
});

describe('--max-requests-per-second', () => {
  const load = (argv: string[], env: Record<string, string> = {}) => {
    const r = loadConfig({
      argv: ['--api-url', 'http://127.0.0.1:9/insights/directory/v1', '--api-key', 'k', ...argv],
      env,
      now: Date.now(),
    });
    if (r.kind !== 'run') throw new Error('expected a run config');
    return r.config;
  };

  it('defaults to 10, comes from the flag or JUMPCLOUD_MAX_RPS, 0 for none; refuses what is not a whole number', () => {
    expect(load([]).maxRequestsPerSecond).toBe(10);
    expect(load(['--max-requests-per-second', '3']).maxRequestsPerSecond).toBe(3);
    expect(load([], { JUMPCLOUD_MAX_RPS: '0' }).maxRequestsPerSecond).toBe(0);
    expect(() => load(['--max-requests-per-second', '2.5'])).toThrow(
      /invalid --max-requests-per-second \(from flag --max-requests-per-second\): "2.5" is not a whole number/,
    );
    expect(() => load([], { JUMPCLOUD_MAX_RPS: '-1' })).toThrow(ConfigError);
  });
});
