// The documents against a real OpenSearch 2.x node (OPENSEARCH_URL; `.ci/run` starts one): the shipped
// template and data stream, every golden document of both profiles and 100,000 simulator events mapped by
// build/jumpcloud.wasm indexed with no item error and no field ignored, _id dedup on a re-sent batch, the
// queries ECS users run, and the Elasticsearch template's types checked against what OpenSearch accepted.
import { BlockList } from 'node:net';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { REPO } from '../e2e/pipeline-harness.js';
import { FilterHost } from '../../../input/wasm/filter-host.js';
import { bulkCreate, call, count, freshDataStream, ok } from './client.js';
import { asSent, generatedEvents, goldens, mapped, type Doc, type Profile } from './documents.js';
import { IN_CI, opensearchTarget } from './node.js';

const target = opensearchTarget();
const OS_TEMPLATE = JSON.parse(readFileSync(join(REPO, 'templates/opensearch-index-template.json'), 'utf8'));
const ES_TEMPLATE = JSON.parse(readFileSync(join(REPO, 'templates/elasticsearch-index-template.json'), 'utf8'));
const TEMPLATE_NAME = 'logs-jumpcloud.directory_insights';
const GENERATED = 100_000;
/** ignore_above of unknown jumpcloud.event.* strings (README "Sending to OpenSearch"). */
const EVENT_IGNORE_ABOVE = 8192;

if (target.url === undefined && !IN_CI) console.warn(`test/opensearch: skipped: ${target.reason}`);

describe.runIf(target.url === undefined && IN_CI)('OpenSearch in CI', () => {
  it('has a real node to index into', () => {
    throw new Error(`CI must run the OpenSearch tests: ${target.reason}`);
  });
});

const stream = (profile: Profile) =>
  `logs-jumpcloud.directory_insights-${profile === 'jumpcloud_ecs' ? 'ecs' : 'elastic'}test`;

/** Leaf fields of a mapping: dotted path → the attributes that decide how a value is indexed. */
function leaves(
  props: Record<string, any>,
  prefix = '',
  out = new Map<string, Record<string, unknown>>(),
): Map<string, Record<string, unknown>> {
  for (const [k, m] of Object.entries(props)) {
    const path = prefix + k;
    if (m.properties !== undefined && (m.type === undefined || m.type === 'object'))
      leaves(m.properties, `${path}.`, out);
    else out.set(path, { type: m.type, ignore_above: m.ignore_above, format: m.format });
  }
  return out;
}

/** Every string under jumpcloud.event (its unknown fields are mapped by the dynamic template). */
function eventStrings(doc: Record<string, any>): string[] {
  const out: string[] = [];
  const walk = (v: unknown) => {
    if (typeof v === 'string') out.push(v);
    else if (Array.isArray(v)) v.forEach(walk);
    else if (v !== null && typeof v === 'object') Object.values(v).forEach(walk);
  };
  walk(doc.jumpcloud?.event);
  return out;
}

describe.runIf(target.url !== undefined)('OpenSearch: real node', () => {
  const url = target.url!;
  let host: FilterHost;
  let version = '';

  beforeAll(async () => {
    host = new FilterHost();
    version = (await ok(url, 'GET', '/')).version.number;
    await ok(url, 'GET', '/_cluster/health?wait_for_status=yellow&timeout=60s');
  });

  it('is OpenSearch 2.x', () => expect(version).toMatch(/^2\.\d+\.\d+$/));

  it('accepts the template and a data stream of it', async () => {
    for (const profile of ['jumpcloud_ecs', 'jumpcloud_elastic'] as const)
      await freshDataStream(url, TEMPLATE_NAME, OS_TEMPLATE, stream(profile));
    const ds = await ok(url, 'GET', `/_data_stream/${stream('jumpcloud_ecs')}`);
    expect(ds.data_streams[0].template).toBe(TEMPLATE_NAME);
    expect(ds.data_streams[0].timestamp_field.name).toBe('@timestamp');
  });

  it("the Elasticsearch template's types, field by field, are the ones OpenSearch accepted", async () => {
    const m = await ok(url, 'GET', `/${stream('jumpcloud_ecs')}/_mapping`);
    const accepted = Object.values(m)[0] as {
      mappings: { properties: Record<string, any>; dynamic_templates: unknown[] };
    };
    const es = leaves(ES_TEMPLATE.template.mappings.properties);
    const os = leaves(accepted.mappings.properties);
    expect(es.size).toBeGreaterThan(150);
    const differ: string[] = [];
    for (const [path, want] of es) {
      const got = os.get(path);
      // The one documented difference: OpenSearch's flat_object is Elasticsearch's flattened.
      const wantType = want.type === 'flattened' ? 'flat_object' : want.type;
      if (got === undefined) differ.push(`${path}: missing`);
      else if (got.type !== wantType || got.ignore_above !== want.ignore_above || got.format !== want.format)
        differ.push(`${path}: ES ${JSON.stringify(want)} OS ${JSON.stringify(got)}`);
    }
    expect(differ).toStrictEqual([]);
    expect([...os.keys()].filter((p) => !es.has(p)).sort()).toStrictEqual([]);
    expect(accepted.mappings.dynamic_templates).toStrictEqual(ES_TEMPLATE.template.mappings.dynamic_templates);
  });

  for (const profile of ['jumpcloud_ecs', 'jumpcloud_elastic'] as const) {
    it(
      `${profile}: every golden document is indexed with no error, and the filter's own output for it is the same ` +
        `_id and _source`,
      async () => {
        const gs = goldens(profile);
        expect(gs.length).toBeGreaterThanOrEqual(10);
        const want = gs.map((g) => asSent(profile, g.expected, JSON.parse(g.input).timestamp));
        const r = await bulkCreate(url, stream(profile), want);
        expect(r).toStrictEqual({ created: gs.length, conflicts: 0, errors: [] });
        // The filter run now, as Fluent Bit runs it: the same ids, so create answers 409 for each.
        const now = gs.map((g) => mapped(host, profile, g.input));
        expect(await bulkCreate(url, stream(profile), now)).toStrictEqual({
          created: 0,
          conflicts: gs.length,
          errors: [],
        });
        await ok(url, 'POST', `/${stream(profile)}/_refresh`);
        const hits = await ok(url, 'POST', `/${stream(profile)}/_search`, {
          size: 100,
          query: { ids: { values: now.map((d) => d.id) } },
        });
        const stored = new Map(hits.hits.hits.map((h: any) => [h._id, h._source]));
        for (const d of now) expect(stored.get(d.id)).toStrictEqual(d.doc);
      },
    );
  }

  const generated: Record<Profile, Doc[]> = { jumpcloud_ecs: [], jumpcloud_elastic: [] };

  for (const profile of ['jumpcloud_ecs', 'jumpcloud_elastic'] as const) {
    it(
      `${profile}: ${GENERATED.toLocaleString('en')} simulator events through the filter, bulk-indexed with 0 item ` +
        `errors`,
      async () => {
        const t0 = Date.now();
        generated[profile] = generatedEvents(GENERATED).map((raw) => mapped(host, profile, raw));
        const t1 = Date.now();
        const r = await bulkCreate(url, stream(profile), generated[profile]);
        const t2 = Date.now();
        console.log(
          `${profile}: ${GENERATED} events mapped in ${t1 - t0} ms, bulk-indexed in ${t2 - t1} ms ` +
            `(${Math.round(GENERATED / ((t2 - t1) / 1000))} docs/s)`,
        );
        expect(r.errors.slice(0, 5)).toStrictEqual([]);
        expect(r).toStrictEqual({ created: GENERATED, conflicts: 0, errors: [] });
        await ok(url, 'POST', `/${stream(profile)}/_refresh`);
        expect(await count(url, stream(profile))).toBe(GENERATED + goldens(profile).length);
      },
      600_000,
    );

    it(`${profile}: a re-sent batch creates 0 documents (_id)`, async () => {
      const batch = generated[profile].slice(20_000, 25_000);
      expect(batch).toHaveLength(5000);
      expect(await bulkCreate(url, stream(profile), batch)).toStrictEqual({ created: 0, conflicts: 5000, errors: [] });
      await ok(url, 'POST', `/${stream(profile)}/_refresh`);
      expect(await count(url, stream(profile))).toBe(GENERATED + goldens(profile).length);
    });

    it(`${profile}: no field was ignored (_ignored) in any document, and no keyword is longer than its ignore_above`, async () => {
      // ignore_malformed (the template's setting) lists what it drops in _ignored; ignore_above does not on
      // OpenSearch 2.x, so value lengths are checked here against the accepted mapping.
      const m = await ok(url, 'GET', `/${stream(profile)}/_mapping`);
      const fields = leaves((Object.values(m)[0] as any).mappings.properties);
      const tooLong: string[] = [];
      const walk = (path: string, v: unknown) => {
        if (Array.isArray(v)) v.forEach((e) => walk(path, e));
        else if (v !== null && typeof v === 'object')
          for (const [k, c] of Object.entries(v)) walk(path === '' ? k : `${path}.${k}`, c);
        else if (typeof v === 'string') {
          const f = fields.get(path);
          if (f?.ignore_above !== undefined && v.length > (f.ignore_above as number))
            tooLong.push(`${path} (${v.length} > ${f.ignore_above})`);
        }
      };
      for (const d of generated[profile]) walk('', d.doc);
      expect(generated[profile]).toHaveLength(GENERATED);
      expect([...new Set(tooLong)]).toStrictEqual([]);
      const ignored = await ok(url, 'POST', `/${stream(profile)}/_search`, {
        size: 5,
        query: { exists: { field: '_ignored' } },
        fields: ['_ignored'],
      });
      expect(ignored.hits.hits.map((h: any) => ({ id: h._id, ignored: h.fields?._ignored }))).toStrictEqual([]);
      expect(ignored.hits.total.value).toBe(0);
    });

    it(`${profile}: typed queries answer as ECS users expect`, async () => {
      const docs = [...generated[profile].map((d) => d.doc), ...goldens(profile).map((g) => g.expected)];
      const s = stream(profile);
      // term on event.action: the commonest action, counted here and there.
      const actions = new Map<string, number>();
      for (const d of docs)
        if (typeof d.event?.action === 'string') actions.set(d.event.action, (actions.get(d.event.action) ?? 0) + 1);
      const [action, n] = [...actions].sort((a, b) => b[1] - a[1])[0]!;
      expect(n).toBeGreaterThan(100);
      expect(await count(url, s, { term: { 'event.action': action } })).toBe(n);
      // CIDR on source.ip: the /16 of the first document with one.
      const ip4 = docs.map((d) => d.source?.ip).find((ip): ip is string => typeof ip === 'string' && ip.includes('.'))!;
      const cidr = `${ip4.split('.').slice(0, 2).join('.')}.0.0/16`;
      const block = new BlockList();
      block.addSubnet(cidr.split('/')[0]!, 16, 'ipv4');
      const inBlock = docs.filter(
        (d) => typeof d.source?.ip === 'string' && d.source.ip.includes('.') && block.check(d.source.ip, 'ipv4'),
      ).length;
      expect(inBlock).toBeGreaterThan(0);
      expect(await count(url, s, { term: { 'source.ip': cidr } })).toBe(inBlock);
      // date_histogram on @timestamp: hourly buckets equal to the documents' own hours.
      const hours = new Map<number, number>();
      for (const d of docs) {
        const h = Math.floor(Date.parse(d['@timestamp']) / 3_600_000) * 3_600_000;
        hours.set(h, (hours.get(h) ?? 0) + 1);
      }
      const agg = await ok(url, 'POST', `/${s}/_search`, {
        size: 0,
        aggs: { h: { date_histogram: { field: '@timestamp', fixed_interval: '1h', min_doc_count: 1 } } },
      });
      const got = new Map<number, number>(agg.aggregations.h.buckets.map((b: any) => [b.key, b.doc_count]));
      expect(got).toStrictEqual(hours);
      // exists on user.name.
      const withUser = docs.filter((d) => d.user?.name !== undefined).length;
      expect(withUser).toBeGreaterThan(0);
      expect(await count(url, s, { exists: { field: 'user.name' } })).toBe(withUser);
    });
  }

  it(
    `jumpcloud.event.* strings: the longest in the data fits ignore_above ${EVENT_IGNORE_ABOVE}, and a payload of ` +
      `that length stays searchable`,
    async () => {
      let longest = 0;
      for (const p of ['jumpcloud_ecs', 'jumpcloud_elastic'] as const) {
        for (const d of [...generated[p].map((x) => x.doc), ...goldens(p).map((g) => g.expected)])
          for (const v of eventStrings(d)) longest = Math.max(longest, v.length);
      }
      console.log(
        `longest jumpcloud.event.* string in ${2 * GENERATED} generated + golden documents: ${longest} chars`,
      );
      expect(longest).toBeLessThan(EVENT_IGNORE_ABOVE);
      for (const entry of OS_TEMPLATE.template.mappings.dynamic_templates) {
        const t = Object.values(entry)[0] as any;
        if (t.path_match === 'jumpcloud.event.*') expect(t.mapping.ignore_above).toBe(EVENT_IGNORE_ABOVE);
      }
      const s = stream('jumpcloud_elastic');
      // An MDM command payload at the limit, of 3-byte UTF-8 characters: 24,576 bytes, under Lucene's
      // 32,766-byte term limit, so the document is never rejected whatever the characters.
      const payload = 'MDM€'.repeat(EVENT_IGNORE_ABOVE / 4);
      const over = payload + 'x';
      const base = {
        '@timestamp': '2026-03-02T00:00:00.000Z',
        event: { action: 'mdm_command', id: '' },
        jumpcloud: { event: {} as Record<string, string> },
      };
      const atLimit = {
        ...base,
        event: { ...base.event, id: 'long-payload-0001' },
        jumpcloud: { event: { command_payload: payload } },
      };
      const pastLimit = {
        ...base,
        event: { ...base.event, id: 'long-payload-0002' },
        jumpcloud: { event: { command_payload: over } },
      };
      const r = await bulkCreate(url, s, [
        { id: 'long-payload-0001', doc: atLimit },
        { id: 'long-payload-0002', doc: pastLimit },
      ]);
      expect(r).toStrictEqual({ created: 2, conflicts: 0, errors: [] });
      await ok(url, 'POST', `/${s}/_refresh`);
      const m = await ok(url, 'GET', `/${s}/_mapping/field/jumpcloud.event.command_payload`);
      expect(
        (Object.values(m)[0] as any).mappings['jumpcloud.event.command_payload'].mapping.command_payload,
      ).toStrictEqual({ type: 'keyword', ignore_above: EVENT_IGNORE_ABOVE });
      expect(await count(url, s, { term: { 'jumpcloud.event.command_payload': payload } })).toBe(1);
      // One character more: still stored (in _source), no longer searchable. OpenSearch 2.19 does not list
      // an ignore_above cut in _ignored, hence the length check of every document against the mapping in
      // the `_ignored` test above.
      expect(await count(url, s, { term: { 'jumpcloud.event.command_payload': over } })).toBe(0);
      const kept = await ok(url, 'POST', `/${s}/_search`, { query: { ids: { values: ['long-payload-0002'] } } });
      expect(kept.hits.hits[0]._source.jumpcloud.event.command_payload).toBe(over);
      expect(kept.hits.hits[0]._ignored).toBeUndefined();
    },
  );

  it('the node answers with its health (for the CI log)', async () => {
    const h = await call(url, 'GET', '/_cluster/health');
    expect(h.status).toBe(200);
    expect(['green', 'yellow']).toContain(h.body.status);
  });
});
