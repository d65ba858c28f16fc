// A scenario's events: each step's repeats rendered by the catalog's family renderers with the step's choices
// (actor, target, success, mfa, origin), its `changes` and `set` applied, then stamped with an id and a timestamp
// in the service's spelling. Deterministic: the same scenario, seed, start and org give the same events, ids included.
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { parse, YAMLParseError } from 'yaml';
import { catalogEntry, serviceFormat } from '../catalog.js';
import type { ExplicitEvent } from '../events.js';
import { hash32, hashString, hex, prng } from '../random.js';
import { fillHoles, renderBody, type Body } from '../render.js';
import { eventId, organizationId, providerObjectId, stampExact } from '../stamp.js';
import { admin, homeCountry, homeCountryOf, ipIn, system, user, type Identity } from '../vocab.js';
import { ScenarioError, validateScenario, type IdentityRef, type Scalar, type Scenario, type Step } from './schema.js';

export { ScenarioError, type Scenario } from './schema.js';

export interface ScenarioOptions {
  /** Seed of everything not scripted (default 1). */
  readonly seed?: number;
  /** The scenario's start, epoch ms: step offsets count from it. */
  readonly start: number;
  /** The org whose stream carries the events ('' : the single org of a plain key). */
  readonly orgId?: string;
  /** The provider: of the org (by_provider steps) and whose stream carries `stream: provider` steps. */
  readonly providerId?: string;
}

/** One event of a scenario, as the simulator serves it: ExplicitEvent with the exact text, and where it came from. */
export interface ScenarioEvent extends ExplicitEvent {
  readonly event: string;
  readonly service: string;
  /** The step (0-based) and the repeat (0-based) that made it. */
  readonly step: number;
  readonly repeat: number;
  /** Epoch ms of its timestamp. */
  readonly ms: number;
}

/** Reads and validates a scenario file (YAML or JSON); errors name the file, the step and the fix. */
export function loadScenario(file: string): Scenario {
  let source: string;
  try {
    source = readFileSync(file, 'utf8');
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw new ScenarioError(`${file}: cannot read it (${why})`);
  }
  let doc: unknown;
  try {
    doc = parse(source);
  } catch (err) {
    if (err instanceof YAMLParseError) throw new ScenarioError(`${file}: not valid YAML: ${err.message}`);
    throw err;
  }
  return validateScenario(doc, file, basename(file).replace(/\.(ya?ml|json)$/, ''));
}

/** The exact events of a scenario (a file or a loaded one), in time order. */
export function scenarioEvents(scenario: string | Scenario, opts: ScenarioOptions): ScenarioEvent[] {
  const sc = typeof scenario === 'string' ? loadScenario(scenario) : scenario;
  const seed = opts.seed ?? 1;
  const org = organizationId(opts.orgId ?? '', seed);
  const provider = providerObjectId(opts.providerId ?? opts.orgId ?? '', seed);
  const machine = hex(hash32(seed, hashString(`scenario:${sc.name}`)), 8) + 'c5';
  const out: ScenarioEvent[] = [];
  let counter = 0;
  for (const step of sc.steps) {
    if ((step.stream === 'provider' || step.byProvider) && opts.providerId === undefined) {
      throw new ScenarioError(
        `${sc.name}: steps[${step.index}] is a provider's (${
          step.stream === 'provider' ? 'stream: provider' : 'by_provider'
        }): start the simulator with a provider (--providers ID)`,
      );
    }
    for (let i = 0; i < step.repeat; i++) {
      const r = prng(hash32(seed, hashString(sc.name), step.index, i));
      const ms = opts.start + step.at + i * step.every;
      const body = stepBody(sc, step, i, seed);
      const format = serviceFormat(step.service);
      const t = stampExact(format.time, ms);
      const id = eventId(format.id, t.ms, machine, counter++, r);
      const json = `${JSON.stringify(body).slice(0, -1)},"id":"${id}","timestamp":"${t.timestamp}"}`;
      const text = fillHoles(json, org, provider);
      out.push({
        service: step.service,
        event: text,
        step: step.index,
        repeat: i,
        ms: t.ms,
        ...(step.stream === 'provider' ? { providerId: opts.providerId } : { orgId: opts.orgId ?? '' }),
      });
    }
  }
  return out.sort((a, b) => a.ms - b.ms || a.step - b.step || a.repeat - b.repeat);
}

/** The body of repeat `i` of a step: rendered with its choices, then its changes and set applied. */
function stepBody(sc: Scenario, step: Step, i: number, seed: number): Body {
  const entry = catalogEntry(step.type, step.service)!;
  const actor = step.actor ? identity(step.actor, i) : undefined;
  const { country, clientIp } = whence(sc, step, i, seed, actor);
  const body = renderBody(entry, hash32(seed, hashString(sc.name), step.index, i, 7), {
    stream: step.stream,
    byProvider: step.byProvider,
    ...(actor ? { actor } : {}),
    ...(step.target ? { target: identity(step.target, i) } : {}),
    ...(step.success !== undefined ? { success: step.success } : {}),
    ...(step.mfa !== undefined ? { mfa: step.mfa } : {}),
    ...(clientIp !== undefined ? { clientIp } : {}),
    ...(country ? { country } : {}),
  });
  if (typeof step.geoip === 'object') body.geoip = interpolate(step.geoip, sc.vars, i) as Body;
  if (step.changes) body.changes = interpolate(step.changes, sc.vars, i) as Body[];
  for (const [path, value] of Object.entries(step.set)) setPath(body, path, interpolate(value, sc.vars, i));
  return body;
}

interface Whence {
  readonly country?: string;
  readonly clientIp?: string;
}

/**
 * Where an event comes from: the step's geoip and client_ip; what the step leaves open is the actor's usual place
 * (one address per actor in this scenario, in the person's home country: the one their generated events come
 * from, so that a scenario agrees with the stream it is played into), as a person's events come from one place.
 */
function whence(sc: Scenario, step: Step, i: number, seed: number, actor?: Identity): Whence {
  const given = typeof step.geoip === 'string' ? step.geoip : undefined;
  const ip = step.clientIp === undefined ? undefined : String(interpolate(step.clientIp, sc.vars, i));
  if (!actor || typeof step.geoip === 'object') {
    return { ...(given ? { country: given } : {}), ...(ip ? { clientIp: ip } : {}) };
  }
  const r = prng(hash32(seed, hashString(sc.name), hashString(actor.id), hashString(given ?? '')));
  const country = given ?? (actor.kind === 'system' ? homeCountry(r) : homeCountryOf(actor));
  return { country, clientIp: ip ?? ipIn(r, country) };
}

/** The roster entry an identity reference names for repeat `i`. */
export function identity(ref: IdentityRef, i: number): Identity {
  const k = ref.offset + (ref.perRepeat ? i : 0);
  return ref.kind === 'user' ? user(k) : ref.kind === 'admin' ? admin(k) : system(k);
}

/** `${…}` in every string of a value: variables, `i`, identities and their fields. */
function interpolate(v: unknown, vars: Readonly<Record<string, Scalar>>, i: number): unknown {
  if (typeof v === 'string') {
    const whole = /^\$\{([^}]*)\}$/.exec(v);
    if (whole) return resolve(whole[1]!.trim(), vars, i);
    return v.replace(/\$\{([^}]*)\}/g, (_, ref: string) => String(resolve(ref.trim(), vars, i)));
  }
  if (Array.isArray(v)) return v.map((x) => interpolate(x, vars, i));
  if (typeof v === 'object' && v !== null) {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, interpolate(x, vars, i)]));
  }
  return v;
}

function resolve(ref: string, vars: Readonly<Record<string, Scalar>>, i: number): Scalar {
  if (ref === 'i') return i;
  if (ref in vars) return vars[ref]!;
  const m = /^(.*\])\s*(?:\.(\w+))?$/.exec(ref)!;
  const who = identity(identityRefOf(m[1]!), i) as unknown as Record<string, string>;
  const field = m[2] ?? (who.kind === 'system' ? 'hostname' : who.kind === 'admin' ? 'email' : 'username');
  return who[field] ?? '';
}

function identityRefOf(text: string): IdentityRef {
  const m = /(user|admin|system)\[\s*(i|\d+)\s*(?:\+\s*(\d+)\s*)?\]/.exec(text)!;
  const perRepeat = m[2] === 'i';
  return { kind: m[1] as IdentityRef['kind'], perRepeat, offset: (perRepeat ? 0 : Number(m[2])) + Number(m[3] ?? 0) };
}

/** Sets a dotted path, making the objects on the way (a number indexes an existing list). */
function setPath(body: Body, path: string, value: unknown): void {
  const keys = path.split('.');
  let o: Record<string, unknown> | unknown[] = body;
  for (const k of keys.slice(0, -1)) {
    const cur = (o as Record<string, unknown>)[k];
    const next = typeof cur === 'object' && cur !== null ? cur : {};
    (o as Record<string, unknown>)[k] = next;
    o = next as Record<string, unknown>;
  }
  (o as Record<string, unknown>)[keys[keys.length - 1]!] = value;
}
