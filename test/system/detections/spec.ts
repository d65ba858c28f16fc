// The regression cases of the detections, as detections/regression.yml declares them: the background traffic,
// the scenarios, what each rule must raise on each, and each rule's positive and negative cases. Read by the
// regression-data generator and by the tests; a file that breaks a rule of its format is refused with the fix.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { parseDuration, parseInstant } from '../../../input/duration.js';
import { REPO } from '../e2e/pipeline-harness.js';

export const SPEC_PATH = join(REPO, 'detections/regression.yml');

/** The documents a rule is evaluated on: the raw DI event, or one of the filter's two profiles. */
export const PROFILES = ['raw', 'jumpcloud_ecs', 'jumpcloud_elastic'] as const;
export type Profile = (typeof PROFILES)[number];
export const MAPPED_PROFILES = ['jumpcloud_ecs', 'jumpcloud_elastic'] as const;
export type MappedProfile = (typeof MAPPED_PROFILES)[number];

/** The case name of the background alone. */
export const BACKGROUND = 'background';

export interface BackgroundSpec {
  readonly startMs: number;
  readonly durationMs: number;
  /** Generated events per minute per service, before thinning. */
  readonly rate: number;
  /** Share of each service's events kept; services not listed keep `keepOther`. */
  readonly keep: Readonly<Record<string, number>>;
  readonly keepOther: number;
}

export interface RuleCases {
  readonly positive: readonly string[];
  readonly negative: readonly string[];
}

export interface Spec {
  readonly seed: number;
  readonly provider: string;
  readonly background: BackgroundSpec;
  readonly scenariosStartMs: number;
  /** Case (BACKGROUND or a scenario file, relative to the repository) → rule name → alerts. */
  readonly expected: ReadonlyMap<string, Readonly<Record<string, number>>>;
  /** Scenario → rule name → alerts it raises mixed into the background beyond its own and the background's. */
  readonly mixed: ReadonlyMap<string, Readonly<Record<string, number>>>;
  /** Rule name (its file name without .yml) → its positive and negative scenarios. */
  readonly rules: ReadonlyMap<string, RuleCases>;
}

type Obj = Record<string, unknown>;

function fail(where: string, what: string): never {
  throw new Error(`${SPEC_PATH}: ${where}: ${what}`);
}

function obj(v: unknown, where: string): Obj {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) fail(where, 'expected a mapping');
  return v as Obj;
}

function num(v: unknown, where: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) fail(where, `expected a number >= 0 (got ${String(v)})`);
  return v;
}

function text(v: unknown, where: string): string {
  if (typeof v !== 'string' || v === '') fail(where, `expected a non-empty string (got ${String(v)})`);
  return v;
}

function instant(v: unknown, where: string): number {
  // YAML reads an unquoted RFC 3339 time as a string with this parser's default schema.
  return parseInstant(text(v, where));
}

function counts(v: unknown, where: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [rule, n] of Object.entries(obj(v ?? {}, where))) {
    out[rule] = num(n, `${where}.${rule}`);
    if (!Number.isInteger(out[rule]) || out[rule] === 0) {
      fail(`${where}.${rule}`, 'list a rule with a whole number > 0, or leave it out');
    }
  }
  return out;
}

function list(v: unknown, where: string): string[] {
  if (!Array.isArray(v)) fail(where, 'expected a list of scenario files');
  return v.map((x, i) => text(x, `${where}[${i}]`));
}

function background(v: unknown): BackgroundSpec {
  const b = obj(v, 'background');
  const keep = Object.fromEntries(
    Object.entries(obj(b.keep ?? {}, 'background.keep')).map(([s, k]) => [s, num(k, `background.keep.${s}`)]),
  );
  return {
    startMs: instant(b.start, 'background.start'),
    durationMs: parseDuration(text(b.duration, 'background.duration')),
    rate: num(b.rate, 'background.rate'),
    keep,
    keepOther: num(b.keep_other, 'background.keep_other'),
  };
}

/** Reads and checks detections/regression.yml. */
export function loadSpec(path = SPEC_PATH): Spec {
  const doc = obj(parse(readFileSync(path, 'utf8')), 'the file');
  const expected = new Map<string, Record<string, number>>();
  for (const [name, c] of Object.entries(obj(doc.expected, 'expected'))) {
    expected.set(name, counts(c, `expected.${name}`));
  }
  if (!expected.has(BACKGROUND)) fail('expected', `list the background's alerts under "${BACKGROUND}" ({} for none)`);
  const mixed = new Map<string, Record<string, number>>();
  for (const [name, c] of Object.entries(obj(doc.mixed ?? {}, 'mixed'))) {
    if (!expected.has(name) || name === BACKGROUND) fail(`mixed.${name}`, 'not a scenario listed under expected');
    mixed.set(name, counts(c, `mixed.${name}`));
  }
  const rules = new Map<string, RuleCases>();
  for (const [rule, r] of Object.entries(obj(doc.rules, 'rules'))) {
    const cases = obj(r, `rules.${rule}`);
    rules.set(rule, {
      positive: list(cases.positive, `rules.${rule}.positive`),
      negative: list(cases.negative, `rules.${rule}.negative`),
    });
  }
  return {
    seed: num(doc.seed, 'seed'),
    provider: text(doc.provider, 'provider'),
    background: background(doc.background),
    scenariosStartMs: instant(doc.scenarios_start, 'scenarios_start'),
    expected,
    mixed,
    rules,
  };
}

/** The scenario files of the spec (every case but the background), sorted. */
export function scenarioFiles(spec: Spec): string[] {
  return [...spec.expected.keys()].filter((c) => c !== BACKGROUND).sort();
}

/** The name a case's data files carry: the scenario file's name without its extension, or "background". */
export function caseName(c: string): string {
  return c === BACKGROUND ? BACKGROUND : c.replace(/^.*\//, '').replace(/\.(ya?ml|json)$/, '');
}
