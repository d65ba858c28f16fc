// Golden files: the ten Sekoia samples through jumpcloud_ecs (both input forms), and the Elastic-shape
// expectations through jumpcloud_elastic.
import { describe, it, expect, beforeAll } from 'vitest';
import { readFileSync, readdirSync } from 'node:fs';
import { FilterHost } from '../../../input/wasm/filter-host.js';

const fixtures = new URL('../../../fixtures/', import.meta.url);
const read = (rel: string): string => readFileSync(new URL(rel, fixtures), 'utf8');
const samples = readdirSync(new URL('samples/', fixtures))
  .filter((f) => f.endsWith('.input.json'))
  .map((f) => f.replace('.input.json', ''))
  .sort();

let host: FilterHost;
beforeAll(() => {
  host = new FilterHost();
});

describe('jumpcloud_ecs: Sekoia samples', () => {
  it('has the ten seed samples', () => expect(samples).toHaveLength(10));

  for (const name of samples) {
    const raw = read(`samples/${name}.input.json`).trim();
    const want = JSON.parse(read(`samples/${name}.expected.json`)) as Record<string, unknown>;

    it(`${name}: {"message": raw} equals the expected document`, () => {
      expect(host.map('jumpcloud_ecs', JSON.stringify({ message: raw }))).toStrictEqual(want);
    });

    it(`${name}: the raw event as the record equals the expected document`, () => {
      // Form 2: `message` is the record's JSON text as Fluent Bit hands it over.
      expect(host.map('jumpcloud_ecs', raw)).toStrictEqual(want);
    });

    it(`${name}: upstream fields are carried, mapped fields win`, () => {
      const got = host.map(
        'jumpcloud_ecs',
        JSON.stringify({ hostname: 'collector-1', message: raw, env: { tier: 'prod' }, observer: 'mine' }),
      );
      expect(got).toStrictEqual({ ...want, hostname: 'collector-1', env: { tier: 'prod' } });
    });
  }
});

describe('jumpcloud_ecs: a client_ip that is not an IP', () => {
  // spec: client.address is a copy; client.ip, source.ip, source.address and related.ip only for a valid IP.
  for (const bad of ['not-an-ip', '10.0.0.300', '1.2.3.4, 5.6.7.8', 'fe80::1::2']) {
    it(`${JSON.stringify(bad)}: client.address only`, () => {
      const raw = {
        ...(JSON.parse(read('samples/admin_login.input.json')) as Record<string, unknown>),
        client_ip: bad,
      };
      const want = JSON.parse(read('samples/admin_login.expected.json')) as Record<string, any>;
      want.message = JSON.stringify(raw);
      want.client = { address: bad };
      delete want.source.address;
      delete want.source.ip;
      delete want.related;
      expect(host.map('jumpcloud_ecs', JSON.stringify({ message: JSON.stringify(raw) }))).toStrictEqual(want);
    });
  }
});

describe('jumpcloud_elastic: Elastic integration shape', () => {
  const names = ['seed_admin_login', ...samples];
  for (const name of names) {
    it(`${name} equals fixtures/elastic/${name}.expected.json`, () => {
      const raw =
        name === 'seed_admin_login'
          ? read('elastic/seed_admin_login.input.json').trim()
          : read(`samples/${name}.input.json`).trim();
      const want = JSON.parse(read(`elastic/${name}.expected.json`)) as Record<string, unknown>;
      expect(host.map('jumpcloud_elastic', JSON.stringify({ message: raw }))).toStrictEqual(want);
    });
  }

  it("agrees with the integration's own example event wherever the spec says they agree", () => {
    const example = JSON.parse(read('elastic-seed-example.json')) as Record<string, any>;
    const got = host.map('jumpcloud_elastic', JSON.stringify({ message: example.event.original })) as Record<
      string,
      any
    >;
    expect(got['@timestamp']).toBe(example['@timestamp']);
    expect(got.ecs).toStrictEqual(example.ecs);
    for (const k of ['action', 'category', 'type', 'id', 'module', 'outcome', 'original'])
      expect(got.event[k]).toStrictEqual(example.event[k]);
    expect(got.client.ip).toBe(example.client.ip);
    expect(got.source).toStrictEqual(example.source);
    expect(got.user_agent).toStrictEqual(example.user_agent);
    expect(Object.keys(got.jumpcloud.event).sort()).toStrictEqual(
      Object.keys(example.jumpcloud.event)
        .filter((k) => !['client_ip', 'event_type', 'id', 'service', 'timestamp', 'useragent', 'version'].includes(k))
        .sort(),
    );
    for (const k of Object.keys(got.jumpcloud.event)) {
      if (k !== 'initiated_by') expect(got.jumpcloud.event[k]).toStrictEqual(example.jumpcloud.event[k]);
    }
  });
});
