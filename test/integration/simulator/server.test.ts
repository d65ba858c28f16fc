import { afterEach, describe, expect, it } from 'vitest';
import {
  startSimulator,
  VALID_SERVICES,
  type Simulator,
  type SimulatorOptions,
} from '../../../input/simulator/server.js';
import { iso, manualClock } from '../../support/simulator.js';

const T0 = Date.UTC(2026, 5, 1, 12, 0, 0);
let sims: Simulator[] = [];
afterEach(async () => {
  await Promise.all(sims.map((s) => s.close()));
  sims = [];
});

async function sim(opts: SimulatorOptions): Promise<Simulator> {
  const s = await startSimulator(opts);
  sims.push(s);
  return s;
}

async function post(
  s: Simulator,
  path: string,
  body: unknown,
  headers: Record<string, string> = { 'x-api-key': s.apiKey },
) {
  const res = await fetch(s.url + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, json: () => JSON.parse(text) as unknown };
}

const ev = (id: string, timestamp: string, extra: Record<string, unknown> = {}) => ({
  id,
  timestamp,
  event_type: 'user_update',
  ...extra,
});

describe('simulator /events', () => {
  it('answers with the documented paging headers and search_after chain', async () => {
    const clock = manualClock(T0);
    const s = await sim({ clock, eventsPerMinute: 600, from: T0 - 3_600_000, indexDelay: { maxMs: 0 } });
    const q = { service: ['all'], start_time: iso(T0 - 3_600_000), end_time: iso(T0) };
    const first = await post(s, '/events', q);
    expect(first.status).toBe(200);
    expect(first.headers.get('x-result-count')).toBe('1000');
    expect(first.headers.get('x-limit')).toBe('1000'); // default limit
    expect(first.headers.get('x-sort')).toBe('ASC');
    expect(first.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    const page = first.json() as { id: string; timestamp: string }[];
    const cursor = JSON.parse(first.headers.get('x-search_after')!) as [number, string];
    const last = page[page.length - 1]!;
    expect(cursor).toEqual([Math.floor(Date.parse(last.timestamp)), last.id]);
    const second = await post(s, '/events', { ...q, search_after: cursor, limit: 10 });
    expect(second.headers.get('x-limit')).toBe('10');
    const next = second.json() as { id: string }[];
    expect(next).toHaveLength(10);
    const all = s.expectedEvents({ service: 'all', start: T0 - 3_600_000, end: T0 });
    expect([...page, ...next].map((e) => e.id)).toEqual(all.slice(0, 1010).map((e) => e.id));
  });

  it('applies the limit rules: default 1000, at most 10000, nonsense means default', async () => {
    const s = await sim({
      clock: manualClock(T0),
      eventsPerMinute: 3000,
      from: T0 - 3_600_000,
      indexDelay: { maxMs: 0 },
    });
    const q = { service: ['all'], start_time: iso(T0 - 3_600_000), end_time: iso(T0) };
    const big = await post(s, '/events', { ...q, limit: 10_000 });
    expect(big.headers.get('x-result-count')).toBe('10000');
    const tooBig = await post(s, '/events', { ...q, limit: 10_001 });
    expect(tooBig.status).toBe(400);
    expect(tooBig.json()).toEqual({ message: 'limit 10001 exceeds the maximum of 10000' });
    for (const limit of [0, -5, 'ten', 2.5]) {
      const r = await post(s, '/events', { ...q, limit });
      expect(r.headers.get('x-limit')).toBe('1000');
    }
  });

  it('answers errors with {"message": …} as documented', async () => {
    const s = await sim({
      clock: manualClock(T0),
      orgs: ['org-a', 'org-b'],
      unlicensedOrgs: ['org-b'],
      commandRunnerKeys: ['runner-key'],
    });
    const good = { 'x-api-key': s.apiKey, 'x-org-id': 'org-a' };
    const q = { service: ['all'], start_time: iso(T0 - 60_000), end_time: iso(T0) };
    const cases: [Record<string, unknown> | string, Record<string, string>, number, RegExp][] = [
      [{ ...q, end_time: iso(T0 - 60_000) }, good, 400, /^Start Time not after End Time$/],
      [{ ...q, end_time: iso(T0 - 120_000) }, good, 400, /^Start Time not after End Time$/],
      [
        { ...q, service: ['nope'] },
        good,
        400,
        new RegExp(`unknown service "nope"; valid services are: ${VALID_SERVICES.join(', ')}`),
      ],
      [{ start_time: q.start_time }, good, 400, /service is required/],
      [{ service: ['all'] }, good, 400, /start_time is required/],
      [{ ...q, start_time: 'yesterday' }, good, 400, /invalid start_time/],
      [{ ...q, start_time: iso(T0 + 60_000), end_time: iso(T0 + 120_000) }, good, 400, /future/],
      ['{not json', good, 400, /invalid JSON/],
      [q, { 'x-org-id': 'org-a' }, 401, /missing API key/],
      [q, { 'x-api-key': 'wrong', 'x-org-id': 'org-a' }, 401, /invalid API key/],
      [q, { 'x-api-key': 'runner-key', 'x-org-id': 'org-a' }, 403, /Command Runner/],
      [q, { 'x-api-key': s.apiKey }, 403, /x-org-id header is required/],
      [q, { 'x-api-key': s.apiKey, 'x-org-id': 'org-zzz' }, 403, /not accessible/],
      [q, { 'x-api-key': s.apiKey, 'x-org-id': 'org-b' }, 402, /not enabled/],
    ];
    for (const [body, headers, status, message] of cases) {
      const r = await post(s, '/events', body, headers);
      expect(r.status, JSON.stringify(body)).toBe(status);
      expect((r.json() as { message: string }).message).toMatch(message);
    }
    const r404 = await fetch(s.url.replace('/insights/directory/v1', '/nope'), { method: 'POST' });
    expect(r404.status).toBe(404);
    expect(s.stats.requests['/events']!['400']).toBe(8);
  });

  it('treats both bounds as inclusive with nanosecond precision, and orders ties by id', async () => {
    const events = [
      ev('b00000000000000000000002', '2026-06-01T11:00:00.000000500Z'),
      ev('a00000000000000000000001', '2026-06-01T11:00:00.000000100Z'),
      ev('c00000000000000000000003', '2026-06-01T11:00:00Z'),
      ev('d00000000000000000000004', '2026-06-01T11:00:01.5Z'),
    ].map((event) => ({ service: 'directory', event }));
    const s = await sim({ clock: manualClock(T0), eventsPerMinute: 0, events });
    const ids = async (start: string, end: string) =>
      (
        (await post(s, '/events', { service: ['directory'], start_time: start, end_time: end })).json() as {
          id: string;
        }[]
      ).map((e) => e.id);
    // All share epoch ms 11:00:00.000: the API orders by (ms, id).
    expect(await ids('2026-06-01T10:00:00Z', '2026-06-01T12:00:00Z')).toEqual([
      'a00000000000000000000001',
      'b00000000000000000000002',
      'c00000000000000000000003',
      'd00000000000000000000004',
    ]);
    expect(await ids('2026-06-01T11:00:00.0000001Z', '2026-06-01T11:00:01.5Z')).toEqual([
      'a00000000000000000000001',
      'b00000000000000000000002',
      'd00000000000000000000004',
    ]);
    expect(await ids('2026-06-01T10:00:00Z', '2026-06-01T11:00:00.000000499Z')).toEqual([
      'a00000000000000000000001',
      'c00000000000000000000003',
    ]);
    // Paging by one crosses the tie without skipping or repeating.
    const seen: string[] = [];
    let after: unknown;
    for (;;) {
      const r = await post(s, '/events', {
        service: ['all'],
        start_time: '2026-06-01T10:00:00Z',
        end_time: '2026-06-01T12:00:00Z',
        limit: 1,
        ...(after ? { search_after: after } : {}),
      });
      const page = r.json() as { id: string }[];
      seen.push(...page.map((e) => e.id));
      if (Number(r.headers.get('x-result-count')) < 1) break;
      after = JSON.parse(r.headers.get('x-search_after')!);
    }
    expect(seen).toHaveLength(4);
    expect(new Set(seen).size).toBe(4);
  });

  it('shows an event only once it is indexed, and nothing from the future', async () => {
    const clock = manualClock(T0);
    const s = await sim({
      clock,
      eventsPerMinute: 0,
      events: [
        { service: 'sso', event: ev('e1', iso(T0 - 120_000)), visibleAt: T0 - 110_000 },
        { service: 'sso', event: ev('e2', iso(T0 - 100_000)), visibleAt: T0 + 600_000 },
        { service: 'sso', event: ev('e3', iso(T0 + 30_000)) },
      ],
    });
    const q = { service: ['sso'], start_time: iso(T0 - 600_000), end_time: iso(T0 + 3_600_000) };
    const ids = async () => ((await post(s, '/events', q)).json() as { id: string }[]).map((e) => e.id);
    const count = async () => (await post(s, '/events/count', q)).json();
    expect(await ids()).toEqual(['e1']);
    expect(await count()).toEqual({ count: 1 });
    clock.advance(60_000);
    expect(await ids()).toEqual(['e1', 'e3']);
    clock.advance(600_000);
    expect(await ids()).toEqual(['e1', 'e2', 'e3']);
    expect(await count()).toEqual({ count: 3 });
    expect(s.expectedEvents({ service: 'sso', start: T0 - 600_000, end: T0, visibleAt: T0 }).map((e) => e.id)).toEqual([
      'e1',
    ]);
    expect(s.expectedEvents({ service: 'sso', start: T0 - 600_000, end: T0 }).map((e) => e.id)).toEqual(['e1', 'e2']);
  });

  it('clamps start_time to the retention period', async () => {
    const day = 86_400_000;
    const s = await sim({
      clock: manualClock(T0),
      eventsPerMinute: 0,
      events: [
        { service: 'directory', event: ev('old', iso(T0 - 100 * day)) },
        { service: 'directory', event: ev('new', iso(T0 - 10 * day)) },
      ],
    });
    const r = await post(s, '/events', { service: ['directory'], start_time: iso(T0 - 200 * day), end_time: iso(T0) });
    expect((r.json() as { id: string }[]).map((e) => e.id)).toEqual(['new']);
  });

  it('counts exactly what paging returns, per org and service', async () => {
    const clock = manualClock(T0);
    const s = await sim({ clock, orgs: ['org-a', 'org-b'], eventsPerMinute: 40, from: T0 - 7_200_000 });
    for (const [org, service] of [
      ['org-a', 'all'],
      ['org-b', 'sso'],
      ['org-a', 'radius'],
    ] as const) {
      const q = { service: [service], start_time: iso(T0 - 7_200_000), end_time: iso(T0 - 60_000) };
      const headers = { 'x-api-key': s.apiKey, 'x-org-id': org };
      const ids: string[] = [];
      let after: unknown;
      for (;;) {
        const r = await post(s, '/events', { ...q, limit: 5000, ...(after ? { search_after: after } : {}) }, headers);
        const page = r.json() as { id: string; organization: string; service: string }[];
        for (const e of page) {
          ids.push(e.id);
          if (service !== 'all') expect(e.service).toBe(service);
        }
        if (page.length < 5000) break;
        after = JSON.parse(r.headers.get('x-search_after')!);
      }
      const counted = ((await post(s, '/events/count', q, headers)).json() as { count: number }).count;
      expect(counted).toBe(ids.length);
      expect(new Set(ids).size).toBe(ids.length);
      const expected = s.expectedEvents({
        orgId: org,
        service,
        start: T0 - 7_200_000,
        end: T0 - 60_000,
        visibleAt: T0,
      });
      expect(ids).toEqual(expected.map((e) => e.id));
      expect(ids.length).toBeGreaterThan(service === 'all' ? 15_000 : 2_500);
    }
  });

  it('serves x-org-id repeated as several orgs', async () => {
    const s = await sim({ clock: manualClock(T0), orgs: ['org-a', 'org-b'], eventsPerMinute: 10, from: T0 - 600_000 });
    const q = { service: ['directory'], start_time: iso(T0 - 600_000), end_time: iso(T0 - 1) };
    const both = (
      await post(s, '/events', q, { 'x-api-key': s.apiKey, 'x-org-id': 'org-a, org-b' })
    ).json() as unknown[];
    const a = s.expectedEvents({
      orgId: 'org-a',
      service: 'directory',
      start: T0 - 600_000,
      end: T0 - 1,
      visibleAt: T0,
    });
    const b = s.expectedEvents({
      orgId: 'org-b',
      service: 'directory',
      start: T0 - 600_000,
      end: T0 - 1,
      visibleAt: T0,
    });
    expect(both).toHaveLength(a.length + b.length);
  });
});

describe('simulator OAuth', () => {
  it('issues client-credentials tokens that expire on the clock', async () => {
    const clock = manualClock(T0);
    const s = await sim({
      clock,
      orgs: ['org-a'],
      oauthClients: [{ clientId: 'cid', clientSecret: 's3cret' }],
      tokenTtlSec: 600,
      eventsPerMinute: 1,
    });
    const token = async (id: string, secret: string, body = 'grant_type=client_credentials&scope=api') =>
      fetch(s.tokenUrl, {
        method: 'POST',
        headers: {
          authorization: `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`,
          'content-type': 'application/x-www-form-urlencoded',
        },
        body,
      });
    expect((await token('cid', 'wrong')).status).toBe(401);
    expect((await token('cid', 's3cret', 'grant_type=password')).status).toBe(400);
    const ok = await token('cid', 's3cret');
    const t = (await ok.json()) as { access_token: string; expires_in: number };
    expect(t.expires_in).toBe(600);
    const q = { service: ['all'], start_time: iso(T0 - 60_000), end_time: iso(T0) };
    expect(
      (await post(s, '/events', q, { authorization: `Bearer ${t.access_token}`, 'x-org-id': 'org-a' })).status,
    ).toBe(200);
    expect((await post(s, '/events', q, { authorization: `Bearer ${t.access_token}` })).status).toBe(403);
    clock.advance(600_000);
    expect(
      (await post(s, '/events', q, { authorization: `Bearer ${t.access_token}`, 'x-org-id': 'org-a' })).status,
    ).toBe(401);
  });
});

describe('simulator faults', () => {
  it('injects each kind of fault on request', async () => {
    const s = await sim({ clock: manualClock(T0), eventsPerMinute: 600, from: T0 - 600_000, indexDelay: { maxMs: 0 } });
    const q = { service: ['all'], start_time: iso(T0 - 600_000), end_time: iso(T0) };
    s.failNext('429');
    expect((await post(s, '/events', q)).status).toBe(429);
    s.failNext('429-retry-after');
    const r = await post(s, '/events', q);
    expect(r.status).toBe(429);
    expect(r.headers.get('retry-after')).toBeTruthy();
    s.failNext('503');
    expect((await post(s, '/events', q)).status).toBe(503);
    s.failNext('500');
    expect((await post(s, '/events', q)).status).toBe(500);
    s.failNext('reset');
    await expect(post(s, '/events', q)).rejects.toThrow();
    s.failNext('not-array');
    const na = await post(s, '/events', q);
    expect(na.status).toBe(200);
    expect(na.text.startsWith('[')).toBe(false);
    s.failNext('truncated', 2);
    for (let i = 0; i < 2; i++) {
      const t = await post(s, '/events', q).then(
        (x) => x.text,
        () => 'connection died',
      );
      expect(() => JSON.parse(t)).toThrow();
    }
    s.failNext('timeout');
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 200);
    await expect(
      fetch(s.url + '/events', {
        method: 'POST',
        headers: { 'x-api-key': s.apiKey },
        body: JSON.stringify(q),
        signal: ac.signal,
      }),
    ).rejects.toThrow();
    expect(s.stats.faults).toEqual({
      '429': 1,
      '429-retry-after': 1,
      '503': 1,
      '500': 1,
      reset: 1,
      'not-array': 1,
      truncated: 2,
      timeout: 1,
    });
    expect((await post(s, '/events', q)).status).toBe(200);
  });

  it('draws faults at the configured rate, reproducibly', async () => {
    const counts: number[] = [];
    for (let run = 0; run < 2; run++) {
      const s = await sim({
        clock: manualClock(T0),
        eventsPerMinute: 1,
        seed: 7,
        faults: { rate: 0.3, kinds: ['500', '503'] },
      });
      let failed = 0;
      for (let i = 0; i < 200; i++) {
        const r = await post(s, '/events/count', { service: ['all'], start_time: iso(T0 - 60_000) });
        if (r.status !== 200) failed++;
      }
      counts.push(failed);
    }
    expect(counts[0]).toBe(counts[1]);
    expect(counts[0]).toBeGreaterThan(35);
    expect(counts[0]).toBeLessThan(85);
  });
});
