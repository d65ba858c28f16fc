// jumpcloud_elastic against Elastic's own ECS 8.11 field definitions (fixtures/ecs/ecs-8.11.0.json, reduced from
// elastic/ecs's generated/ecs/ecs_flat.yml at v8.11.0): every field of every document it produces, for every
// golden input and one event of every documented type, is an ECS field with a value of its type, or lies under
// `jumpcloud.`; event.kind / category / type / outcome hold allowed values, and every event.type is an expected
// type of each of the document's categories. The declaration itself (filter/categories.ts) is checked the same
// way, and against the simulator's catalog (input/simulator/catalog.ts, held equal to the API description's
// tables by its own test): no catalog type without a row, no row for a type the catalog lacks.
// The catalog's events are the simulator's sampleEvent, one per (type, service).
import { describe, it, expect, beforeAll } from 'vitest';
import { readFileSync, readdirSync } from 'node:fs';
import { isIP } from 'node:net';
import { FilterHost } from '../../../input/wasm/filter-host.js';
import { categoryTable } from '../../support/categories.js';
import { CATALOG, sampleEvent, type CatalogEntry } from '../../../input/simulator/catalog.js';
import { checkDocument as checkTemplate, type IndexTemplate } from '../template/mapping-check.js';

interface EcsField {
  type: string;
  array?: boolean;
  allowed?: string[];
  expected_event_types?: Record<string, string[]>;
}
const ECS_FILE = new URL('../../../fixtures/ecs/ecs-8.11.0.json', import.meta.url);
const ECS = (JSON.parse(readFileSync(ECS_FILE, 'utf8')) as { fields: Record<string, EcsField> }).fields;
const fixtures = new URL('../../../fixtures/', import.meta.url);

const ISO_DATE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;
const STRINGS = new Set(['keyword', 'constant_keyword', 'wildcard', 'match_only_text', 'text']);

/** What is wrong with `v` as a value of an ECS field of `type` (undefined: nothing). */
function badValue(type: string, v: unknown): string | undefined {
  if (STRINGS.has(type)) return typeof v === 'string' ? undefined : 'not a string';
  if (type === 'ip') return typeof v === 'string' && isIP(v) !== 0 ? undefined : 'not an IP address';
  if (type === 'date') return typeof v === 'string' && ISO_DATE.test(v) ? undefined : 'not an ISO 8601 date';
  if (type === 'long') return Number.isInteger(v) ? undefined : 'not an integer';
  if (type === 'float' || type === 'scaled_float' || type === 'double')
    return typeof v === 'number' ? undefined : 'not a number';
  if (type === 'boolean') return typeof v === 'boolean' ? undefined : 'not a boolean';
  if (type === 'geo_point') {
    const p = v as { lat?: unknown; lon?: unknown } | null;
    const ok =
      p !== null &&
      typeof p === 'object' &&
      typeof p.lat === 'number' &&
      typeof p.lon === 'number' &&
      Object.keys(p).length === 2;
    return ok ? undefined : 'not a {lat, lon} point';
  }
  if (type === 'object' || type === 'flattened' || type === 'nested')
    return v !== null && typeof v === 'object' ? undefined : 'not an object';
  return `an ECS type this test does not know (${type})`;
}

interface Tally {
  documents: number;
  fields: number;
  underJumpcloud: number;
  violations: string[];
}

/** Checks one document; `where` names it in violations. */
function checkDocument(doc: Record<string, unknown>, where: string, t: Tally): void {
  t.documents++;
  const visit = (path: string, v: unknown): void => {
    if (path === 'jumpcloud' || path.startsWith('jumpcloud.')) {
      t.underJumpcloud++;
      return;
    }
    const f = ECS[path];
    if (f === undefined || f.type === 'object') {
      // Not a leaf ECS field: an object of ECS fields.
      if (v === null || typeof v !== 'object' || Array.isArray(v)) {
        t.violations.push(`${where}: ${path} is not an ECS field`);
        return;
      }
      for (const [k, x] of Object.entries(v)) visit(path ? `${path}.${k}` : k, x);
      return;
    }
    t.fields++;
    const values = Array.isArray(v) ? v : [v];
    if (Array.isArray(v) && !f.array)
      t.violations.push(`${where}: ${path} is an array; ECS does not normalize it to one`);
    if (!Array.isArray(v) && f.array)
      t.violations.push(`${where}: ${path} must be an array (ECS normalizes it to one)`);
    for (const x of values) {
      const bad = badValue(f.type, x);
      if (bad) t.violations.push(`${where}: ${path} (${f.type}): ${JSON.stringify(x)} is ${bad}`);
      else if (f.allowed && !f.allowed.includes(x as string))
        t.violations.push(`${where}: ${path}: ${JSON.stringify(x)} is not an allowed value`);
    }
  };
  visit('', doc);
  const ev = (doc.event ?? {}) as { category?: string[]; type?: string[] };
  for (const c of ev.category ?? []) {
    const expected = ECS['event.category']!.expected_event_types![c] ?? [];
    for (const ty of ev.type ?? [])
      if (!expected.includes(ty))
        t.violations.push(`${where}: event.type ${ty} is not an expected type of category ${c}`);
  }
}

let host: FilterHost;
beforeAll(() => {
  host = new FilterHost();
});
/** One event of a catalog entry, as the simulator serves it. */
const sample = (c: CatalogEntry, seed: number): Record<string, unknown> =>
  sampleEvent(c.type, seed, '', { service: c.service });
const elastic = (raw: unknown): Record<string, unknown> =>
  host.map(
    'jumpcloud_elastic',
    JSON.stringify({ message: typeof raw === 'string' ? raw : JSON.stringify(raw) }),
  ) as Record<string, unknown>;

describe("jumpcloud_elastic against ECS 8.11 (Elastic's field definitions)", () => {
  it('has the field definitions, with the allowed values and expected types it checks', () => {
    expect(Object.keys(ECS).length).toBeGreaterThan(1000);
    for (const f of ['event.kind', 'event.category', 'event.type', 'event.outcome'])
      expect(ECS[f]?.allowed?.length, f).toBeGreaterThan(2);
    expect(Object.keys(ECS['event.category']!.expected_event_types!)).toContain('iam');
  });

  it('the declaration: allowed values only, every type expected by every category of its row', () => {
    const violations: string[] = [];
    for (const [type, c] of categoryTable()) {
      if (!ECS['event.kind']!.allowed!.includes(c.kind)) violations.push(`${type}: event.kind ${c.kind}`);
      if (c.outcome && !ECS['event.outcome']!.allowed!.includes(c.outcome))
        violations.push(`${type}: event.outcome ${c.outcome}`);
      for (const cat of c.category) {
        if (!ECS['event.category']!.allowed!.includes(cat)) {
          violations.push(`${type}: event.category ${cat}`);
          continue;
        }
        for (const ty of c.type) {
          if (!ECS['event.type']!.allowed!.includes(ty)) violations.push(`${type}: event.type ${ty}`);
          else if (!ECS['event.category']!.expected_event_types![cat]!.includes(ty))
            violations.push(`${type}: ${ty} is not expected for ${cat}`);
        }
      }
    }
    expect(violations).toStrictEqual([]);
  });

  it("the declaration covers the simulator's catalog, and declares nothing else", () => {
    const types = new Set(CATALOG.map((e) => e.type));
    const declared = categoryTable();
    expect(types.size).toBeGreaterThan(300);
    expect(
      [...types].filter((t) => !declared.has(t)),
      'catalog types without a row in filter/categories.ts',
    ).toStrictEqual([]);
    expect(
      [...declared.keys()].filter((t) => !types.has(t)),
      'rows for types the catalog lacks',
    ).toStrictEqual([]);
    console.log(
      `categorization: ${declared.size} types declared, ${types.size} in the catalog (${CATALOG.length} entries)`,
    );
  });

  it("every field of every document: the goldens' inputs and one event of every documented type", () => {
    const t: Tally = { documents: 0, fields: 0, underJumpcloud: 0, violations: [] };
    const inputs: [string, string][] = [
      [
        'elastic/seed_admin_login.input.json',
        readFileSync(new URL('elastic/seed_admin_login.input.json', fixtures), 'utf8').trim(),
      ],
    ];
    for (const f of readdirSync(new URL('samples/', fixtures))
      .filter((f) => f.endsWith('.input.json'))
      .sort()) {
      inputs.push([`samples/${f}`, readFileSync(new URL(`samples/${f}`, fixtures), 'utf8').trim()]);
    }
    const goldens = readdirSync(new URL('elastic/', fixtures)).filter((f) => f.endsWith('.expected.json'));
    expect(inputs.length, 'an input for every golden of fixtures/elastic').toBe(goldens.length);
    for (const [name, raw] of inputs) checkDocument(elastic(raw), name, t);
    for (const g of goldens)
      checkDocument(
        JSON.parse(readFileSync(new URL(`elastic/${g}`, fixtures), 'utf8')) as Record<string, unknown>,
        `elastic/${g}`,
        t,
      );

    const declared = categoryTable();
    const catalog = CATALOG;
    expect(catalog.length).toBeGreaterThan(300);
    catalog.forEach((c, i) => {
      const doc = elastic(sample(c, i));
      checkDocument(doc, `${c.service}/${c.type}`, t);
      // Categorized as declared: the filter's hash finds every declared type.
      const ev = doc.event as Record<string, unknown>;
      const want = declared.get(c.type)!;
      expect({ kind: ev.kind, category: ev.category, type: ev.type }, c.type).toStrictEqual({
        kind: want.kind,
        category: want.category,
        type: want.type,
      });
    });
    console.log(
      `ECS 8.11 check: ${t.documents} documents (${inputs.length} golden inputs, ${goldens.length} goldens, ` +
        `${catalog.length} catalog entries), ${t.fields} ECS fields checked, ` +
        `${t.underJumpcloud} subtrees under jumpcloud., ${t.violations.length} violations`,
    );
    expect(t.violations).toStrictEqual([]);
    expect(t.documents).toBe(inputs.length + goldens.length + catalog.length);
  });

  it('the shipped Elasticsearch index template maps every field of one event of every documented type', () => {
    const url = new URL('../../../templates/elasticsearch-index-template.json', import.meta.url);
    const template = JSON.parse(readFileSync(url, 'utf8')) as IndexTemplate;
    const problems = CATALOG.flatMap((c, i) =>
      checkTemplate(template, elastic(sample(c, i))).map((p) => `${c.type}: ${p.path} ${p.problem}`),
    );
    expect(problems).toStrictEqual([]);
  });

  it('a type the declaration does not have: event.kind event, no category, no type', () => {
    const doc = elastic({ id: 'x1', event_type: 'genai_prompt_created', service: 'genai', success: false });
    expect(doc.event).toMatchObject({ kind: 'event', action: 'genai_prompt_created', outcome: 'failure' });
    expect((doc.event as Record<string, unknown>).category).toBeUndefined();
    expect((doc.event as Record<string, unknown>).type).toBeUndefined();
  });
});
