// The simulator's catalog against JumpCloud's own API description: every type its "Event Types" tables list is
// in the catalog under the section's service, and the catalog holds nothing else but the named real-data types.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  CATALOG,
  CATALOG_SERVICES,
  MTP_SECTION,
  REAL_DATA_SECTION,
  REAL_DATA_TYPES,
  sampleEvent,
  serviceFormat,
  streamEntries,
} from '../../../input/simulator/catalog.js';
import { VALID_SERVICES } from '../../../input/simulator/server.js';

const SPEC = new URL('../../conformance/di-openapi.yaml', import.meta.url);

/** [section heading, type] for every row of the description's Event Types tables. */
function describedTypes(): [string, string][] {
  const description = (parse(readFileSync(SPEC, 'utf8')) as { info: { description: string } }).info.description;
  const start = description.indexOf('\n# Event Types');
  expect(start, 'the description has an "# Event Types" part').toBeGreaterThan(0);
  const rows: [string, string][] = [];
  let section = '';
  for (const line of description.slice(start).split('\n')) {
    const heading = /^## (.+?)\s*$/.exec(line);
    if (heading) section = heading[1]!;
    const cell = /^\s*([a-z0-9_-]+)\s*\|/.exec(line)?.[1];
    if (section && cell && !/^-+$/.test(cell)) rows.push([section, cell]);
  }
  return rows;
}

describe('the catalog', () => {
  const described = describedTypes();

  it('reads the description: 374 table rows, 364 distinct types in 25 sections', () => {
    // Guards the parser: if JumpCloud's tables change shape, this fails before the comparisons below mislead.
    expect(described.length).toBe(374);
    expect(new Set(described.map(([, t]) => t)).size).toBe(364);
    expect(new Set(described.map(([s]) => s)).size).toBe(25);
  });

  it('holds every type the description lists, under the section it is listed in', () => {
    const missing = described.filter(
      ([section, type]) => !CATALOG.some((e) => e.type === type && e.sections.includes(section)),
    );
    expect(missing).toEqual([]);
  });

  it('holds no type the description does not list, but the named real-data types', () => {
    const listed = new Set(described.map(([, t]) => t));
    const extra = CATALOG.filter((e) => !listed.has(e.type)).map((e) => e.type);
    expect(extra).toEqual(Object.keys(REAL_DATA_TYPES));
    for (const e of CATALOG.filter((x) => !listed.has(x.type))) expect(e.section).toBe(REAL_DATA_SECTION);
  });

  it('gives each section one service the API accepts, and every service a generated type', () => {
    const bySection = new Map<string, Set<string>>();
    for (const e of CATALOG) {
      for (const s of e.sections) (bySection.get(s) ?? bySection.set(s, new Set()).get(s)!).add(e.service);
    }
    for (const [section, services] of bySection) {
      expect([section, services.size]).toEqual([section, 1]);
      expect(VALID_SERVICES).toContain([...services][0]);
    }
    for (const s of CATALOG_SERVICES) expect(streamEntries(s, 'org').length, s).toBeGreaterThan(0);
    expect(
      streamEntries('directory', 'provider')
        .map((e) => e.type)
        .sort(),
    ).toEqual([...new Set(described.filter(([s]) => s === MTP_SECTION).map(([, t]) => t))].sort());
  });

  it('serves radius_auth_attempt, as real RADIUS events are named, and keeps radius_auth ungenerated', () => {
    expect(streamEntries('radius', 'org').map((e) => e.type)).toEqual(['radius_auth_attempt']);
    expect(CATALOG.find((e) => e.type === 'radius_auth')).toMatchObject({ service: 'radius', weight: 0 });
  });

  it('makes a complete, deterministic sample of every entry, ending with id and timestamp', () => {
    for (const e of CATALOG) {
      const a = sampleEvent(e.type, 5, 'org-a', { service: e.service });
      expect(sampleEvent(e.type, 5, 'org-a', { service: e.service })).toEqual(a);
      expect(sampleEvent(e.type, 6, 'org-a', { service: e.service })).not.toEqual(a);
      const keys = Object.keys(a);
      expect(keys.slice(-2), e.type).toEqual(['id', 'timestamp']);
      expect(a).toMatchObject({ event_type: e.type, service: e.service, '@version': '1' });
      expect(a.organization).toMatch(/^[0-9a-f]{24}$/);
      expect(JSON.stringify(a)).not.toContain('@@');
      const format = serviceFormat(e.service);
      expect(a.id).toMatch(format.id === 'uuid' ? /^[0-9A-F]{8}(-[0-9A-F]{4}){3}-[0-9A-F]{12}$/ : /^[0-9a-f]{24}$/);
    }
  });

  it('spells what real data spells: provider, timestamps, success, @version', () => {
    const directory = sampleEvent('user_update', 1);
    expect(directory.provider).toBeNull();
    expect(directory.timestamp).toMatch(/T\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(sampleEvent('sso_auth', 1).provider).toBe('');
    expect(sampleEvent('radius_auth_attempt', 1).timestamp).toMatch(/T\d\d:\d\d:\d\dZ$/);
    expect(sampleEvent('organization_create', 1)).not.toHaveProperty('success');
    const sso = Array.from({ length: 50 }, (_, i) => String(sampleEvent('sso_auth', i).timestamp));
    expect(sso.some((t) => /\.\d{7,9}Z$/.test(t))).toBe(true);
    expect(() => sampleEvent('radius_auht', 1)).toThrow(/did you mean "radius_auth"/);
  });
});

describe('family shapes', () => {
  /** 20 samples of every entry of a family. */
  const samples = (family: string): Record<string, unknown>[] =>
    CATALOG.filter((e) => e.family === family).flatMap((e) =>
      Array.from({ length: 20 }, (_, i) => sampleEvent(e.type, i, 'org-a', { service: e.service })),
    );
  const step = (v: unknown, k: string): unknown =>
    v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined;
  const has = (o: Record<string, unknown>, path: string): boolean => path.split('.').reduce(step, o) !== undefined;

  it('object changes: who, what (resource id and type), how, from where', () => {
    for (const e of samples('object_change')) {
      for (const f of [
        'initiated_by.type',
        'resource.type',
        'auth_method',
        'client_ip',
        'geoip.country_code',
        'useragent',
      ]) {
        expect(has(e, f), `${String(e.event_type)} ${f}`).toBe(true);
      }
      for (const c of (e.changes ?? []) as Record<string, unknown>[]) expect(typeof c.field).toBe('string');
    }
    const updates = Array.from({ length: 400 }, (_, i) => sampleEvent('user_update', i));
    const fields = new Set(updates.flatMap((e) => (e.changes as { field: string }[]).map((c) => c.field)));
    for (const f of ['attributes', 'suspended', 'mfa', 'totp_enabled', 'enable_user_portal_multifactor']) {
      expect(fields, f).toContain(f);
    }
  });

  it('authentications: success, mfa and an error when they fail', () => {
    for (const family of ['portal_auth', 'radius_auth', 'system_auth']) {
      const all = samples(family);
      expect(all.some((e) => e.success === false)).toBe(true);
      for (const e of all) {
        expect([typeof e.success, typeof e.mfa], String(e.event_type)).toEqual(['boolean', 'boolean']);
        if (e.success === false) expect(e.error_message ?? e.message, String(e.event_type)).toBeTruthy();
      }
    }
    expect(samples('portal_auth').some((e) => e.success === true && e.error_message === null)).toBe(true);
    for (const e of samples('sso_auth')) expect(typeof e.sso_token_success).toBe('boolean');
  });

  it('device events carry the system; associations their connection; commands their command', () => {
    for (const e of [...samples('system_event'), ...samples('system_auth')]) {
      expect(has(e, 'system.id'), String(e.event_type)).toBe(true);
    }
    const assoc = samples('association');
    for (const e of assoc) expect(has(e, 'association.connection.to.type')).toBe(true);
    expect(assoc.some((e) => has(e, 'association.attributes.sudo.enabled'))).toBe(true);
    for (const e of samples('command')) expect(has(e, 'resource.name'), String(e.event_type)).toBe(true);
    expect(
      samples('system_event')
        .filter((e) => e.event_type === 'system_fde_key_decrypt')
        .every((e) => (e.initiated_by as { type: string }).type === 'admin'),
    ).toBe(true);
  });
});
