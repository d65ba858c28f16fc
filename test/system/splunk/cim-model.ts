// Splunk's CIM field definitions (cim/*.json, from Splunk's pytest-splunk-addon) applied to one event as Splunk's
// data models would see it: the datasets whose tags and constraints the event meets (a child only under its
// parent), and for each, its fields (a child inherits its parent's): a required field present, a conditional one
// present when its condition holds, every present one non-empty, single-valued unless declared multivalue, among
// its expected values, and valid by its validity rule.
import { readFileSync } from 'node:fs';
import { parseSearch, matches, type Fields, type Search } from './spl.js';

interface FieldDef {
  readonly name: string;
  readonly type: 'required' | 'conditional' | 'optional';
  readonly condition?: string;
  readonly expected_values?: readonly string[];
  readonly validity?: string;
  readonly multi_value?: boolean;
}
interface DatasetDef {
  readonly name: string;
  readonly tags: ReadonlyArray<readonly string[]>;
  readonly search_constraints: string;
  readonly fields: readonly FieldDef[];
  readonly child_dataset: readonly DatasetDef[];
}

export interface Dataset {
  /** Model.Dataset.Child, e.g. Change.All_Changes.Account_Management. */
  readonly path: string;
  readonly tags: ReadonlyArray<readonly string[]>;
  readonly constraint: Search;
  readonly fields: readonly FieldDef[];
  readonly parent?: Dataset;
}

export const MODELS = ['Authentication', 'Change', 'Alerts'] as const;
const dir = new URL('./cim/', import.meta.url);

/** Every dataset of the three models, parents before children. */
export function loadDatasets(): Dataset[] {
  const out: Dataset[] = [];
  const visit = (d: DatasetDef, prefix: string, parent?: Dataset): void => {
    const ds: Dataset = {
      path: `${prefix}.${d.name}`,
      tags: d.tags,
      constraint: parseSearch(d.search_constraints),
      fields: [...(parent?.fields ?? []), ...d.fields],
      parent,
    };
    out.push(ds);
    for (const c of d.child_dataset) visit(c, ds.path, ds);
  };
  for (const m of MODELS) {
    const model = JSON.parse(readFileSync(new URL(`${m}.json`, dir), 'utf8')) as {
      model_name: string;
      objects: DatasetDef[];
    };
    for (const o of model.objects) visit(o, model.model_name);
  }
  return out;
}

/** Fields an add-on must not extract (CommonFields.json: filled in by asset and identity correlation, or `tag`). */
export function forbiddenFields(): string[] {
  const common = JSON.parse(readFileSync(new URL('CommonFields.json', dir), 'utf8')) as {
    fields: Array<{ name: string }>;
  };
  return common.fields.map((f) => f.name);
}

/** The datasets an event with these fields (its `tag` included) belongs to. */
export function datasetsOf(all: readonly Dataset[], fields: Fields): Dataset[] {
  const tags = new Set(valuesOf(fields.get('tag')));
  const inside = new Set<Dataset>();
  for (const d of all) {
    if (d.parent && !inside.has(d.parent)) continue;
    if (d.tags.some((group) => group.every((t) => tags.has(t))) && matches(d.constraint, fields)) inside.add(d);
  }
  return [...inside];
}

function valuesOf(v: string | readonly string[] | undefined): string[] {
  return v === undefined ? [] : typeof v === 'string' ? [v] : [...v];
}

/**
 * The validity rules of the definitions, as predicates on the field's values and the event. A rule not listed
 * here fails the check: a newer copy of the definitions is noticed, not silently skipped.
 */
function validity(rule: string, field: string, vals: readonly string[], fields: Fields): string | undefined {
  if (rule === `if(like(${field},'%\\"%'),null(),${field})`) {
    return vals.some((v) => v.includes('"')) ? 'contains a double quote' : undefined;
  }
  if (
    rule ===
    'if((tag=="account" AND object_category=="user") OR (tag!="account" AND object_category!="user"),' +
      'object_category, null())'
  ) {
    const account = valuesOf(fields.get('tag')).includes('account');
    return account === vals.includes('user')
      ? undefined
      : 'object_category is "user" exactly when the event is tagged account';
  }
  const range = /^if\(isnum\((\w+)\) (?:and|AND) \1>0 (?:and|AND) \1<3600, ?\1, ?null\(\)\)$/.exec(rule);
  if (range && range[1] === field)
    return vals.every((v) => Number(v) > 0 && Number(v) < 3600) ? undefined : 'not a number of seconds in (0, 3600)';
  if (rule === "if(action in ['success', 'failure'], action, null())") {
    return valuesOf(fields.get('action')).every((a) => a === 'success' || a === 'failure')
      ? undefined
      : 'only with action success or failure';
  }
  throw new Error(`cim-model.ts: the validity rule of ${field} is not known here: ${rule}`);
}

export interface Finding {
  readonly dataset: string;
  readonly field: string;
  readonly problem: string;
}

/** Checks an event's fields against one dataset's definitions; returns what is wrong and counts the checks. */
export function checkFields(d: Dataset, fields: Fields, counter: { checks: number }): Finding[] {
  const out: Finding[] = [];
  const automatic = new Set(forbiddenFields());
  for (const f of d.fields) {
    if (automatic.has(f.name)) continue; // `tag` and the like: Splunk fills them, the add-on must not
    const v = fields.get(f.name);
    const needed = f.type === 'required' || (f.type === 'conditional' && matches(parseSearch(f.condition!), fields));
    if (v === undefined) {
      if (needed) {
        counter.checks++;
        out.push({
          dataset: d.path,
          field: f.name,
          problem: `missing (${f.type}${f.condition ? `: ${f.condition}` : ''})`,
        });
      }
      continue;
    }
    counter.checks++;
    const vals = valuesOf(v);
    const bad = (problem: string): void => {
      out.push({ dataset: d.path, field: f.name, problem: `${JSON.stringify(v)}: ${problem}` });
    };
    if (vals.some((x) => x.trim() === '')) bad('empty');
    if (vals.length > 1 && !f.multi_value) bad('multivalue, and the field is not');
    if (f.expected_values && !vals.every((x) => f.expected_values!.includes(x)))
      bad(`not among ${f.expected_values.join(', ')}`);
    const invalid = f.validity ? validity(f.validity, f.name, vals, fields) : undefined;
    if (invalid) bad(invalid);
  }
  return out;
}
