// Checks a JSON document against an Elasticsearch index template's mappings the way Elasticsearch
// would index it, and more strictly: every leaf must be mapped explicitly (or by a dynamic template
// scoped with `path_match`, never by the catch-all), and every value must suit its field type.
import { isIP } from 'node:net';

export interface FieldMapping {
  readonly type?: string;
  readonly properties?: Readonly<Record<string, FieldMapping>>;
  readonly format?: string;
}

export interface DynamicTemplate {
  readonly path_match?: string;
  readonly match_mapping_type?: string;
  readonly mapping: FieldMapping;
}

export interface IndexTemplate {
  readonly index_patterns: readonly string[];
  readonly template: {
    readonly mappings: {
      readonly properties: Readonly<Record<string, FieldMapping>>;
      readonly dynamic_templates?: ReadonlyArray<Readonly<Record<string, DynamicTemplate>>>;
    };
  };
}

export interface MappingProblem {
  readonly path: string;
  readonly problem: string;
}

const ISO_DATE =
  /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d{1,9})?(Z|[+-]([01]\d|2[0-3]):[0-5]\d)$/;

/** The JSON type name Elasticsearch's dynamic mapping sees for a scalar. */
function jsonMappingType(v: unknown): string {
  if (typeof v === 'string') return 'string';
  if (typeof v === 'boolean') return 'boolean';
  if (typeof v === 'number') return Number.isInteger(v) ? 'long' : 'double';
  return 'object';
}

function globToRegExp(glob: string): RegExp {
  return new RegExp(
    '^' +
      glob
        .split('*')
        .map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
        .join('.*') +
      '$',
  );
}

/** Paths (dotted) whose value is free-form under these mappings: each must be documented by the caller. */
export function checkDocument(template: IndexTemplate, doc: Record<string, unknown>): MappingProblem[] {
  const problems: MappingProblem[] = [];
  const dynamic = (template.template.mappings.dynamic_templates ?? []).map((entry) => {
    const [name, t] = Object.entries(entry)[0]!;
    return { name, t, re: t.path_match === undefined ? undefined : globToRegExp(t.path_match) };
  });

  const checkLeaf = (path: string, m: FieldMapping, v: unknown, strictKeyword: boolean): void => {
    const bad = (problem: string) => problems.push({ path, problem: `${problem} (value ${JSON.stringify(v)})` });
    switch (m.type) {
      case 'keyword':
        if (typeof v !== 'string' && (strictKeyword || (typeof v !== 'number' && typeof v !== 'boolean')))
          bad('keyword field needs a string');
        return;
      case 'match_only_text':
      case 'text':
        if (typeof v !== 'string') bad(`${m.type} field needs a string`);
        return;
      case 'ip':
        if (typeof v !== 'string' || isIP(v) === 0) bad('ip field needs an IPv4 or IPv6 address');
        return;
      case 'date':
      case 'date_nanos':
        if (typeof v !== 'string' || !ISO_DATE.test(v) || Number.isNaN(Date.parse(v)))
          bad(`${m.type} field needs an RFC 3339 / strict_date_optional_time string`);
        return;
      case 'boolean':
        if (typeof v !== 'boolean') bad('boolean field needs true or false');
        return;
      case 'long':
        if (typeof v !== 'number' || !Number.isSafeInteger(v)) bad('long field needs an integer');
        return;
      case 'float':
      case 'double':
        if (typeof v !== 'number' || !Number.isFinite(v)) bad(`${m.type} field needs a number`);
        return;
      case 'geo_point': {
        const p = v as { lat?: unknown; lon?: unknown };
        const ok =
          typeof v === 'object' &&
          v !== null &&
          !Array.isArray(v) &&
          Object.keys(v).every((k) => k === 'lat' || k === 'lon') &&
          typeof p.lat === 'number' &&
          typeof p.lon === 'number' &&
          Math.abs(p.lat) <= 90 &&
          Math.abs(p.lon) <= 180;
        if (!ok) bad('geo_point field needs {lat, lon} in range');
        return;
      }
      case 'flattened':
        // Any JSON tree: every leaf is indexed as a keyword.
        return;
      default:
        bad(`unsupported mapping type ${String(m.type)}`);
    }
  };

  const walk = (path: string, mapping: FieldMapping | undefined, v: unknown): void => {
    if (v === null) {
      problems.push({ path, problem: 'null value: the filter never emits empty values' });
      return;
    }
    if (Array.isArray(v)) {
      if (v.length === 0) problems.push({ path, problem: 'empty array: the filter never emits empty values' });
      for (const e of v) walk(path, mapping, e);
      return;
    }
    if (mapping?.type === 'geo_point' || mapping?.type === 'flattened') {
      checkLeaf(path, mapping, v, true);
      return;
    }
    if (typeof v === 'object') {
      if (mapping !== undefined && mapping.type !== undefined && mapping.type !== 'object') {
        problems.push({ path, problem: `an object where the template maps a ${mapping.type}` });
        return;
      }
      for (const [k, child] of Object.entries(v as Record<string, unknown>)) {
        const childPath = path === '' ? k : `${path}.${k}`;
        // A dotted key (e.g. the es output's `jumpcloud.record_time`) is the same field as nested objects.
        const segs = k.split('.');
        let m: FieldMapping | undefined = mapping;
        for (const s of segs) m = m?.properties?.[s];
        walk(childPath, m, child);
      }
      return;
    }
    if (mapping !== undefined) {
      if (mapping.properties !== undefined && mapping.type === undefined) {
        problems.push({ path, problem: `a ${jsonMappingType(v)} where the template maps an object` });
        return;
      }
      checkLeaf(path, mapping, v, !path.startsWith('jumpcloud.event.'));
      return;
    }
    const t = jsonMappingType(v);
    const dyn = dynamic.find(
      (d) =>
        d.re !== undefined &&
        d.re.test(path) &&
        (d.t.match_mapping_type === undefined || d.t.match_mapping_type === t || d.t.match_mapping_type === '*'),
    );
    if (dyn === undefined) {
      problems.push({
        path,
        problem: `no mapping (only scoped dynamic templates count; the catch-all is for fields added upstream)`,
      });
      return;
    }
    checkLeaf(path, dyn.t.mapping, v, false);
  };

  walk('', { properties: template.template.mappings.properties }, doc);
  return problems;
}

/** Every explicitly mapped leaf path of the template, with its type. */
export function mappedLeaves(template: IndexTemplate): Map<string, string> {
  const out = new Map<string, string>();
  const rec = (prefix: string, props: Readonly<Record<string, FieldMapping>>) => {
    for (const [k, m] of Object.entries(props)) {
      const p = prefix === '' ? k : `${prefix}.${k}`;
      if (m.properties !== undefined) rec(p, m.properties);
      else out.set(p, m.type ?? 'object');
    }
  };
  rec('', template.template.mappings.properties);
  return out;
}
