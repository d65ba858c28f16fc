// A scenario file's shape and its validation: every key of the file and of its steps is declared here with its
// check, so an error names the file, the step, the key and what would be accepted, the way a JSON Schema
// validator with hand-written messages would. README: scenarios/README.md.
import { closest } from '../../argv.js';
import { DurationError, parseDuration } from '../../duration.js';
import { CATALOG, catalogEntry } from '../catalog.js';
import { COUNTRIES } from '../vocab.js';

export class ScenarioError extends Error {
  override readonly name = 'ScenarioError';
}

/** `user[3]`, `admin[0]`, `system[i]`, `user[i+8]`: one of the numbered rosters of vocab.ts. */
export interface IdentityRef {
  readonly kind: 'user' | 'admin' | 'system';
  /** Added to the repeat index when `perRepeat`. */
  readonly offset: number;
  readonly perRepeat: boolean;
}

export type Scalar = string | number | boolean;

export interface Step {
  /** 0-based position in the file (errors say `steps[n]`). */
  readonly index: number;
  /** Offset of the first event from the scenario's start, ms. */
  readonly at: number;
  readonly type: string;
  readonly service: string;
  readonly repeat: number;
  /** Gap between repeats, ms. */
  readonly every: number;
  readonly actor?: IdentityRef;
  readonly target?: IdentityRef;
  readonly success?: boolean;
  readonly mfa?: boolean;
  readonly clientIp?: string;
  /** A country code of vocab.ts, or a geoip object given whole. */
  readonly geoip?: string | Record<string, unknown>;
  readonly changes?: unknown[];
  /** Fields set by dotted path, after everything else. */
  readonly set: Readonly<Record<string, unknown>>;
  readonly stream: 'org' | 'provider';
  readonly byProvider: boolean;
}

export interface Scenario {
  readonly name: string;
  readonly description: string;
  readonly vars: Readonly<Record<string, Scalar>>;
  readonly steps: readonly Step[];
}

type Check<T> = (value: unknown, where: string) => T;

const fail = (where: string, what: string): never => {
  throw new ScenarioError(`${where}: ${what}`);
};

const text: Check<string> = (v, where) =>
  typeof v === 'string' && v.trim() !== '' ? v : fail(where, `expected a non-empty text (got ${show(v)})`);
const flag: Check<boolean> = (v, where) =>
  typeof v === 'boolean' ? v : fail(where, `expected true or false (got ${show(v)})`);
const list: Check<unknown[]> = (v, where) => (Array.isArray(v) ? v : fail(where, `expected a list (got ${show(v)})`));
const object: Check<Record<string, unknown>> = (v, where) =>
  isObject(v) ? v : fail(where, `expected a mapping of keys to values (got ${show(v)})`);

const duration: Check<number> = (v, where) => {
  if (v === 0) return 0;
  try {
    return parseDuration(String(v));
  } catch (err) {
    if (err instanceof DurationError) return fail(where, err.message);
    throw err;
  }
};

const count: Check<number> = (v, where) =>
  Number.isInteger(v) && (v as number) >= 1 && (v as number) <= 10_000
    ? (v as number)
    : fail(where, `expected a whole number from 1 to 10000 (got ${show(v)})`);

const IDENTITY = /^(?:\$\{)?\s*(user|admin|system)\[\s*(i|\d+)\s*(?:\+\s*(\d+)\s*)?\]\s*\}?$/;

/** `user[i]`, `admin[0]`, `system[i+2]` (also inside `${…}`). */
export function identityRef(v: unknown, where: string): IdentityRef {
  const m = typeof v === 'string' ? IDENTITY.exec(v) : null;
  if (!m) return fail(where, `expected an identity such as user[i], user[3], admin[0] or system[i+2] (got ${show(v)})`);
  const perRepeat = m[2] === 'i';
  const offset = (perRepeat ? 0 : Number(m[2])) + Number(m[3] ?? 0);
  return { kind: m[1] as IdentityRef['kind'], offset, perRepeat };
}

const geoip: Check<string | Record<string, unknown>> = (v, where) => {
  if (isObject(v)) return v;
  if (typeof v === 'string' && COUNTRIES.includes(v.toUpperCase())) return v.toUpperCase();
  return fail(where, `expected a country code (${COUNTRIES.join(', ')}) or a whole geoip object (got ${show(v)})`);
};

const STEP_KEYS: Readonly<Record<string, string>> = {
  at: 'offset from the scenario start (a duration: 0, 90s, 5m, 1h30m)',
  type: 'the event type (a type of the catalog)',
  service: 'the service, for a type listed under two (user_lockout: directory or systems)',
  repeat: 'how many events (default 1)',
  every: 'gap between repeats (a duration; needed when repeat > 1)',
  actor: 'who does it: user[N], admin[N], system[N] (N: a number, i = the repeat index, or i+K)',
  target: 'whom or what it is done to, the same way',
  success: 'true or false',
  mfa: 'true or false',
  client_ip: 'the client address',
  geoip: 'a country code or a geoip object',
  changes: 'the changes[] list, as is',
  set: 'any fields, by dotted path (association.attributes.sudo.enabled: true)',
  stream: "org (default) or provider: the Multi-Tenant Portal's stream (needs a provider)",
  by_provider: "done by an admin of the org's provider (needs a provider)",
  note: 'a comment for readers',
};
const FILE_KEYS: Readonly<Record<string, string>> = {
  name: 'a short name (default: the file name)',
  description: 'what the scenario produces (required)',
  vars: 'values for ${name} in the steps',
  steps: 'the list of steps (required)',
};

/** Validates a parsed scenario file; `where` prefixes every message (the file name). */
export function validateScenario(doc: unknown, where: string, fallbackName: string): Scenario {
  const top = object(doc, where);
  knownKeys(top, FILE_KEYS, where);
  const description = text(
    top.description ?? fail(where, 'no description: say what the scenario produces'),
    `${where}: description`,
  );
  const vars = top.vars === undefined ? {} : scalars(object(top.vars, `${where}: vars`), `${where}: vars`);
  const steps = list(top.steps ?? fail(where, 'no steps: add a steps: list (scenarios/README.md)'), `${where}: steps`);
  if (steps.length === 0) fail(`${where}: steps`, 'the list is empty: add at least one step');
  const scenario = {
    name: top.name === undefined ? fallbackName : text(top.name, `${where}: name`),
    description,
    vars,
    steps: steps.map((s, i) => validateStep(s, i, `${where}: steps[${i}]`)),
  };
  for (const step of scenario.steps) checkReferences(step, vars, `${where}: steps[${step.index}]`);
  return scenario;
}

function validateStep(raw: unknown, index: number, where: string): Step {
  const s = object(raw, where);
  knownKeys(s, STEP_KEYS, where);
  const type = text(s.type ?? fail(where, 'no type: name the event type (type: user_login_attempt)'), `${where}.type`);
  const service = s.service === undefined ? undefined : text(s.service, `${where}.service`);
  const entry = catalogEntry(type, service);
  if (!entry) {
    const near = closest(
      type,
      CATALOG.map((e) => e.type),
    );
    const hint = near ? `; did you mean "${near}"?` : '';
    fail(
      `${where}.type`,
      `unknown event type "${type}"${service ? ` in service ${service}` : ''}${hint} ` +
        '(simulate --list-types lists the catalog)',
    );
  }
  const repeat = s.repeat === undefined ? 1 : count(s.repeat, `${where}.repeat`);
  if (repeat > 1 && s.every === undefined) {
    fail(where, `repeat ${repeat} needs every: the gap between the events (every: 30s)`);
  }
  const opt = <T>(key: string, check: Check<T>): T | undefined =>
    s[key] === undefined ? undefined : check(s[key], `${where}.${key}`);
  const stream = s.stream === undefined ? 'org' : s.stream;
  if (stream !== 'org' && stream !== 'provider') {
    fail(`${where}.stream`, `expected org or provider (got ${show(stream)})`);
  }
  return {
    index,
    at: opt('at', duration) ?? 0,
    type,
    service: entry!.service,
    repeat,
    every: opt('every', duration) ?? 0,
    actor: opt('actor', identityRef),
    target: opt('target', identityRef),
    success: opt('success', flag),
    mfa: opt('mfa', flag),
    clientIp: opt('client_ip', text),
    geoip: opt('geoip', geoip),
    changes: opt('changes', list),
    set: opt('set', object) ?? {},
    stream: stream as Step['stream'],
    byProvider: opt('by_provider', flag) ?? false,
  };
}

function knownKeys(o: Record<string, unknown>, keys: Readonly<Record<string, string>>, where: string): void {
  for (const k of Object.keys(o)) {
    if (k in keys) continue;
    const near = closest(k, Object.keys(keys));
    const accepted = Object.entries(keys)
      .map(([key, what]) => `  ${key}: ${what}`)
      .join('\n');
    fail(where, `unknown key "${k}"${near ? `; did you mean "${near}"?` : ''} Accepted keys:\n${accepted}`);
  }
}

function scalars(o: Record<string, unknown>, where: string): Record<string, Scalar> {
  for (const [k, v] of Object.entries(o)) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) fail(where, `"${k}" is not a variable name: letters, digits and _`);
    if (!['string', 'number', 'boolean'].includes(typeof v)) {
      fail(`${where}.${k}`, `expected a text, number or boolean (got ${show(v)})`);
    }
  }
  return o as Record<string, Scalar>;
}

const REFERENCE = /\$\{([^}]*)\}/g;
const FIELD_REF = /^(user|admin|system)\[\s*(i|\d+)\s*(?:\+\s*\d+\s*)?\]\s*(?:\.(id|username|email|name|hostname))?$/;

/** Every `${…}` of the step names a variable, `i`, or an identity (and its field). */
function checkReferences(step: Step, vars: Readonly<Record<string, Scalar>>, where: string): void {
  const visit = (v: unknown, path: string): void => {
    if (typeof v === 'string') {
      for (const m of v.matchAll(REFERENCE)) {
        const ref = m[1]!.trim();
        if (ref === 'i' || ref in vars || FIELD_REF.test(ref)) continue;
        const known = ['i', ...Object.keys(vars), 'user[i].username', 'admin[0].email', 'system[i].hostname'];
        fail(`${where}${path}`, `\${${ref}} names nothing: use a variable of vars (${known.join(', ')}, …)`);
      }
    } else if (Array.isArray(v)) v.forEach((x, i) => visit(x, `${path}[${i}]`));
    else if (isObject(v)) for (const [k, x] of Object.entries(v)) visit(x, `${path}.${k}`);
  };
  visit(step.clientIp, '.client_ip');
  visit(step.changes, '.changes');
  visit(step.set, '.set');
  visit(step.geoip, '.geoip');
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function show(v: unknown): string {
  return v === undefined ? 'nothing' : JSON.stringify(v);
}
