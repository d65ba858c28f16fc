// templates/opensearch-index-template.json is the Elasticsearch template with OpenSearch's names where they
// differ (flat_object for flattened) and its own _meta: nothing else may drift between the two files.
// (test/system/opensearch/opensearch.test.ts checks the same against the mapping a real node accepted.)
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const read = (f: string) => JSON.parse(readFileSync(new URL(`../../../templates/${f}`, import.meta.url), 'utf8'));

function toOpenSearch(m: unknown): unknown {
  if (Array.isArray(m)) return m.map(toOpenSearch);
  if (m === null || typeof m !== 'object') return m;
  const o = m as Record<string, unknown>;
  if (o.type === 'flattened') return { ...o, type: 'flat_object' };
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, toOpenSearch(v)]));
}

describe('OpenSearch index template', () => {
  const es = read('elasticsearch-index-template.json');
  const os = read('opensearch-index-template.json');

  it('is the Elasticsearch template with flat_object for flattened', () => {
    const { _meta: esMeta, ...esRest } = es;
    const { _meta: osMeta, ...osRest } = os;
    expect(osRest).toStrictEqual(toOpenSearch(esRest));
    expect(osMeta.managed_by).toBe(esMeta.managed_by);
    expect(osMeta.description).toMatch(/opensearch output/);
  });

  it("has both of Elasticsearch's flattened fields, and no Elasticsearch-only type left", () => {
    const text = JSON.stringify(os);
    expect(text.match(/"flat_object"/g)).toHaveLength(2);
    expect(text).not.toMatch(/"type":"(flattened|wildcard|constant_keyword|version|semantic_text|dense_vector)"/);
  });

  it('maps unknown jumpcloud.event.* values as keywords up to 8192 characters, in both templates', () => {
    for (const t of [es, os]) {
      const dyn = t.template.mappings.dynamic_templates
        .map((e: Record<string, any>) => Object.values(e)[0])
        .filter((d: any) => d.path_match === 'jumpcloud.event.*');
      expect(dyn).toHaveLength(4);
      for (const d of dyn) expect(d.mapping).toStrictEqual({ type: 'keyword', ignore_above: 8192 });
    }
  });
});
