// The Splunk add-on's CIM mapping, held to Splunk's own CIM field definitions (cim/, from pytest-splunk-addon):
// every golden document of both profiles and one mapped document per catalog entry in each profile go through the
// add-on's search-time configuration as Splunk applies it (searchtime.ts: KV_MODE=json, FIELDALIAS, EVAL, LOOKUP,
// event types, tags), land in exactly the CIM dataset the lookup gives their event type, and carry every field
// that dataset requires, with allowed values. No Splunk runs here: the configuration is read from the add-on's
// files and evaluated by a strict evaluator of the subset it uses (spl.ts), itself tested at the end.
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { CATALOG, sampleEvent } from '../../../input/simulator/catalog.js';
import { FilterHost } from '../../../input/wasm/filter-host.js';
import { checkFields, datasetsOf, forbiddenFields, loadDatasets, type Dataset } from './cim-model.js';
import { readAddonConf } from './conf.js';
import { LOOKUP_PATH, lookupRows, parseCsv, toCsv, type LookupRow } from './lookup-table.js';
import { kvJson, loadAddOn, searchTime, type AddOn, type SearchTime } from './searchtime.js';
import { fieldsOf, spath, type Expr } from './spl.js';

const fixtures = new URL('../../../fixtures/', import.meta.url);
const PROFILES = ['jumpcloud_ecs', 'jumpcloud_elastic'] as const;
/** The root dataset each lookup value puts an event in (Account_Management: under All_Changes). */
const ROOTS: Readonly<Record<string, readonly string[]>> = {
  Authentication: ['Authentication.Authentication'],
  All_Changes: ['Change.All_Changes'],
  Account_Management: ['Change.All_Changes', 'Change.All_Changes.Account_Management'],
  Alerts: ['Alerts.Alerts'],
  '': [],
};
/** CIM fields both profiles must agree on for the same raw event. */
const SHARED = [
  'jumpcloud_cim_dataset',
  'action',
  'status',
  'app',
  'dest',
  'dvc',
  'src',
  'src_ip',
  'user',
  'src_user',
  'src_user_type',
  'object',
  'object_id',
  'object_attrs',
  'object_category',
  'change_type',
  'result',
  'reason',
  'authentication_method',
  'authentication_service',
  'severity',
  'vendor_account',
  'id',
  'signature',
  'signature_id',
  'command',
  'type',
  'description',
  'tag',
];

let host: FilterHost;
let addon: AddOn;
let datasets: Dataset[];
let rows: Map<string, LookupRow>;
beforeAll(() => {
  host = new FilterHost();
  addon = loadAddOn();
  datasets = loadDatasets();
  rows = new Map(lookupRows().map((r) => [r.event_type, r]));
});

interface Doc {
  readonly name: string;
  readonly doc: Record<string, unknown>;
}
const readJson = (rel: string): Record<string, unknown> =>
  JSON.parse(readFileSync(new URL(rel, fixtures), 'utf8')) as Record<string, unknown>;
const goldens = (): Doc[] => [
  ...readdirSync(new URL('samples/', fixtures))
    .filter((f) => f.endsWith('.expected.json'))
    .sort()
    .map((f) => ({ name: `jumpcloud_ecs golden ${f}`, doc: readJson(`samples/${f}`) })),
  ...readdirSync(new URL('elastic/', fixtures))
    .filter((f) => f.endsWith('.expected.json'))
    .sort()
    .map((f) => ({ name: `jumpcloud_elastic golden ${f}`, doc: readJson(`elastic/${f}`) })),
];
const mapped = (fn: string, raw: unknown): Record<string, unknown> =>
  host.map(fn, JSON.stringify({ message: JSON.stringify(raw) }));
const catalogDocs = (change: (raw: Record<string, unknown>) => Record<string, unknown> = (r) => r): Doc[] =>
  CATALOG.flatMap((c) => {
    const raw = change(sampleEvent(c.type, 1, '', { service: c.service }));
    return PROFILES.map((fn) => ({ name: `${fn} ${c.service}/${c.type}`, doc: mapped(fn, raw) }));
  });

/** The raw paths an expression reads with spath(message, "path"). */
function spathPaths(e: Expr, out: string[] = []): string[] {
  if (e.t === 'call') {
    const [src, path] = e.args;
    if (e.fn === 'spath' && src?.t === 'field' && src.name === 'message' && path?.t === 'lit') out.push(String(path.v));
    e.args.forEach((a) => spathPaths(a, out));
  } else if (e.t === 'bin') {
    spathPaths(e.l, out);
    spathPaths(e.r, out);
  } else if (e.t === 'not') spathPaths(e.e, out);
  return out;
}

/** The event's fields with its tags and event types, as the data models see them. */
function modelFields(st: SearchTime): Map<string, string | readonly string[]> {
  const f = new Map(st.fields);
  const one = (l: readonly string[]): string | readonly string[] => (l.length === 1 ? l[0]! : l);
  if (st.tags.length > 0) f.set('tag', one(st.tags));
  f.set('eventtype', one(st.eventtypes));
  return f;
}

interface Tally {
  documents: number;
  inModels: number;
  memberships: number;
  checks: number;
  findings: string[];
  byDataset: Map<string, number>;
}

/** Runs documents through search time and the CIM definitions; findings name the document, dataset and field. */
function audit(docs: readonly Doc[]): Tally {
  const t: Tally = { documents: 0, inModels: 0, memberships: 0, checks: 0, findings: [], byDataset: new Map() };
  const counter = { checks: 0 };
  for (const { name, doc } of docs) {
    t.documents++;
    const fields = modelFields(searchTime(addon, doc));
    const type = (doc.event as { action?: string } | undefined)?.action ?? '';
    const row = rows.get(type);
    if (!row) {
      t.findings.push(`${name}: event type ${type} is not in the lookup`);
      continue;
    }
    const inside = datasetsOf(datasets, fields);
    const roots = inside.map((d) => d.path).filter((p) => Object.values(ROOTS).flat().includes(p));
    const want = ROOTS[row.jumpcloud_cim_dataset]!;
    if (JSON.stringify(roots) !== JSON.stringify(want))
      t.findings.push(`${name}: in ${roots.join(', ') || 'no dataset'}, the lookup says ${want.join(', ') || 'none'}`);
    if (inside.length > 0) t.inModels++;
    for (const d of inside) {
      t.memberships++;
      t.byDataset.set(d.path, (t.byDataset.get(d.path) ?? 0) + 1);
      for (const f of checkFields(d, fields, counter))
        t.findings.push(`${name}: ${f.dataset}: ${f.field} ${f.problem}`);
    }
  }
  t.checks = counter.checks;
  return t;
}

const summary = (what: string, t: Tally): string =>
  `${what}: ${t.documents} documents, ${t.inModels} in a CIM data model, ` +
  `${t.memberships} dataset memberships, ${t.checks} field checks\n` +
  [...t.byDataset].map(([d, n]) => `  ${d}: ${n}`).join('\n');

describe('the event-type lookup', () => {
  it('is what the catalog and filter/categories.ts give (else: node --import tsx test/system/splunk/make-lookup.ts)', () => {
    const want = lookupRows();
    expect(readFileSync(LOOKUP_PATH, 'utf8')).toBe(toCsv(want));
    const committed = parseCsv(readFileSync(LOOKUP_PATH, 'utf8'));
    const types = new Set(CATALOG.map((c) => c.type));
    expect(new Set(committed.map((r) => r.event_type))).toEqual(types);
    expect(committed).toHaveLength(types.size);
    console.log(
      `lookup: ${committed.length} event types: ${['Authentication', 'All_Changes', 'Account_Management', 'Alerts', '']
        .map((d) => `${d || 'none'} ${committed.filter((r) => r.jumpcloud_cim_dataset === d).length}`)
        .join(', ')}`,
    );
  });

  it('make-lookup.ts --check agrees (the command its error messages print)', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'test/system/splunk/make-lookup.ts', '--check'], {
      cwd: new URL('../../../', import.meta.url),
      encoding: 'utf8',
    });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/365 event types, as the catalog and filter\/categories\.ts say/);
  });

  it('gives every change its CIM action and object category, and every sign-in type an EVAL for its action', () => {
    for (const r of rows.values()) {
      const change = r.jumpcloud_cim_dataset === 'All_Changes' || r.jumpcloud_cim_dataset === 'Account_Management';
      if (change) {
        expect(['created', 'modified', 'deleted'], r.event_type).toContain(r.action);
        expect(r.object_category, r.event_type).not.toBe('');
        expect(r.change_type, r.event_type).not.toBe('');
      }
      expect(r.object_category === 'user', r.event_type).toBe(r.jumpcloud_cim_dataset === 'Account_Management');
    }
    // EVAL-action lists exactly the lookup's Authentication types (the lookup's action fills in the others).
    const props = readAddonConf('props')!['jumpcloud:directory_insights']!;
    const listed = [...props['EVAL-action']!.matchAll(/"([a-z_]+)"/g)]
      .map((m) => m[1])
      .filter((s) => rows.has(s!))
      .sort();
    const auth = [...rows.values()]
      .filter((r) => r.jumpcloud_cim_dataset === 'Authentication')
      .map((r) => r.event_type)
      .sort();
    expect(listed, "props.conf EVAL-action names other types than the lookup's Authentication rows").toEqual(auth);
  });
});

describe("CIM fields under the add-on's search-time configuration", () => {
  it('the golden documents of both profiles', () => {
    const t = audit(goldens());
    console.log(summary('goldens', t));
    expect(t.documents).toBe(21);
    expect(t.inModels).toBe(t.documents); // every golden is a sign-in or a change
    expect(t.findings).toEqual([]);
  });

  it('one mapped document per catalog entry, in each profile', () => {
    const docs = catalogDocs();
    const t = audit(docs);
    console.log(summary('catalog', t));
    // Splunk extracts fields automatically from an event's first 5,000 bytes ([spath] extraction_cutoff).
    const largest = Math.max(...docs.map((d) => Buffer.byteLength(JSON.stringify(d.doc))));
    console.log(`largest mapped document: ${largest} bytes`);
    expect(largest, 'past 5,000 bytes Splunk extracts no field: the add-on README must say what to set').toBeLessThan(
      5000,
    );
    expect(t.documents).toBe(CATALOG.length * 2);
    expect(t.findings).toEqual([]);
    for (const d of [
      'Authentication.Authentication',
      'Change.All_Changes',
      'Change.All_Changes.Account_Management',
      'Alerts.Alerts',
    ]) {
      expect(t.byDataset.get(d) ?? 0, d).toBeGreaterThan(0);
    }
  });

  it('a failed change: status failure, JumpCloud\'s error message as result (or "failure" without one)', () => {
    const changes = new Set(
      [...rows.values()]
        .filter((r) => ['All_Changes', 'Account_Management'].includes(r.jumpcloud_cim_dataset))
        .map((r) => r.event_type),
    );
    const failed =
      (message: boolean) =>
      (raw: Record<string, unknown>): Record<string, unknown> => {
        const { error_message: _, ...rest } = raw;
        return { ...rest, success: false, ...(message ? { error_message: 'denied by an IP list' } : {}) };
      };
    for (const message of [true, false]) {
      const docs = catalogDocs(failed(message)).filter((d) => changes.has((d.doc.event as { action: string }).action));
      const t = audit(docs);
      console.log(summary(`failed changes, ${message ? 'with' : 'without'} an error message`, t));
      expect(t.findings).toEqual([]);
      for (const d of docs) {
        const f = searchTime(addon, d.doc).fields;
        const lockout = /^(admin|user)_lockout$/.test((d.doc.event as { action: string }).action);
        expect([f.get('status'), f.get('result')], d.name).toEqual([
          'failure',
          lockout ? 'lockout' : message ? 'denied by an IP list' : 'failure',
        ]);
      }
    }
  });

  it('reads no field and no raw path that none of the documents has (a misspelt name would read nothing)', () => {
    const seen = new Set<string>();
    const messages: string[] = [];
    for (const { doc } of [...goldens(), ...catalogDocs()]) {
      for (const k of kvJson(doc).keys()) seen.add(k);
      if (typeof doc.message === 'string') messages.push(doc.message);
    }
    const calculated = new Set(addon.evals.map((e) => e.field));
    const unread: string[] = [];
    for (const a of addon.aliases) if (!seen.has(a.from)) unread.push(`FIELDALIAS ${a.from}`);
    for (const e of addon.evals) {
      for (const f of fieldsOf(e.expr)) if (!seen.has(f)) unread.push(`EVAL-${e.field} reads ${f}`);
      for (const p of spathPaths(e.expr))
        if (!messages.some((m) => spath(m, p) !== null)) unread.push(`EVAL-${e.field} reads spath(message, "${p}")`);
    }
    for (const l of addon.lookups)
      for (const m of l.match)
        if (!seen.has(m.field) && !calculated.has(m.field)) unread.push(`LOOKUP ${l.name} matches ${m.field}`);
    expect(unread).toEqual([]);
  });

  it('both profiles give the same CIM fields for the same raw event', () => {
    const differ: string[] = [];
    for (const c of CATALOG) {
      const raw = sampleEvent(c.type, 2, '', { service: c.service });
      const [ecs, elastic] = PROFILES.map((fn) => modelFields(searchTime(addon, mapped(fn, raw))));
      for (const f of SHARED) {
        const a = JSON.stringify(ecs!.get(f) ?? null);
        const b = JSON.stringify(elastic!.get(f) ?? null);
        if (a !== b) differ.push(`${c.type} ${f}: ecs ${a}, elastic ${b}`);
      }
    }
    expect(differ).toEqual([]);
  });

  it('says what happened: the golden RADIUS failure, an admin sign-in, a lockout, an alert', () => {
    const at = (doc: Record<string, unknown>): Map<string, string | readonly string[]> =>
      modelFields(searchTime(addon, doc));
    for (const dir of ['samples', 'elastic']) {
      const radius = at(readJson(`${dir}/radius_auth_failure.expected.json`));
      expect(radius.get('action')).toBe('failure');
      expect(radius.get('user')).toBe('john.doe');
      expect(radius.get('src')).toBe('13.14.15.16');
      expect(radius.get('reason')).toBe('mschap: MS-CHAP2-Response is incorrect');
      expect(radius.get('app')).toBe('jumpcloud:radius');
      expect(datasetsOf(datasets, radius).map((d) => d.path)).toContain(
        'Authentication.Authentication.Failed_Authentication',
      );
      const admin = at(readJson(`${dir}/admin_login.expected.json`));
      expect(admin.get('tag')).toEqual(['authentication', 'privileged']);
      expect(admin.get('user')).toBe('john.doe@sekoia.io');
      expect(datasetsOf(datasets, admin).map((d) => d.path)).toContain(
        'Authentication.Authentication.Privileged_Authentication.Successful_Privileged_Authentication',
      );
      const update = at(readJson(`${dir}/user_update3.expected.json`));
      expect([update.get('action'), update.get('user'), update.get('src_user'), update.get('object_category')]).toEqual(
        ['modified', 'john.wick', 'maurice.moss@sekoia.io', 'user'],
      );
      expect(update.get('object_attrs')).toEqual(['addresses', 'company', 'location', 'state', 'suspended']);
    }
    for (const fn of PROFILES) {
      const lockout = modelFields(searchTime(addon, mapped(fn, sampleEvent('user_lockout', 3))));
      expect(lockout.get('result')).toBe('lockout');
      expect(datasetsOf(datasets, lockout).map((d) => d.path)).toContain(
        'Change.All_Changes.Account_Management.Account_Lockouts',
      );
      const alert = modelFields(searchTime(addon, mapped(fn, sampleEvent('alert_created', 3))));
      expect(alert.get('tag')).toBe('alert');
      expect(['critical', 'high', 'medium', 'low']).toContain(alert.get('severity'));
    }
  });

  it('an event type JumpCloud adds later: searchable, in no data model, nothing invented', () => {
    for (const fn of PROFILES) {
      const raw = { ...sampleEvent('user_update', 4), event_type: 'user_teleport' };
      const st = searchTime(addon, mapped(fn, raw));
      expect(st.eventtypes).toEqual(['jumpcloud_directory_insights']);
      expect(st.tags).toEqual([]);
      expect(st.fields.get('jumpcloud_cim_dataset')).toBeUndefined();
      expect(st.fields.get('signature_id')).toBe('user_teleport');
    }
  });

  it('defines none of the fields Splunk fills in itself (tag, *_bunit, *_category, *_priority)', () => {
    const produced = new Set([
      ...addon.aliases.map((a) => a.to),
      ...addon.evals.map((e) => e.field),
      ...addon.lookups.flatMap((l) => l.outputs.map((o) => o.field)),
    ]);
    expect(forbiddenFields().filter((f) => produced.has(f))).toEqual([]);
    expect(produced.size).toBeGreaterThan(25);
  });
});
