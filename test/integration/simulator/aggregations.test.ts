// /events/interval and /events/distinct agree with /events: their buckets add up to the events the same
// query pages through, bucket by bucket and value by value.
import { afterEach, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../../input/simulator/server.js';
import { iso, manualClock } from '../../support/simulator.js';

const T0 = Date.UTC(2026, 5, 1, 12, 0, 0);
let s: Simulator | undefined;
afterEach(async () => {
  await s?.close();
  s = undefined;
});

async function post(path: string, body: unknown): Promise<{ status: number; json: any; allow: string | null }> {
  const res = await fetch(s!.url + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': s!.apiKey },
    body: JSON.stringify(body),
  });
  return { status: res.status, json: await res.json(), allow: res.headers.get('allow') };
}

async function allEvents(
  q: Record<string, unknown>,
): Promise<Array<{ id: string; timestamp: string; event_type: string }>> {
  const out: any[] = [];
  let after: unknown;
  for (;;) {
    const r = await post('/events', { ...q, limit: 10_000, ...(after ? { search_after: after } : {}) });
    out.push(...r.json);
    if (r.json.length < 10_000) return out;
    after = [Date.parse(r.json.at(-1).timestamp), r.json.at(-1).id];
  }
}

describe('simulator aggregations', () => {
  const q = { service: ['all'], start_time: iso(T0 - 3_600_000), end_time: iso(T0) };

  it('/events/interval: 5-minute buckets (in -05:30) count exactly the events of each', async () => {
    s = await startSimulator({
      clock: manualClock(T0),
      eventsPerMinute: 20,
      from: T0 - 3_600_000,
      indexDelay: { maxMs: 0 },
    });
    const events = await allEvents(q);
    const r = await post('/events/interval', { ...q, interval_unit: 'm', interval_value: '5', timezone: '-0530' });
    expect(r.status).toBe(200);
    const want = new Map<number, number>();
    const shift = -(5 * 60 + 30) * 60_000;
    for (const e of events) {
      const k = Math.floor((Date.parse(e.timestamp) + shift) / 300_000) * 300_000 - shift;
      want.set(k, (want.get(k) ?? 0) + 1);
    }
    expect(new Map(r.json.buckets.map((b: any) => [b.key, b.doc_count]))).toStrictEqual(want);
    for (const b of r.json.buckets) expect(b.key_as_string).toBe(new Date(b.key).toISOString());
    expect(r.json.buckets.reduce((n: number, b: any) => n + b.doc_count, 0)).toBe(events.length);
  });

  it('/events/distinct: every event_type with its count, commonest first', async () => {
    s = await startSimulator({
      clock: manualClock(T0),
      eventsPerMinute: 20,
      from: T0 - 3_600_000,
      indexDelay: { maxMs: 0 },
    });
    const events = await allEvents(q);
    const r = await post('/events/distinct', { ...q, field: 'event_type' });
    expect(r.status).toBe(200);
    const want = new Map<string, number>();
    for (const e of events) want.set(e.event_type, (want.get(e.event_type) ?? 0) + 1);
    expect(new Map(r.json.buckets.map((b: any) => [b.key, b.doc_count]))).toStrictEqual(want);
    const counts = r.json.buckets.map((b: any) => b.doc_count);
    expect(counts).toStrictEqual([...counts].sort((a, b) => b - a));
    expect(r.json.sum_other_doc_count).toBe(0);
  });

  it('bad aggregation queries get a 400 naming the fix; other methods a 405 with Allow', async () => {
    s = await startSimulator({ clock: manualClock(T0), eventsPerMinute: 1, from: T0 - 3_600_000 });
    expect((await post('/events/interval', { ...q })).json.message).toMatch(/interval_unit is required/);
    expect((await post('/events/interval', { ...q, interval_unit: 'h', interval_value: '0' })).status).toBe(400);
    expect(
      (await post('/events/interval', { ...q, interval_unit: 'h', timezone: 'Mars/Olympus' })).json.message,
    ).toMatch(/invalid timezone/);
    expect(
      (await post('/events/interval', { ...q, interval_unit: 's', start_time: iso(T0 - 30 * 86_400_000) })).json
        .message,
    ).toMatch(/more than 10000 buckets/);
    expect((await post('/events/distinct', { ...q })).json.message).toMatch(/field is required/);
    const get = await fetch(s.url + '/events/distinct', { headers: { 'x-api-key': s.apiKey } });
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
  });
});
