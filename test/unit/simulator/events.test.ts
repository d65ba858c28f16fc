import { describe, expect, it } from 'vitest';
import { splitJsonArray } from '../../../input/di/page-split.js';
import { parseRfc3339 } from '../../../input/di/rfc3339.js';
import { EventStore, GENERATED_SERVICES, type EventStoreOptions } from '../../../input/simulator/events.js';

const T0 = Date.UTC(2026, 5, 1, 12, 0, 0);
const base: EventStoreOptions = {
  seed: 42,
  orgs: ['', 'org-b'],
  services: GENERATED_SERVICES,
  eventsPerMinute: 60,
  fromMs: T0 - 6 * 3_600_000,
  toMs: T0,
  indexDelay: { typicalMaxMs: 5_000, lateFraction: 0.05, maxMs: 30 * 60_000 },
};
const everything = (store: EventStore, orgs = [''], service = 'all') => ({
  streams: store.streamsFor(orgs, service),
  start: { ms: base.fromMs, subNs: 0 },
  end: { ms: T0, subNs: 0 },
  visibleAt: Infinity,
});

describe('EventStore generator', () => {
  it('is deterministic per seed', () => {
    const a = new EventStore(base);
    const b = new EventStore(base);
    const c = new EventStore({ ...base, seed: 43 });
    const sa = a.scan(everything(a), 2000);
    const sb = b.scan(everything(b), 2000);
    expect(sb.map((s) => s.id)).toEqual(sa.map((s) => s.id));
    expect(sb.slice(0, 50).map((s) => b.text(s))).toEqual(sa.slice(0, 50).map((s) => a.text(s)));
    expect(c.scan(everything(c), 2000).map((s) => s.id)).not.toEqual(sa.map((s) => s.id));
  });

  it("makes unique ids in (ms, id) order, with millisecond ties and each service's fraction digits", () => {
    const store = new EventStore(base);
    const all = [...store.scan(everything(store, ['', 'org-b']), Infinity)];
    expect(all.length).toBeGreaterThan(30_000);
    expect(new Set(all.map((s) => s.id)).size).toBe(all.length);
    let ties = 0;
    for (let i = 1; i < all.length; i++) {
      const p = all[i - 1]!;
      const s = all[i]!;
      expect(p.ms < s.ms || (p.ms === s.ms && p.id < s.id)).toBe(true);
      if (p.ms === s.ms) ties++;
    }
    expect(ties).toBeGreaterThan(100);
    // RADIUS whole seconds, directory milliseconds, SSO nanoseconds as Go writes them (trailing zeros cut), the
    // services whose spelling is not known 0, 3, 6 or 9 digits.
    const digits = new Map<string, Set<number>>();
    for (const s of all) {
      const service = store.serviceOf(s.stream);
      const fraction = /\.(\d+)Z$/.exec(s.timestamp)?.[1] ?? '';
      if (service === 'sso') expect(fraction).not.toMatch(/0$/);
      (digits.get(service) ?? digits.set(service, new Set()).get(service)!).add(fraction.length);
    }
    expect([...digits.get('radius')!]).toEqual([0]);
    expect([...digits.get('directory')!]).toEqual([3]);
    expect([...digits.get('sso')!]).toEqual(expect.arrayContaining([3, 7, 8, 9]));
    expect([...digits.get('ldap')!].sort()).toEqual([0, 3, 6, 9]);
    for (const s of all.slice(0, 5000)) {
      const t = parseRfc3339(s.timestamp)!;
      expect([t.ms, t.subNs]).toEqual([s.ms, s.subNs]);
      expect(s.visibleAt).toBeGreaterThanOrEqual(s.ms);
      expect(s.visibleAt - s.ms).toBeLessThanOrEqual(30 * 60_000);
    }
    const late = all.filter((s) => s.visibleAt - s.ms > 5_000).length / all.length;
    expect(late).toBeGreaterThan(0.03);
    expect(late).toBeLessThan(0.07);
  });

  it('renders realistic events of 0.5-3 KB that carry the reported id and timestamp', () => {
    const store = new EventStore(base);
    const sample = store.scan(everything(store), 3000);
    const split = [...splitJsonArray(store.page(sample))];
    expect(split.map((e) => e.id)).toEqual(sample.map((s) => s.id));
    const types = new Set<string>();
    let bytes = 0;
    let nonAscii = 0;
    for (let i = 0; i < split.length; i++) {
      const e = split[i]!;
      const text = Buffer.from(e.raw).toString('utf8');
      const o = JSON.parse(text) as {
        id: string;
        timestamp: string;
        service: string;
        event_type: string;
        organization: string;
      };
      const stream = store.streams[sample[i]!.stream]!;
      expect([o.id, o.timestamp, o.service]).toEqual([sample[i]!.id, sample[i]!.timestamp, stream.service]);
      expect(o.organization).toMatch(/^[0-9a-f]{24}$/);
      if (o.service === 'radius')
        expect(o.id).toMatch(/^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$/);
      else expect(o.id).toMatch(/^[0-9a-f]{24}$/);
      types.add(o.event_type);
      const size = e.raw.length;
      bytes += size;
      expect(size).toBeLessThan(4000);
      if (/[^\x00-\x7f]/.test(text)) nonAscii++;
    }
    const avg = bytes / split.length;
    expect(avg).toBeGreaterThan(500);
    expect(avg).toBeLessThan(3000);
    expect(nonAscii).toBeGreaterThan(split.length / 10);
    for (const t of [
      'admin_login_attempt',
      'user_update',
      'association_change',
      'sso_auth',
      'radius_auth_attempt',
      'ldap_bind',
      'ldap_search',
      'login_attempt',
    ])
      expect(types).toContain(t);
    expect([...types].some((t) => t.startsWith('passwordmanager_'))).toBe(true);
  });

  it('keeps 30 days of history cheap: counted lazily, memory bounded by the cache', () => {
    const store = new EventStore({
      ...base,
      orgs: [''],
      services: ['directory'],
      eventsPerMinute: 5,
      fromMs: T0 - 30 * 86_400_000,
      cacheLimit: 20_000,
    });
    const before = process.memoryUsage().heapUsed;
    const n = store.count({ ...everything(store, [''], 'directory'), start: { ms: T0 - 30 * 86_400_000, subNs: 0 } });
    expect(n).toBeGreaterThan(150_000);
    expect(n).toBeLessThan(280_000);
    expect(process.memoryUsage().heapUsed - before).toBeLessThan(100 * 1024 * 1024);
  });

  it('keeps generating as the clock advances when live', () => {
    const store = new EventStore({ ...base, toMs: 'live' });
    const range = (now: number) => ({
      streams: store.streamsFor([''], 'sso'),
      start: { ms: T0, subNs: 0 },
      end: { ms: T0 + 3_600_000, subNs: 0 },
      visibleAt: now,
    });
    const early = store.count(range(T0 + 600_000));
    const later = store.count(range(T0 + 3_600_000 + 30 * 60_000));
    expect(early).toBeGreaterThan(0);
    expect(later).toBeGreaterThan(early * 4);
  });
});
