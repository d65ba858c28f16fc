// What Splunk's search time makes of one JSON document of the sourcetype jumpcloud:directory_insights, under the
// add-on's own configuration, in Splunk's order (props.conf.spec): KV_MODE=json extraction, then FIELDALIAS, then
// EVAL (all of a stanza's EVALs at once: none sees another's result), then LOOKUP (OUTPUTNEW: a field that exists
// is kept), then event types, then tags. Settings the add-on does not use (EXTRACT, REPORT, OUTPUT lookups,
// eventtype-to-eventtype references...) are errors here: the evaluator covers exactly what the add-on uses.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ADDON_DIR, readAddonConf, type Conf, type Stanza } from './conf.js';
import { parseCsv } from './lookup-table.js';
import { evaluate, fieldsOf, matches, parseEval, parseSearch, type Expr, type Search } from './spl.js';

export const SOURCETYPE = 'jumpcloud:directory_insights';

type FieldValue = string | readonly string[];
export type Event = Map<string, FieldValue>;

export interface Alias {
  readonly from: string;
  readonly to: string;
  readonly asNew: boolean;
}
export interface Calc {
  readonly field: string;
  readonly src: string;
  readonly expr: Expr;
}
export interface Lookup {
  readonly name: string;
  readonly match: ReadonlyArray<{ readonly column: string; readonly field: string }>;
  readonly outputs: ReadonlyArray<{ readonly column: string; readonly field: string }>;
  readonly rows: ReadonlyArray<Record<string, string>>;
  readonly caseSensitive: boolean;
}

export interface AddOn {
  readonly aliases: readonly Alias[];
  readonly evals: readonly Calc[];
  readonly lookups: readonly Lookup[];
  readonly eventtypes: ReadonlyArray<{ readonly name: string; readonly search: Search }>;
  readonly tags: ReadonlyMap<string, readonly string[]>;
}

/** Settings of the sourcetype stanza the evaluator knows; what it does not evaluate is index-time or a label. */
const PROPS_KEYS = new Set([
  'category',
  'description',
  'pulldown_type',
  'SHOULD_LINEMERGE',
  'LINE_BREAKER',
  'EVENT_BREAKER_ENABLE',
  'EVENT_BREAKER',
  'TRUNCATE',
  'CHARSET',
  'TIME_PREFIX',
  'MAX_TIMESTAMP_LOOKAHEAD',
  'TZ',
  'KV_MODE',
]);

function parseAliases(props: Stanza): Alias[] {
  const out: Alias[] = [];
  for (const key of Object.keys(props)
    .filter((k) => k.startsWith('FIELDALIAS-'))
    .sort()) {
    const words = props[key]!.split(/\s+/).filter((w) => w !== '');
    if (words.length === 0 || words.length % 3 !== 0)
      throw new Error(`props.conf ${key}: not a list of <field> AS|ASNEW <alias>`);
    for (let i = 0; i < words.length; i += 3) {
      if (words[i + 1] !== 'AS' && words[i + 1] !== 'ASNEW')
        throw new Error(`props.conf ${key}: ${words[i + 1]} where AS or ASNEW belongs`);
      out.push({ from: words[i]!, to: words[i + 2]!, asNew: words[i + 1] === 'ASNEW' });
    }
  }
  for (const a of out) {
    if (out.filter((b) => b.to === a.to).length > 1)
      throw new Error(`props.conf: two FIELDALIAS name ${a.to}; Splunk applies one of them only`);
    if (out.some((b) => b.to === a.from))
      throw new Error(`props.conf: FIELDALIAS of ${a.from}, itself an alias: aliases are not chained`);
  }
  return out;
}

type ReadLookup = (filename: string) => Array<Record<string, string>>;

function parseLookup(key: string, value: string, transforms: Conf, read: ReadLookup): Lookup {
  const words = value.split(/[\s,]+/).filter((w) => w !== '');
  const name = words.shift()!;
  const t = transforms[name];
  if (!t) throw new Error(`props.conf ${key}: transforms.conf has no [${name}]`);
  for (const k of Object.keys(t))
    if (!['filename', 'case_sensitive_match', 'max_matches'].includes(k))
      throw new Error(`transforms.conf [${name}]: ${k} is outside the evaluated subset`);
  if (t.max_matches !== '1')
    throw new Error(`transforms.conf [${name}]: max_matches = 1 expected (more would make multivalue outputs)`);
  const pairs = (list: string[]): Array<{ column: string; field: string }> => {
    const out: Array<{ column: string; field: string }> = [];
    for (let i = 0; i < list.length; i++) {
      if (list[i + 1] === 'AS') {
        out.push({ column: list[i]!, field: list[i + 2]! });
        i += 2;
      } else out.push({ column: list[i]!, field: list[i]! });
    }
    return out;
  };
  const at = words.indexOf('OUTPUTNEW');
  if (at < 1 || words.includes('OUTPUT'))
    throw new Error(
      `props.conf ${key}: <lookup> <match fields> OUTPUTNEW <fields> expected ` +
        '(OUTPUT would overwrite what the EVALs calculate)',
    );
  const rows = read(t.filename!);
  const lookup = {
    name,
    match: pairs(words.slice(0, at)),
    outputs: pairs(words.slice(at + 1)),
    rows,
    caseSensitive: t.case_sensitive_match !== 'false',
  };
  for (const c of [...lookup.match, ...lookup.outputs])
    if (!(c.column in (rows[0] ?? {}))) throw new Error(`props.conf ${key}: ${t.filename} has no column ${c.column}`);
  return lookup;
}

/** Reads the add-on's props.conf, transforms.conf, eventtypes.conf, tags.conf and lookups. */
export function loadAddOn(): AddOn {
  const props = readAddonConf('props')?.[SOURCETYPE];
  if (!props) throw new Error(`default/props.conf has no [${SOURCETYPE}] stanza`);
  const read = (f: string): Array<Record<string, string>> =>
    parseCsv(readFileSync(join(ADDON_DIR, 'lookups', f), 'utf8'));
  return buildAddOn(
    props,
    readAddonConf('transforms') ?? {},
    readAddonConf('eventtypes') ?? {},
    readAddonConf('tags') ?? {},
    read,
  );
}

/** The evaluator's reading of a sourcetype stanza and the confs it refers to; throws on what it does not cover. */
export function buildAddOn(
  props: Stanza,
  transforms: Conf,
  eventtypeConf: Conf,
  tagConf: Conf,
  read: ReadLookup,
): AddOn {
  for (const key of Object.keys(props)) {
    if (!PROPS_KEYS.has(key) && !/^(FIELDALIAS|EVAL|LOOKUP)-/.test(key))
      throw new Error(`props.conf ${key} is outside what the evaluator covers`);
  }
  if (props.KV_MODE !== 'json') throw new Error('props.conf: KV_MODE = json expected');
  const aliases = parseAliases(props);
  const evals = Object.keys(props)
    .filter((k) => k.startsWith('EVAL-'))
    .sort()
    .map((k) => ({ field: k.slice(5), src: props[k]!, expr: parseEval(props[k]!) }));
  const lookups = Object.keys(props)
    .filter((k) => k.startsWith('LOOKUP-'))
    .sort()
    .map((k) => parseLookup(k, props[k]!, transforms, read));
  const calculated = new Set(evals.map((e) => e.field));
  const lookedUp = new Set(lookups.flatMap((l) => l.outputs.map((o) => o.field)));
  for (const e of evals) {
    for (const f of fieldsOf(e.expr)) {
      if (calculated.has(f))
        throw new Error(
          `props.conf EVAL-${e.field} reads ${f}, which an EVAL calculates: ` +
            'EVALs run at once and see its value from before',
        );
      if (lookedUp.has(f))
        throw new Error(`props.conf EVAL-${e.field} reads ${f}, which a lookup writes after the EVALs`);
    }
    if (aliases.some((a) => a.to === e.field))
      throw new Error(`props.conf: ${e.field} is both a FIELDALIAS and an EVAL`);
  }
  for (const l of lookups)
    for (const m of l.match)
      if (lookedUp.has(m.field))
        throw new Error(`props.conf: lookup ${l.name} matches on ${m.field}, another lookup's output`);
  const eventtypes = Object.entries(eventtypeConf).map(([name, s]) => {
    for (const k of Object.keys(s))
      if (k !== 'search' && k !== 'description')
        throw new Error(`eventtypes.conf [${name}]: ${k} is outside the evaluated subset`);
    if (!s.search) throw new Error(`eventtypes.conf [${name}] has no search`);
    return { name, search: parseSearch(s.search) };
  });
  const tags = new Map<string, string[]>();
  for (const [stanza, s] of Object.entries(tagConf)) {
    const m = /^eventtype=(.+)$/.exec(stanza);
    if (!m || !eventtypes.some((e) => e.name === m[1]))
      throw new Error(`tags.conf [${stanza}]: not an eventtype=<an event type of eventtypes.conf>`);
    for (const [tag, v] of Object.entries(s))
      if (v !== 'enabled' && v !== 'disabled')
        throw new Error(`tags.conf [${stanza}] ${tag} = ${v}: enabled or disabled`);
    tags.set(
      m[1]!,
      Object.keys(s).filter((t) => s[t] === 'enabled'),
    );
  }
  return { aliases, evals, lookups, eventtypes, tags };
}

/**
 * KV_MODE=json: a nested object's fields as dotted names (`client.ip`), an array's values under `name{}`
 * (`related.ip{}`, `jumpcloud.changes{}.field`); strings as they are, numbers and booleans as their JSON text.
 * A field with one value is a single value, with more a multivalue. JSON null reads as the text null (the raw
 * `changes` values the Elastic shape keeps as they are can be null).
 */
export function kvJson(doc: unknown): Event {
  const acc = new Map<string, string[]>();
  const walk = (path: string, v: unknown): void => {
    if (Array.isArray(v)) {
      for (const x of v) walk(`${path}{}`, x);
      return;
    }
    if (v !== null && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) walk(path ? `${path}.${k}` : k, x);
      return;
    }
    const list = acc.get(path) ?? [];
    list.push(typeof v === 'string' ? v : JSON.stringify(v));
    acc.set(path, list);
  };
  walk('', doc);
  return new Map([...acc].map(([k, v]) => [k, v.length === 1 ? v[0]! : v]));
}

function applyLookup(l: Lookup, ev: Event): void {
  const keys = l.match.map((m) => ev.get(m.field));
  if (keys.some((k) => k === undefined)) return; // an event without a match field is not looked up
  if (keys.some((k) => Array.isArray(k))) throw new Error(`lookup ${l.name}: a multivalue match field`);
  const norm = (s: string): string => (l.caseSensitive ? s : s.toLowerCase());
  const row = l.rows.find((r) => l.match.every((m, i) => norm(r[m.column]!) === norm(keys[i] as string)));
  for (const o of l.outputs) {
    // No row: Splunk clears the output fields (props.conf.spec); modelled so even for fields an EVAL set.
    if (row === undefined) ev.delete(o.field);
    else if (!ev.has(o.field) && row[o.column] !== '') ev.set(o.field, row[o.column]!);
  }
}

export interface SearchTime {
  readonly fields: Event;
  readonly eventtypes: readonly string[];
  readonly tags: readonly string[];
}

/** Search time of one document: the fields, event types and tags Splunk would show for it. */
export function searchTime(addon: AddOn, doc: unknown): SearchTime {
  const ev = kvJson(doc);
  ev.set('sourcetype', SOURCETYPE);
  for (const a of addon.aliases) {
    const v = ev.get(a.from);
    if (a.asNew) {
      if (!ev.has(a.to) && v !== undefined) ev.set(a.to, v);
    } else if (v === undefined) ev.delete(a.to);
    else ev.set(a.to, v);
  }
  const results = addon.evals.map((e) => [e.field, evaluate(e.expr, ev)] as const);
  for (const [field, v] of results) {
    if (v === null) ev.delete(field);
    else if (typeof v === 'boolean') throw new Error(`EVAL-${field} yields a boolean`);
    else ev.set(field, Array.isArray(v) ? v : String(v));
  }
  for (const l of addon.lookups) applyLookup(l, ev);
  const eventtypes = addon.eventtypes.filter((e) => matches(e.search, ev)).map((e) => e.name);
  const tags = [...new Set(eventtypes.flatMap((e) => addon.tags.get(e) ?? []))].sort();
  return { fields: ev, eventtypes, tags };
}
