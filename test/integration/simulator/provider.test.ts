// The Multi-Tenant Portal: x-provider-id reads a provider's own events, exclude_provider_activity keeps its admins'
// work out of its orgs' events, and the two headers together are refused, as the API description reads.
import { afterEach, describe, expect, it } from 'vitest';
import { MTP_SECTION, streamEntries } from '../../../input/simulator/catalog.js';
import { startSimulator, type Simulator, type SimulatorOptions } from '../../../input/simulator/server.js';
import { organizationId, providerObjectId } from '../../../input/simulator/stamp.js';
import { iso, manualClock } from '../../support/simulator.js';

const T0 = Date.UTC(2026, 5, 1, 12, 0, 0);
const ORGS = ['5f0000000000000000000001', '5f0000000000000000000002', '5f0000000000000000000003'];
const PROVIDERS = ['msp-north', 'msp-south'];
type Ev = Record<string, unknown> & { id: string; event_type: string; initiated_by?: Record<string, unknown> };

let sims: Simulator[] = [];
afterEach(async () => {
  await Promise.all(sims.map((s) => s.close()));
  sims = [];
});

async function sim(opts: SimulatorOptions = {}): Promise<Simulator> {
  const s = await startSimulator({
    clock: manualClock(T0),
    seed: 9,
    orgs: ORGS,
    providers: PROVIDERS,
    services: ['directory', 'sso'],
    eventsPerMinute: 60,
    from: T0 - 2 * 3_600_000,
    indexDelay: { maxMs: 0 },
    ...opts,
  });
  sims.push(s);
  return s;
}

async function post(s: Simulator, path: string, body: unknown, headers: Record<string, string>) {
  const res = await fetch(s.url + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': s.apiKey, ...headers },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, json: JSON.parse(text) as unknown };
}

/** Every event of the query, page by page. */
async function all(s: Simulator, body: Record<string, unknown>, headers: Record<string, string>): Promise<Ev[]> {
  const out: Ev[] = [];
  let after: unknown;
  for (;;) {
    const r = await post(s, '/events', { ...body, limit: 10_000, ...(after ? { search_after: after } : {}) }, headers);
    expect(r.status).toBe(200);
    const page = r.json as Ev[];
    out.push(...page);
    if (page.length < 10_000) return out;
    after = [Date.parse(page.at(-1)!.timestamp as string), page.at(-1)!.id];
  }
}

const window = { service: ['all'], start_time: iso(T0 - 2 * 3_600_000), end_time: iso(T0) };

describe('x-provider-id', () => {
  it("returns the provider's Multi-Tenant-Portal events only, as directory events naming it", async () => {
    const s = await sim();
    const events = await all(s, window, { 'x-provider-id': 'msp-north' });
    expect(events.length).toBeGreaterThan(150);
    const mtp = new Set(streamEntries('directory', 'provider').map((e) => e.type));
    expect(mtp.size).toBe(43);
    const provider = providerObjectId('msp-north', 9);
    // msp-north manages orgs 0 and 2 (org i belongs to provider i mod 2).
    const children = [organizationId(ORGS[0]!, 9), organizationId(ORGS[2]!, 9)];
    for (const e of events) {
      expect(mtp.has(e.event_type), e.event_type).toBe(true);
      expect(e).toMatchObject({ service: 'directory', provider });
      expect(children).toContain(e.organization);
      if (e.initiated_by?.type === 'admin') expect(e.initiated_by.provider).toBe(provider);
    }
    expect(new Set(events.map((e) => e.event_type))).toContain('admin_login_attempt');
    const expected = s.expectedEvents({
      providerId: 'msp-north',
      service: 'all',
      start: window.start_time,
      end: window.end_time,
    });
    expect(events.map((e) => e.id)).toEqual(expected.map((e) => e.id));
    // Other services have no portal events; the other provider's are its own.
    expect(await all(s, { ...window, service: ['sso'] }, { 'x-provider-id': 'msp-north' })).toEqual([]);
    const south = await all(s, window, { 'x-provider-id': 'msp-south' });
    expect(south.every((e) => e.provider === providerObjectId('msp-south', 9))).toBe(true);
    expect(MTP_SECTION).toBe('Directory - MTP/MSP Events');
  });

  it('is refused with x-org-id, for an unknown provider, and with more than one id', async () => {
    const s = await sim();
    const both = await post(s, '/events', window, { 'x-provider-id': 'msp-north', 'x-org-id': ORGS[0]! });
    expect(both.status).toBe(400);
    expect((both.json as { message: string }).message).toMatch(
      /x-provider-id and x-org-id cannot be sent together: send x-provider-id alone/,
    );
    const unknown = await post(s, '/events', window, { 'x-provider-id': 'msp-west' });
    const refused = 'Forbidden: provider msp-west is not accessible with these credentials';
    expect(unknown).toEqual({ status: 403, json: { message: refused } });
    expect((await post(s, '/events', window, { 'x-provider-id': 'msp-north, msp-south' })).status).toBe(400);
    const none = await sim({ providers: [], orgs: [''] });
    expect((await post(none, '/events/count', window, { 'x-provider-id': 'msp-north' })).status).toBe(403);
  });
});

describe('exclude_provider_activity', () => {
  it("leaves out exactly the org events done by a provider's admin, in every route", async () => {
    const s = await sim();
    const org = { 'x-org-id': ORGS[1]! };
    const every = await all(s, window, org);
    const kept = await all(s, { ...window, exclude_provider_activity: true }, org);
    const byProvider = every.filter((e) => e.initiated_by?.provider !== undefined);
    expect(byProvider.length).toBeGreaterThan(5);
    // msp-south manages org 1; its admins act there as such (provider set as in the portal's own events).
    const south = providerObjectId('msp-south', 9);
    for (const e of byProvider) expect(e).toMatchObject({ provider: south, service: 'directory' });
    expect(kept.map((e) => e.id)).toEqual(every.filter((e) => e.initiated_by?.provider === undefined).map((e) => e.id));
    expect(kept.every((e) => e.provider === null || e.provider === '')).toBe(true);
    const count = await post(s, '/events/count', { ...window, exclude_provider_activity: true }, org);
    expect(count.json).toEqual({ count: kept.length });
    const whole = await post(s, '/events/count', { ...window, exclude_provider_activity: false }, org);
    expect(whole.json).toEqual({ count: every.length });
    const expected = s.expectedEvents({
      orgId: ORGS[1],
      service: 'all',
      start: window.start_time,
      end: window.end_time,
      excludeProviderActivity: true,
    });
    expect(expected.map((e) => e.id)).toEqual(kept.map((e) => e.id));
    // On the provider's own stream every event is provider activity.
    expect(await all(s, { ...window, exclude_provider_activity: true }, { 'x-provider-id': 'msp-south' })).toEqual([]);
  });

  it('is a boolean', async () => {
    const s = await sim();
    const r = await post(s, '/events', { ...window, exclude_provider_activity: 'yes' }, { 'x-org-id': ORGS[0]! });
    const message = 'exclude_provider_activity must be true or false (got "yes")';
    expect(r).toEqual({ status: 400, json: { message } });
  });

  it('finds nothing to leave out without providers', async () => {
    const s = await sim({ providers: [] });
    const org = { 'x-org-id': ORGS[0]! };
    const every = await all(s, window, org);
    expect(every.some((e) => e.initiated_by?.provider !== undefined)).toBe(false);
    expect((await all(s, { ...window, exclude_provider_activity: true }, org)).length).toBe(every.length);
  });
});
