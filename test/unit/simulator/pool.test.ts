// The bodies every org shares: each type of the catalog is among them and is drawn at its weight; a body's holes
// take each stream's ids, and nothing else of it changes from org to org.
import { describe, expect, it } from 'vitest';
import { CATALOG_SERVICES, streamEntries } from '../../../input/simulator/catalog.js';
import { EventStore } from '../../../input/simulator/events.js';
import { BodyPool } from '../../../input/simulator/pool.js';
import { organizationId } from '../../../input/simulator/stamp.js';

describe('body pools', () => {
  it('serve every type of each service (and of the provider stream) at its weight', () => {
    const kinds = [...CATALOG_SERVICES.map((service) => ['org', service] as const), ['provider', 'directory'] as const];
    let types = 0;
    for (const [stream, service] of kinds) {
      const pool = new BodyPool({ seed: 3, service, stream, withProviders: true });
      const entries = streamEntries(service, stream);
      const weight = (t: string): number => {
        const e = entries.find((x) => x.type === t)!;
        return stream === 'org' ? e.weight : e.providerWeight;
      };
      const total = entries.reduce((n, e) => n + weight(e.type), 0);
      // Every variant's high 16 bits, once: the exact share of each type.
      const seen = new Map<string, number>();
      for (let hi = 0; hi < 65_536; hi++) {
        const t = pool.body(((hi << 16) >>> 0) | ((hi * 7919) & 0xffff)).entry.type;
        seen.set(t, (seen.get(t) ?? 0) + 1);
      }
      expect([...seen.keys()].sort(), service).toEqual(entries.map((e) => e.type).sort());
      for (const [t, n] of seen) {
        const share = weight(t) / total;
        // At least one slot each, otherwise the weight's slots, rounded down; the commonest type takes the rest.
        expect(n, `${service} ${t}`).toBeLessThanOrEqual(Math.max(1, Math.ceil(share * 65_536)) + entries.length);
        expect(n, `${service} ${t}`).toBeGreaterThanOrEqual(Math.max(1, Math.floor(share * 65_536) - entries.length));
      }
      types += entries.length;
    }
    // 367 entries but the 36 only in the portal and radius_auth (weight 0): 330 on org streams; 43 on the portal's.
    expect(types).toBe(330 + 43);
  });

  it("fill each org's id into shared bodies: two orgs' events differ in their ids alone", () => {
    const T = Date.UTC(2026, 0, 1);
    const store = new EventStore({
      seed: 5,
      orgs: ['a', 'b'],
      services: ['directory'],
      eventsPerMinute: 60,
      fromMs: T - 600_000,
      toMs: T,
      indexDelay: { typicalMaxMs: 0, lateFraction: 0, maxMs: 0 },
    });
    const [a, b] = [store.stream('a', 'directory')!, store.stream('b', 'directory')!];
    const range = { streams: [a], start: { ms: T - 600_000, subNs: 0 }, end: { ms: T, subNs: 0 }, visibleAt: Infinity };
    const ev = store.scan(range, 1)[0]!;
    const inA = store.text(ev);
    const inB = store.text({ ...ev, stream: b });
    expect(JSON.parse(inA).organization).toBe(organizationId('a', 5));
    expect(inB).toBe(inA.split(organizationId('a', 5)).join(organizationId('b', 5)));
    expect(inA).not.toContain('@@');
  });
});
