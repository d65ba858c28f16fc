import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { createDiClient, type DiClientOptions } from '../../../input/di/client.js';
import { DiFatalError, DiQueryError, DiRetriesExhaustedError } from '../../../input/di/errors.js';
import type { Simulator } from '../../../input/simulator/server.js';
import type { DiClient, DiPage, DiQuery } from '../../../input/types.js';
import { captureLogger, closedAfterEach, iso, manualClock } from '../../support/simulator.js';

const T0 = Date.UTC(2026, 5, 1, 12, 0, 0);
const { closers, sim } = closedAfterEach();

function client(s: Simulator, opts: Partial<DiClientOptions> = {}): DiClient {
  const c = createDiClient({
    apiUrl: s.url,
    auth: { kind: 'apiKey', apiKey: s.apiKey },
    retry: { baseDelayMs: 10, maxDelayMs: 50 },
    ...opts,
  });
  closers.push(() => c.close());
  return c;
}

/** Waits until `cond` holds (the simulator answers in real time), failing after 10 s. */
async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; !cond(); i++) {
    if (i > 10_000) throw new Error('timed out waiting');
    await new Promise((r) => setImmediate(r));
    if (!cond()) await new Promise((r) => setTimeout(r, 1));
  }
}

/** Lets whatever the last event set going (requests queued behind promises) run to its next wait. */
async function settled(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
}

async function collect(c: DiClient, q: DiQuery): Promise<{ pages: DiPage[]; ids: string[] }> {
  const pages: DiPage[] = [];
  for await (const p of c.pages(q)) pages.push(p);
  return { pages, ids: pages.flatMap((p) => [...p.events].map((e) => e.id)) };
}

describe('DiClient paging', () => {
  it('pages through a window: every event exactly once, in order, texts exact', async () => {
    const clock = manualClock(T0);
    const s = await sim({ clock, eventsPerMinute: 120, from: T0 - 3_600_000 });
    const c = client(s, { pageLimit: 1000, clock });
    const q = { service: 'all', start: iso(T0 - 3_600_000), end: iso(T0 - 60_000) };
    const { pages, ids } = await collect(c, q);
    const expected = s.expectedEvents({ service: 'all', start: q.start, end: q.end, visibleAt: T0 });
    expect(expected.length).toBeGreaterThan(30_000);
    expect(ids).toEqual(expected.map((e) => e.id));
    expect(pages.length).toBe(Math.floor(expected.length / 1000) + 1);
    expect(pages.slice(0, -1).every((p) => p.resultCount === 1000 && p.limit === 1000 && p.searchAfter)).toBe(true);
    // Texts are the exact bytes served: each parses and carries the id and timestamp reported.
    for (const p of pages.slice(0, 3)) {
      for (const e of p.events) {
        const o = JSON.parse(Buffer.from(e.raw).toString('utf8')) as { id: string; timestamp: string };
        expect([o.id, o.timestamp]).toEqual([e.id, e.timestamp]);
      }
    }
    expect(await c.count(q)).toBe(expected.length);
  });

  it('keeps each page as bytes: events are views of one page buffer, reused only after release()', async () => {
    const clock = manualClock(T0);
    const s = await sim({ clock, eventsPerMinute: 120, from: T0 - 3_600_000 });
    const c = client(s, { pageLimit: 500, clock, prefetch: false });
    const q = { service: 'all', start: iso(T0 - 3_600_000), end: iso(T0 - 60_000) };
    const kept: { page: DiPage; copies: Buffer[] }[] = [];
    const released = new Set<ArrayBufferLike>();
    let reused = 0;
    let n = 0;
    for await (const page of c.pages(q)) {
      const buffers = new Set([...page.events].map((e) => e.raw.buffer));
      expect(buffers.size).toBe(1); // one page buffer, no copies
      if ([...buffers].some((b) => released.has(b))) reused++;
      if (n++ % 2 === 0) {
        for (const b of buffers) released.add(b);
        page.release?.();
      } else {
        kept.push({ page, copies: [...page.events].map((e) => Buffer.from(e.raw)) });
      }
    }
    expect(n).toBeGreaterThan(10);
    expect(reused).toBeGreaterThan(3);
    // Pages never released were never written over by later pages.
    const changed = kept.flatMap(({ page, copies }) =>
      [...page.events].filter((e, i) => !Buffer.from(e.raw).equals(copies[i]!)).map((e) => e.id),
    );
    expect(changed).toEqual([]);
  });

  it('never skips or repeats events sharing a millisecond across page boundaries', async () => {
    const clock = manualClock(T0);
    const s = await sim({ clock, eventsPerMinute: 3000, from: T0 - 120_000, services: ['sso', 'directory'] });
    const q = { service: 'all', start: iso(T0 - 50_000), end: iso(T0 - 30_000) };
    const expected = s.expectedEvents({ service: 'all', start: q.start, end: q.end, visibleAt: T0 });
    const ms = expected.map((e) => Math.floor(Date.parse(e.timestamp)));
    const ties = ms.filter((m, i) => i > 0 && m === ms[i - 1]).length;
    expect(ties).toBeGreaterThan(50);
    for (const limit of [7, 50]) {
      const { ids, pages } = await collect(client(s, { pageLimit: limit, clock }), q);
      expect(ids).toEqual(expected.map((e) => e.id));
      // At least one page boundary falls inside a millisecond.
      const boundaryTies = pages.slice(1).filter((p, i) => {
        const prev = [...pages[i]!.events].at(-1);
        const first = [...p.events][0];
        return prev && first && Math.floor(Date.parse(prev.timestamp)) === Math.floor(Date.parse(first.timestamp));
      }).length;
      expect(boundaryTies).toBeGreaterThan(0);
    }
  });

  it('requests the next page while the caller works on this one, and stops it when the caller stops', async () => {
    // Driven by events, not by sleeps: the client's requests are counted as they go out (onRequest), the simulator's
    // answers as they are served (its page latency is real time: 100 ms).
    const clock = manualClock(T0);
    const s = await sim({ clock, eventsPerMinute: 100, from: T0 - 3_600_000, pageLatencyMs: 100 });
    let requests = 0;
    const hooks = { onRequest: () => void requests++ };
    const c = client(s, { pageLimit: 1000, clock, hooks });
    const q = { service: 'all', start: iso(T0 - 3_600_000), end: iso(T0 - 60_000) };
    let pages = 0;
    for await (const p of c.pages(q)) {
      expect(p.events).toHaveLength(1000);
      pages++;
      // The caller's work: meanwhile the next page is asked for and arrives, and no other one is asked for.
      await until(() => s.stats.pages === pages + 1);
      await settled();
      expect([requests, s.stats.pages]).toEqual([pages + 1, pages + 1]);
      if (pages === 2) break;
    }
    // The page fetched ahead when the caller stopped is the last one asked for.
    await settled();
    expect([requests, s.stats.pages]).toEqual([3, 3]);
    // Stopping while the page ahead is in flight aborts it quietly (an unhandled rejection would fail the run).
    for await (const p of c.pages(q)) if (p.events.length > 0) break;
    // Without prefetch, nothing is asked for before the caller wants it.
    let lazyRequests = 0;
    const lazy = client(s, {
      pageLimit: 1000,
      clock,
      prefetch: false,
      hooks: { onRequest: () => void lazyRequests++ },
    });
    for await (const p of lazy.pages(q)) {
      await settled();
      expect(lazyRequests).toBe(1);
      if (p.events.length > 0) break;
    }
  });

  it('sends the configured limit and refuses limits outside 1..10000', async () => {
    const clock = manualClock(T0);
    const s = await sim({ clock, eventsPerMinute: 30, from: T0 - 600_000, indexDelay: { maxMs: 0 } });
    const { pages } = await collect(client(s, { pageLimit: 10_000, clock }), {
      service: 'all',
      start: iso(T0 - 600_000),
      end: iso(T0),
    });
    expect(pages).toHaveLength(1);
    expect(pages[0]!.limit).toBe(10_000);
    expect(pages[0]!.resultCount).toBe(pages[0]!.events.length);
    expect(() => createDiClient({ apiUrl: s.url, auth: { kind: 'apiKey', apiKey: 'k' }, pageLimit: 10_001 })).toThrow(
      RangeError,
    );
    expect(() => createDiClient({ apiUrl: s.url, auth: { kind: 'apiKey', apiKey: 'k' }, pageLimit: 0 })).toThrow(
      /1 to 10000/,
    );
  });

  it('refuses a window whose start is not before its end, before calling', async () => {
    const s = await sim({ clock: manualClock(T0) });
    const c = client(s);
    for (const [start, end] of [
      [iso(T0), iso(T0)],
      [iso(T0), iso(T0 - 1)],
      ['2026-06-01T12:00:00.000000002Z', '2026-06-01T12:00:00.000000001Z'],
    ] as const) {
      await expect(collect(c, { service: 'all', start, end })).rejects.toBeInstanceOf(DiQueryError);
      await expect(c.count({ service: 'all', start, end })).rejects.toThrow(/not before end/);
    }
    await expect(collect(c, { service: 'all', start: 'yesterday', end: iso(T0) })).rejects.toThrow(/not an RFC 3339/);
    expect(s.stats.requests).toEqual({});
  });

  it('sends x-org-id and gets only that org', async () => {
    const clock = manualClock(T0);
    const s = await sim({ clock, orgs: ['org-a', 'org-b'], eventsPerMinute: 30, from: T0 - 1_800_000 });
    const c = client(s, { clock });
    for (const orgId of ['org-a', 'org-b']) {
      const window = { service: 'systems', start: iso(T0 - 1_800_000), end: iso(T0 - 60_000) };
      const { ids } = await collect(c, { ...window, orgIds: [orgId] });
      expect(ids).toEqual(s.expectedEvents({ ...window, orgId, visibleAt: T0 }).map((e) => e.id));
      expect(ids.length).toBeGreaterThan(400);
    }
    await expect(collect(c, { service: 'systems', start: iso(T0 - 60_000), end: iso(T0) })).rejects.toThrow(
      /--org-ids/,
    );
  });
});

describe('DiClient faults', () => {
  const window = { service: 'all', start: iso(T0 - 1_800_000), end: iso(T0 - 60_000) };

  it.each([
    ['429', 'http_429'],
    ['503', 'http_503'],
    ['500', 'http_500'],
    ['reset', 'reset'],
    ['truncated', undefined],
    ['not-array', 'bad_page'],
    ['timeout', 'timeout'],
  ] as const)('retries %s and still returns every event once', async (kind, reason) => {
    const clock = manualClock(T0);
    const s = await sim({ clock, eventsPerMinute: 30, from: T0 - 1_800_000 });
    const retries: { reason: string; status?: number }[] = [];
    const apiErrors: number[] = [];
    const c = client(s, {
      clock,
      pageLimit: 500,
      requestTimeoutMs: kind === 'timeout' ? 1500 : 30_000,
      hooks: { onRetry: (i) => retries.push(i), onApiError: (i) => apiErrors.push(i.status) },
    });
    s.failNext(kind, 2);
    const { ids } = await collect(c, window);
    expect(ids).toEqual(s.expectedEvents({ ...window, visibleAt: T0 }).map((e) => e.id));
    expect(retries).toHaveLength(2);
    if (reason) expect(retries.every((r) => r.reason === reason)).toBe(true);
    else expect(retries.every((r) => ['truncated', 'reset', 'bad_page'].includes(r.reason))).toBe(true);
    if (kind === '429' || kind === '503' || kind === '500') expect(apiErrors).toEqual([Number(kind), Number(kind)]);
  });

  it('honours Retry-After (seconds or HTTP date) on the clock', async () => {
    const clock = manualClock(T0);
    const s = await sim({ clock, eventsPerMinute: 10, from: T0 - 600_000, seed: 3 });
    const delays: number[] = [];
    const c = client(s, {
      clock,
      retry: { baseDelayMs: 1, maxDelayMs: 1 },
      hooks: { onRetry: (i) => delays.push(i.delayMs) },
    });
    s.failNext('429-retry-after', 6);
    await collect(c, { service: 'all', start: iso(T0 - 600_000), end: iso(T0 - 1000) });
    expect(delays).toHaveLength(6);
    // The simulator asks for 1 or 2 s (as a number, or as a date rounded to the second): never the 1 ms backoff.
    for (const d of delays) expect(d).toBeGreaterThanOrEqual(1000);
    for (const d of delays) expect(d).toBeLessThanOrEqual(3000);
    expect(clock.sleeps).toEqual(delays);
  });

  it('with 5% random faults of every kind, each pages() call yields every event exactly once', async () => {
    // A clock that stands still: retries do not change what is visible, so the expected set is exact.
    const clock = { now: () => T0, sleep: async () => {} };
    const s = await sim({ clock, eventsPerMinute: 60, from: T0 - 3_600_000, faults: { rate: 0.05, seed: 11 } });
    const retries: string[] = [];
    const c = client(s, {
      clock,
      pageLimit: 250,
      requestTimeoutMs: 2000,
      hooks: { onRetry: (i) => retries.push(i.reason) },
    });
    const q = { service: 'all', start: iso(T0 - 3_600_000), end: iso(T0 - 60_000) };
    const expected = s.expectedEvents({ ...q, visibleAt: T0 }).map((e) => e.id);
    expect(expected.length).toBeGreaterThan(15_000);
    for (let run = 0; run < 2; run++) {
      const { ids } = await collect(c, q);
      expect(ids).toEqual(expected);
    }
    expect(await c.count(q)).toBe(expected.length);
    const faults = Object.values(s.stats.faults).reduce((a, b) => a + (b ?? 0), 0);
    expect(faults).toBeGreaterThanOrEqual(4);
    expect(retries.length).toBe(faults);
  });

  it('bad pages are retried whole, never half-returned', async () => {
    const clock = manualClock(T0);
    const s = await sim({ clock, eventsPerMinute: 40, from: T0 - 1_800_000 });
    const clean = await collect(client(s, { clock, pageLimit: 700 }), window);
    for (const kind of ['truncated', 'not-array'] as const) {
      s.failNext(kind, 3);
      const faulty = await collect(client(s, { clock, pageLimit: 700 }), window);
      expect(faulty.pages.map((p) => [...p.events].map((e) => Buffer.from(e.raw).toString('latin1')))).toEqual(
        clean.pages.map((p) => [...p.events].map((e) => Buffer.from(e.raw).toString('latin1'))),
      );
    }
  });

  it('gives up after maxAttempts when configured', async () => {
    const s = await sim({ clock: manualClock(T0), eventsPerMinute: 10 });
    const c = client(s, { clock: manualClock(T0), retry: { maxAttempts: 3, baseDelayMs: 1 } });
    s.failNext('500', 5);
    const err = await collect(c, { service: 'all', start: iso(T0 - 60_000), end: iso(T0) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DiRetriesExhaustedError);
    expect((err as DiRetriesExhaustedError).attempts).toBe(3);
  });

  it('an abort signal stops a retry loop', async () => {
    const s = await sim({ clock: manualClock(T0), eventsPerMinute: 10 });
    const c = client(s, { retry: { baseDelayMs: 60_000, maxDelayMs: 60_000 } });
    s.failNext('503', 100);
    const ac = new AbortController();
    setTimeout(() => ac.abort(new Error('shutting down')), 100);
    await expect(c.count({ service: 'all', start: iso(T0 - 60_000), end: iso(T0) }, ac.signal)).rejects.toThrow(
      'shutting down',
    );
  });
});

describe('DiClient refusals', () => {
  const q = { service: 'all', start: iso(T0 - 60_000), end: iso(T0) };

  it('maps 400/401/402/403/404 to DiFatalError saying what to fix, without secrets', async () => {
    const secretKey = 'key-SUPERSECRET-123';
    const s = await sim({
      clock: manualClock(T0),
      apiKeys: [secretKey],
      orgs: ['org-a', 'org-b'],
      unlicensedOrgs: ['org-b'],
      commandRunnerKeys: ['runner-SECRET-999'],
    });
    const log = captureLogger();
    const make = (apiKey: string, apiUrl = s.url) => {
      const c = createDiClient({ apiUrl, auth: { kind: 'apiKey', apiKey }, logger: log, clock: manualClock(T0) });
      closers.push(() => c.close());
      return c;
    };
    const cases: [DiClient, DiQuery, number, RegExp][] = [
      [
        make(secretKey),
        { ...q, orgIds: ['org-a'], service: 'bogus' },
        400,
        /unknown service "bogus"; valid services are: alerts, all, directory/,
      ],
      [make('key-WRONG-SECRET'), { ...q, orgIds: ['org-a'] }, 401, /invalid or expired — set JUMPCLOUD_API_KEY/],
      [make(secretKey), { ...q, orgIds: ['org-b'] }, 402, /not licensed or not enabled for org org-b/],
      [make('runner-SECRET-999'), { ...q, orgIds: ['org-a'] }, 403, /Command Runner/],
      [make(secretKey), q, 403, /set --org-ids/],
      [make(secretKey), { ...q, orgIds: ['org-zzz'] }, 403, /check --org-ids/],
      [
        make(secretKey, s.url.replace('/insights/directory/v1', '/wrong')),
        { ...q, orgIds: ['org-a'] },
        404,
        /check --api-url/,
      ],
    ];
    const messages: string[] = [];
    for (const [c, query, status, message] of cases) {
      for (const run of [() => collect(c, query), () => c.count(query)]) {
        const err = await run().catch((e: unknown) => e);
        expect(err).toBeInstanceOf(DiFatalError);
        expect((err as DiFatalError).status).toBe(status);
        expect((err as Error).message).toMatch(message);
        messages.push((err as Error).message, String((err as Error).stack));
      }
    }
    const all = messages.join('\n') + log.text();
    for (const secret of [secretKey, 'key-WRONG-SECRET', 'runner-SECRET-999', 'SECRET'])
      expect(all).not.toContain(secret);
  });
});

describe('DiClient OAuth', () => {
  const clientId = 'svc-account';
  const clientSecret = 'oauth-SECRET-value';

  it('fetches a token, renews it before expiry, and renews once on 401', async () => {
    const clock = manualClock(T0);
    const s = await sim({
      clock,
      orgs: ['org-a'],
      oauthClients: [{ clientId, clientSecret }],
      tokenTtlSec: 600,
      eventsPerMinute: 10,
      from: T0 - 600_000,
    });
    const log = captureLogger();
    const c = client(s, { clock, logger: log, auth: { kind: 'oauth', clientId, clientSecret, tokenUrl: s.tokenUrl } });
    const window = { service: 'all', start: iso(T0 - 600_000), end: iso(T0 - 1000) };
    const q = { ...window, orgIds: ['org-a'] };
    const n = (await collect(c, q)).ids.length;
    expect(n).toBe(s.expectedEvents({ ...window, orgId: 'org-a', visibleAt: T0 }).length);
    await c.count(q);
    expect(s.stats.requests['/oauth2/token']).toEqual({ '200': 1 });
    // 540 s in: inside the renewal margin (a tenth of 600 s) → a new token before the old one expires.
    clock.advance(545_000);
    await c.count(q);
    expect(s.stats.requests['/oauth2/token']).toEqual({ '200': 2 });
    expect(s.stats.requests['/events/count']!['401']).toBeUndefined();
    // A revoked token: one 401, a renewal, success.
    s.revokeTokens();
    await c.count(q);
    expect(s.stats.requests['/oauth2/token']).toEqual({ '200': 3 });
    expect(s.stats.requests['/events/count']!['401']).toBe(1);
    expect(log.text()).not.toContain(clientSecret);
  });

  it('refuses without an org id, and reports a rejected client without its secret', async () => {
    const clock = manualClock(T0);
    const s = await sim({ clock, orgs: ['org-a'], oauthClients: [{ clientId, clientSecret }] });
    const q = { service: 'all', start: iso(T0 - 60_000), end: iso(T0) };
    const good = client(s, { clock, auth: { kind: 'oauth', clientId, clientSecret, tokenUrl: s.tokenUrl } });
    await expect(collect(good, q)).rejects.toThrow(/must name the organization \(x-org-id\): set --org-ids/);
    expect(s.stats.requests).toEqual({});
    const log = captureLogger();
    const bad = client(s, {
      clock,
      logger: log,
      auth: { kind: 'oauth', clientId, clientSecret: 'wrong-SECRET-xyz', tokenUrl: s.tokenUrl },
    });
    const err = await bad.count({ ...q, orgIds: ['org-a'] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DiFatalError);
    expect((err as Error).message).toMatch(/refused the service account \(401: invalid_client/);
    expect((err as Error).message + log.text()).not.toContain('wrong-SECRET-xyz');
  });

  it('retries a token endpoint that is briefly down', async () => {
    const clock = manualClock(T0);
    const s = await sim({ clock, orgs: ['org-a'], oauthClients: [{ clientId, clientSecret }], eventsPerMinute: 1 });
    const c = client(s, {
      clock,
      auth: { kind: 'oauth', clientId, clientSecret, tokenUrl: s.tokenUrl.replace(/:\d+\//, ':1/') },
    });
    const err = await c
      .count({ service: 'all', orgIds: ['org-a'], start: iso(T0 - 60_000), end: iso(T0) }, AbortSignal.timeout(300))
      .catch((e: unknown) => e);
    // Connection refused is transient: the client keeps retrying until aborted.
    expect(String(err)).toMatch(/abort|timeout/i);
  });

  it('stops at an AbortSignal.timeout() only the call holds, though garbage collection runs meanwhile', async () => {
    // AbortSignal.any holds its sources weakly: unless the client keeps the caller's signal reachable, a collection
    // takes the timeout signal and its timer, and the call retries the refused token endpoint forever.
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const collecting = setInterval(gc, 10);
    closers.push(async () => clearInterval(collecting));
    const clock = manualClock(T0);
    const s = await sim({ clock, orgs: ['org-a'], oauthClients: [{ clientId, clientSecret }], eventsPerMinute: 1 });
    const c = client(s, {
      clock,
      auth: { kind: 'oauth', clientId, clientSecret, tokenUrl: s.tokenUrl.replace(/:\d+\//, ':1/') },
    });
    const q = { service: 'all', orgIds: ['org-a'], start: iso(T0 - 60_000), end: iso(T0) };
    const calls: [string, (signal: AbortSignal) => Promise<unknown>][] = [
      ['count', (signal) => c.count(q, signal)],
      ['distinct', (signal) => c.distinct!(q, 'event_type', signal)],
      ['interval', (signal) => c.interval!(q, { unit: 'm', value: 5 }, signal)],
      [
        'pages',
        async (signal) => {
          for await (const _ of c.pages(q, signal)) void _;
        },
      ],
    ];
    for (const [name, call] of calls) {
      const started = Date.now();
      const outcome = await Promise.race([
        call(AbortSignal.timeout(200)).then(
          () => 'resolved',
          (e: unknown) => String(e),
        ),
        new Promise<string>((resolve) => setTimeout(() => resolve('still running after 5 s'), 5_000).unref()),
      ]);
      expect(`${name}: ${outcome}`).toMatch(new RegExp(`^${name}: TimeoutError`));
      expect(Date.now() - started).toBeLessThan(5_000);
    }
  });
});
