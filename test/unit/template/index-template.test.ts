// The shipped Elasticsearch index template must map every field the filter emits, with a type the
// value fits: an unmapped or mistyped field is a rejected document (400 item error) or a field nobody
// can search. Each golden document is checked field by field; mutations prove the check can fail.
import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkDocument, mappedLeaves, type IndexTemplate } from './mapping-check.js';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const template = JSON.parse(
  readFileSync(join(repo, 'templates/elasticsearch-index-template.json'), 'utf8'),
) as IndexTemplate & {
  data_stream?: object;
  template: { settings?: Record<string, unknown> };
};

function goldenFiles(dir: string, keep: (name: string) => boolean): Array<[string, Record<string, unknown>]> {
  const abs = join(repo, dir);
  if (!existsSync(abs)) throw new Error(`${abs} is missing: the golden documents are this test's input`);
  return readdirSync(abs)
    .filter(keep)
    .sort()
    .map((f) => [`${dir}/${f}`, JSON.parse(readFileSync(join(abs, f), 'utf8')) as Record<string, unknown>]);
}

// Profile jumpcloud_ecs: the acceptance set. Profile jumpcloud_elastic: fixtures/elastic (golden output
// documents only; any *.input.json beside them is a raw event, not a mapped document).
const ecsDocs = goldenFiles('fixtures/samples', (f) => f.endsWith('.expected.json'));
const elasticDocs = goldenFiles('fixtures/elastic', (f) => f.endsWith('.json') && !f.endsWith('.input.json'));

/** The Elastic integration's documentation page (field table and example event), copied into the repository. */
const INTEGRATION_DOC = join(repo, 'fixtures/elastic/integration-example.md');

/**
 * The Elastic integration's own example event (from INTEGRATION_DOC), reduced to what the jumpcloud_elastic
 * profile emits: Elastic Agent's fields, data_stream.* and the GeoIP names its ingest pipeline adds
 * are not the filter's, so they are removed. Real DI data for jumpcloud.event.* typed fields.
 */
function integrationExample(): Record<string, unknown> {
  // A missing or changed input is a failure, never a silent pass.
  const m = /```json\n([\s\S]*?)\n```/.exec(readFileSync(INTEGRATION_DOC, 'utf8'));
  if (m === null) throw new Error(`${INTEGRATION_DOC} has no \`\`\`json example event`);
  const doc = JSON.parse(m[1]!) as Record<string, any>;
  for (const k of ['agent', 'elastic_agent', 'data_stream', 'input', 'tags']) delete doc[k];
  for (const k of ['agent_id_status', 'created', 'dataset', 'ingested']) delete doc.event[k];
  for (const k of ['city_name', 'continent_name', 'country_name']) delete doc.client.geo[k];
  return doc;
}

describe('templates/elasticsearch-index-template.json', () => {
  it('is a composable template for the data stream, with @timestamp a date', () => {
    expect(template.index_patterns).toEqual(['logs-jumpcloud.directory_insights-*']);
    expect(template.data_stream).toEqual({});
    const leaves = mappedLeaves(template);
    expect(leaves.get('@timestamp')).toBe('date');
    // Already-mapped documents must not run through Elastic's jumpcloud ingest pipeline.
    expect(template.template.settings?.['index.default_pipeline']).toBe('_none');
  });

  it('maps every field of the Elastic integration field table with the table type', () => {
    const leaves = mappedLeaves(template);
    const rows = [
      ...readFileSync(INTEGRATION_DOC, 'utf8').matchAll(/^\| (jumpcloud\.event\.[^ |]+) \|[^|]*\| (\w+) \|$/gm),
    ];
    expect(rows.length).toBeGreaterThan(100);
    for (const [, field, type] of rows) expect({ field, type: leaves.get(field!) }).toEqual({ field, type });
  });

  it('has the golden documents of the jumpcloud_ecs profile', () => {
    expect(ecsDocs.length).toBe(10);
  });

  const all: Array<[string, Record<string, unknown>]> = [...ecsDocs, ...elasticDocs];
  all.push(['Elastic integration example event (jumpcloud_elastic shape)', integrationExample()]);
  it('has the golden documents of the jumpcloud_elastic profile', () => {
    expect(elasticDocs.length).toBeGreaterThan(0);
  });

  it.each(all)('maps every field of %s with a fitting type', (_name, doc) => {
    expect(checkDocument(template, doc)).toEqual([]);
  });

  it.each(ecsDocs)('maps %s as the es output sends it (with jumpcloud.record_time)', (_name, doc) => {
    const sent = {
      ...doc,
      'jumpcloud.record_time': (doc['@timestamp'] as string).replace(/(\.\d+)?Z$/, '.123456789Z'),
    };
    expect(checkDocument(template, sent)).toEqual([]);
  });
});

describe('the mapping check fails when it should', () => {
  const base = structuredClone(ecsDocs.find(([n]) => n.includes('admin_login'))![1]) as Record<string, any>;
  const cases: Array<[string, (d: Record<string, any>) => void, RegExp]> = [
    ['an unmapped field', (d) => (d.jumpcloud.new_field = 'x'), /jumpcloud\.new_field.*no mapping/],
    ['an unmapped top-level field', (d) => (d.surprise = 1), /surprise.*no mapping/],
    ['a client.ip that is not an IP', (d) => (d.client.ip = '1.2.3'), /client\.ip.*ip field/],
    ['a related.ip element that is not an IP', (d) => d.related.ip.push('host.example'), /related\.ip.*ip field/],
    ['a @timestamp that is not a date', (d) => (d['@timestamp'] = '16/06/2023 14:06'), /@timestamp.*date field/],
    ['a @timestamp with an impossible month', (d) => (d['@timestamp'] = '2023-13-16T14:06:45Z'), /@timestamp/],
    ['a keyword that is a number', (d) => (d.user_agent.version = 114), /user_agent\.version.*keyword/],
    [
      'an object where a keyword is mapped',
      (d) => (d.observer.vendor = { name: 'Jumpcloud' }),
      /observer\.vendor.*object/,
    ],
    ['a scalar where an object is mapped', (d) => (d.source.user = 'john'), /source\.user.*object/],
    ['an empty value', (d) => (d.event.category = []), /event\.category.*empty/],
    ['a null', (d) => (d.client.address = null), /client\.address.*null/],
  ];
  it.each(cases)('flags %s', (_what, mutate, expected) => {
    expect(checkDocument(template, base)).toEqual([]);
    const doc = structuredClone(base);
    mutate(doc);
    const problems = checkDocument(template, doc);
    expect(problems.map((p) => `${p.path}: ${p.problem}`).join('\n')).toMatch(expected);
  });

  it('flags wrong types in the typed jumpcloud.event.* fields (elastic profile)', () => {
    const doc = {
      '@timestamp': '2023-01-14T08:16:06.495Z',
      jumpcloud: { event: { mfa: 'yes', error_code: 1.5, geoip: { latitude: 'north' }, other: { deep: 3 } } },
    };
    const problems = checkDocument(template, doc).map((p) => p.path);
    expect(problems).toEqual(['jumpcloud.event.mfa', 'jumpcloud.event.error_code', 'jumpcloud.event.geoip.latitude']);
  });

  it('flags a geo_point out of range', () => {
    const doc = { client: { geo: { location: { lat: 95, lon: 0 } } } };
    expect(checkDocument(template, doc).map((p) => p.path)).toEqual(['client.geo.location']);
  });
});
