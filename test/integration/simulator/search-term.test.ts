// The simulator's search_term (di-openapi.yaml "Search", "Operator-based search terms"): what /events returns with a
// filter equals the unfiltered answer filtered by an independent reading of the documented semantics (property);
// /events/count and /events/interval count the same events; malformed terms are a 400 naming the problem.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../../input/simulator/server.js';
import { iso, manualClock } from '../../support/simulator.js';

const T0 = Date.UTC(2026, 5, 1, 12, 0, 0);
const FROM = T0 - 20 * 60_000;
type Ev = { id: string; timestamp: string; event_type: string; success?: boolean; [k: string]: unknown };

let s: Simulator;
let all: Ev[];
const q = { service: ['all'], start_time: iso(FROM), end_time: iso(T0) };

async function post(sim: Simulator, path: string, body: unknown): Promise<{ status: number; json: any }> {
  const res = await fetch(sim.url + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': sim.apiKey },
    body: JSON.stringify(body),
  });
  return { status: res.status, json: await res.json() };
}

async function events(sim: Simulator, body: Record<string, unknown>): Promise<Ev[]> {
  const out: Ev[] = [];
  let after: unknown;
  for (;;) {
    const r = await post(sim, '/events', { ...body, limit: 1000, ...(after ? { search_after: after } : {}) });
    expect(r.status, JSON.stringify(r.json)).toBe(200);
    out.push(...(r.json as Ev[]));
    if (r.json.length < 1000) return out;
    after = [Date.parse(r.json.at(-1).timestamp), r.json.at(-1).id];
  }
}

beforeAll(async () => {
  s = await startSimulator({
    clock: manualClock(T0),
    eventsPerMinute: 30,
    from: FROM,
    indexDelay: { maxMs: 0 },
    services: ['directory', 'sso', 'radius'],
  });
  all = await events(s, q);
});
afterAll(async () => {
  await s.close();
});

// ---- the reference: the documented semantics, read independently of input/simulator/search-term.ts ----
/** An RFC 3339 UTC time (Z) to nanoseconds since the epoch: timestamps carry up to 9 fraction digits. */
function nanos(ts: string): bigint {
  const m = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?Z$/.exec(ts);
  if (!m) throw new Error(`reference: unexpected timestamp ${ts}`);
  return BigInt(Date.parse(`${m[1]}Z`)) * 1_000_000n + BigInt((m[2] ?? '').padEnd(9, '0'));
}
type Crit = { field: string; operator: string; value: unknown } | { and: Crit[] } | { or: Crit[] } | { not: Crit[] };
function holds(c: Crit, e: Ev): boolean {
  if ('and' in c) return c.and.every((x) => holds(x, e));
  if ('or' in c) return c.or.some((x) => holds(x, e));
  if ('not' in c) return !c.not.some((x) => holds(x, e));
  const v = e[c.field];
  const t = nanos(e.timestamp);
  switch (c.operator) {
    case 'eq':
      return String(v).toLowerCase() === String(c.value).toLowerCase();
    case 'in':
      return (c.value as unknown[]).some((x) => String(x).toLowerCase() === String(v).toLowerCase());
    case 'not_in':
      return !(c.value as unknown[]).some((x) => String(x).toLowerCase() === String(v).toLowerCase());
    case 'before':
      return t < nanos(String(c.value));
    case 'after':
      return t > nanos(String(c.value));
    default:
      throw new Error(`reference has no ${c.operator}`);
  }
}

describe('search_term against the simulator', () => {
  it('returns exactly the events the documented semantics select (property over and / or / not, eq / in / not_in / before / after)', async () => {
    expect(all.length).toBeGreaterThan(1000);
    const ids = all.map((e) => e.id);
    const types = [...new Set(all.map((e) => e.event_type))];
    const times = all.map((e) => e.timestamp);
    const leaf: fc.Arbitrary<Crit> = fc.oneof(
      fc.constantFrom(...types).map((v) => ({ field: 'event_type', operator: 'eq', value: v.toUpperCase() })),
      fc.subarray(types, { minLength: 1 }).map((v) => ({ field: 'event_type', operator: 'in', value: v })),
      fc.subarray(ids.slice(0, 200), { maxLength: 30 }).map((v) => ({ field: 'id', operator: 'not_in', value: v })),
      fc.subarray(ids, { minLength: 1, maxLength: 20 }).map((v) => ({ field: 'id', operator: 'in', value: v })),
      fc.constantFrom(...times).map((v) => ({ field: 'timestamp', operator: 'before', value: v })),
      fc.constantFrom(...times).map((v) => ({ field: 'timestamp', operator: 'after', value: v })),
    );
    const term = fc.letrec<{ t: Crit }>((tie) => ({
      t: fc.oneof(
        { depthSize: 'small', withCrossShrink: true },
        leaf,
        fc.array(tie('t'), { minLength: 1, maxLength: 3 }).map((a) => ({ and: a })),
        fc.array(tie('t'), { minLength: 1, maxLength: 3 }).map((a) => ({ or: a })),
        fc.array(tie('t'), { minLength: 1, maxLength: 2 }).map((a) => ({ not: a })),
      ),
    })).t;
    await fc.assert(
      fc.asyncProperty(term, async (t) => {
        const top = 'and' in t || 'or' in t || 'not' in t ? t : { and: [t] };
        const got = await events(s, { ...q, search_term: top });
        expect(got.map((e) => e.id)).toEqual(all.filter((e) => holds(top, e)).map((e) => e.id));
      }),
      { numRuns: 60 },
    );
  }, 120_000);

  it('the original form: a field mapped to a value or a list (in); /events/count and /events/interval count the same', async () => {
    const [a, b] = [...new Set(all.map((e) => e.event_type))];
    const term = { or: [{ event_type: a!.toUpperCase() }, { id: [all[0]!.id, all[1]!.id] }] };
    const want = all.filter((e) => e.event_type === a || e.id === all[0]!.id || e.id === all[1]!.id);
    expect(want.length).toBeGreaterThan(2);
    expect((await events(s, { ...q, search_term: term })).map((e) => e.id)).toEqual(want.map((e) => e.id));
    expect((await post(s, '/events/count', { ...q, search_term: term })).json).toEqual({ count: want.length });
    const iv = await post(s, '/events/interval', {
      ...q,
      search_term: { and: [{ event_type: [a, b] }] },
      interval_unit: 'm',
      interval_value: '5',
    });
    expect(iv.json.buckets.reduce((n: number, x: { doc_count: number }) => n + x.doc_count, 0)).toBe(
      all.filter((e) => e.event_type === a || e.event_type === b).length,
    );
  });

  it('a malformed term is a 400 that says what is wrong', async () => {
    const bad: Array<[unknown, RegExp]> = [
      [{ and: [{ field: 'event_type', operator: 'like', value: 'x' }] }, /operator "like" is not supported/],
      [{ and: [{ field: 'useragent', operator: 'eq', value: 'x' }] }, /not searchable/],
      [{ and: [{ field: 'timestamp', operator: 'after', value: 'yesterday' }] }, /not an RFC 3339 timestamp/],
      [{ and: [{ field: 'id', operator: 'in', value: 'x' }] }, /takes a list/],
      [JSON.parse('{"and":[' + '{"or":['.repeat(40) + '{"id":"x"}' + ']}'.repeat(40) + ']}'), /nested more than/],
      ['id=x', /must be an object/],
      [{ and: 'x' }, /must be a list of criteria/],
    ];
    for (const [term, msg] of bad) {
      const r = await post(s, '/events', { ...q, search_term: term });
      expect(r.status, JSON.stringify(term).slice(0, 80)).toBe(400);
      expect(r.json.message).toMatch(msg);
    }
  });

  it('several conjunctions in one term all apply; empty ones and other keys constrain nothing (the published example sends all three)', async () => {
    const [a] = [...new Set(all.map((e) => e.event_type))];
    expect((await events(s, { ...q, search_term: { and: {}, not: {}, or: {} } })).length).toBe(all.length);
    // not a conjunction: ignored
    expect((await events(s, { ...q, search_term: { xor: [{ id: 'x' }] } })).length).toBe(all.length);
    const got = await events(s, {
      ...q,
      search_term: { and: [{ event_type: a }], not: [{ id: all.find((e) => e.event_type === a)!.id }] },
    });
    expect(got.map((e) => e.id)).toEqual(
      all
        .filter((e) => e.event_type === a)
        .slice(1)
        .map((e) => e.id),
    );
  });

  it('--search-term ignore answers as if the term were absent; refuse answers 400', async () => {
    const term = { and: [{ field: 'id', operator: 'in', value: [all[0]!.id] }] };
    for (const mode of ['ignore', 'refuse'] as const) {
      const sim = await startSimulator({
        clock: manualClock(T0),
        eventsPerMinute: 30,
        from: FROM,
        indexDelay: { maxMs: 0 },
        services: ['directory', 'sso', 'radius'],
        searchTerm: mode,
      });
      try {
        if (mode === 'ignore') expect((await events(sim, { ...q, search_term: term })).length).toBe(all.length);
        else expect((await post(sim, '/events', { ...q, search_term: term })).status).toBe(400);
      } finally {
        await sim.close();
      }
    }
  });
});
