// An independent reference of both mappings (spec/ecs-mapping.md), written plainly over JSON.parse so it
// can judge the wasm filter: the elastic fixtures are derived from it and the property tests compare with it.
import { isIP } from 'node:net';
import { categoryTable, TARGETS } from '../../support/categories.js';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Obj = { [k: string]: Json };

const AUTH = ['ldap_bind', 'user_login_attempt', 'sso_auth', 'admin_login_attempt', 'login_attempt'];
const IAM = ['user_password_warning_email', 'user_password_reset_request', 'user_activation_email', 'user_unlocked'];
const KEPT = [
  'activated',
  'password_date',
  'state',
  'suspended',
  'enable_user_portal_multifactor',
  'mfa.exclusion',
  'mfa.exclusionUntil',
  'totp_enabled',
];

const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
const bool = (v: unknown): boolean | undefined => (typeof v === 'boolean' ? v : undefined);
const sub = (o: Obj, k: string): Obj => (isObj(o[k]) ? (o[k] as Obj) : {});
/** Elasticsearch `ip` accepts what node accepts, minus zone ids. */
export const validIp = (v: unknown): v is string => typeof v === 'string' && !v.includes('%') && isIP(v) !== 0;

/** Own property even for "__proto__" (JSON.parse makes it one; plain assignment would set the prototype). */
const define = (o: Obj, k: string, v: Json): void => {
  Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
};

/** Removes empty values (null, "", {}, []) recursively; undefined when nothing is left. */
export function prune(v: Json | undefined): Json | undefined {
  if (v === null || v === undefined || v === '') return undefined;
  if (Array.isArray(v)) {
    const a = v.map(prune).filter((x): x is Json => x !== undefined);
    return a.length ? a : undefined;
  }
  if (isObj(v)) {
    const o: Obj = {};
    for (const [k, x] of Object.entries(v)) {
      const p = prune(x);
      if (p !== undefined) define(o, k, p);
    }
    return Object.keys(o).length ? o : undefined;
  }
  return v;
}

function set(o: Obj, path: string, v: Json | undefined): void {
  if (v === undefined) return;
  const parts = path.split('.');
  let cur = o;
  for (const p of parts.slice(0, -1)) cur = (isObj(cur[p]) ? cur[p] : (cur[p] = {})) as Obj;
  cur[parts[parts.length - 1]!] = v;
}

/** RFC 3339 → [epoch seconds, nanoseconds], or undefined. */
export function parseTs(v: unknown): [number, number] | undefined {
  if (typeof v !== 'string') return undefined;
  const m = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/.exec(v);
  if (!m) return undefined;
  const [y, mo, d, h, mi, s] = [1, 2, 3, 4, 5, 6].map((i) => Number(m[i]));
  const dim = new Date(Date.UTC(y!, mo!, 0)).getUTCDate();
  if (mo! < 1 || mo! > 12 || d! < 1 || d! > dim || h! > 23 || mi! > 59 || s! > 59) return undefined;
  let off = 0;
  if (m[9]) {
    const oh = Number(m[10]),
      om = Number(m[11]);
    if (oh > 23 || om > 59) return undefined;
    off = (oh * 3600 + om * 60) * (m[9] === '-' ? -1 : 1);
  }
  const ms = Date.UTC(y!, mo! - 1, d!, h!, mi!, s!);
  const date = new Date(ms);
  date.setUTCFullYear(y!); // years 0-99
  const sec = date.getTime() / 1000 - off;
  if (sec < -62167219200 || sec > 253402300799) return undefined;
  const nanos = Number(((m[7] ?? '') + '000000000').slice(0, 9));
  return [sec, nanos];
}

function isoDate(sec: number): string {
  const d = new Date(sec * 1000);
  const y = String(d.getUTCFullYear()).padStart(4, '0');
  return `${y}${d.toISOString().slice(d.toISOString().indexOf('-'), 19)}`;
}

export function micros(v: unknown): string | undefined {
  const t = parseTs(v);
  if (!t) return undefined;
  const us = Math.floor(t[1] / 1000);
  return `${isoDate(t[0])}${us ? '.' + String(us).padStart(6, '0') : ''}Z`;
}

export function millis(v: unknown): string | undefined {
  const t = parseTs(v);
  if (!t) return undefined;
  return `${isoDate(t[0])}.${String(Math.floor(t[1] / 1e6)).padStart(3, '0')}Z`;
}

/** Sekoia's categories (jumpcloud_ecs): nine types. */
function category(et: string | undefined): string | undefined {
  if (et === undefined) return undefined;
  if (AUTH.includes(et)) return 'authentication';
  if (IAM.includes(et)) return 'iam';
  return undefined;
}

/** The elastic profile's categories: the declaration of filter/categories.ts, every pattern expanded. */
const CATEGORIES = categoryTable();
/** What a resource of each type describes (user.target, group, host). */
const TARGET_OF = new Map(TARGETS.map((t) => [t.type, t.object]));

function userAgent(o: Obj, ev: Obj): void {
  const ua = isObj(ev.useragent) ? (ev.useragent as Obj) : sub(ev, 'user_agent');
  set(o, 'user_agent.device.name', str(ua.device));
  set(o, 'user_agent.name', str(ua.name));
  set(o, 'user_agent.version', str(ua.version));
  set(o, 'user_agent.os.name', str(ua.os_name));
  set(o, 'user_agent.os.version', str(ua.os_version));
  set(o, 'user_agent.os.full', str(ua.os_full));
}

function distinct(...vs: (string | undefined)[]): string[] | undefined {
  const out = [...new Set(vs.filter((v): v is string => v !== undefined))];
  return out.length ? out : undefined;
}

/** jumpcloud_ecs of a raw event; `message` is the text the output's `message` carries. */
export function ecs(ev: Obj, message: string): Obj {
  const o: Obj = { message };
  const et = str(ev.event_type);
  set(o, 'event.action', et);
  set(o, 'jumpcloud.event_type', et);
  const cat = category(et);
  if (cat) {
    set(o, 'event.category', [cat]);
    set(o, 'event.type', ['info']);
  }
  set(o, 'jumpcloud.id', str(ev.id));
  set(o, 'observer.vendor', 'Jumpcloud');
  let ok = bool(ev.success);
  if (et === 'sso_auth' && bool(ev.sso_token_success) !== undefined) ok = bool(ev.sso_token_success);
  if (ok !== undefined) {
    set(o, 'event.outcome', ok ? 'success' : 'failure');
    set(o, 'action.outcome', ok ? 'success' : 'failure');
    if (!ok) set(o, 'action.outcome_reason', str(ev.error_message));
  }
  set(o, '@timestamp', micros(ev.timestamp));
  const ip = str(ev.client_ip);
  set(o, 'client.address', ip);
  if (validIp(ip)) {
    set(o, 'client.ip', ip);
    set(o, 'source.address', ip);
    set(o, 'source.ip', ip);
    set(o, 'related.ip', [ip]);
  }
  set(o, 'user.name', str(ev.username));
  const ib = sub(ev, 'initiated_by');
  set(o, 'source.user.name', str(ib.username));
  set(o, 'source.user.email', str(ib.email));
  set(o, 'source.user.id', str(ib.id));
  const res = sub(ev, 'resource');
  set(o, 'user.target.name', str(res.username));
  set(o, 'user.target.email', str(res.email));
  set(o, 'user.target.id', str(res.id));
  if (et === 'sso_auth') set(o, 'service.name', str(sub(ev, 'application').name));
  userAgent(o, ev);
  const sys = sub(ev, 'system');
  set(o, 'host.id', str(sys.id));
  set(o, 'host.name', str(sys.hostname));
  set(o, 'process.name', str(ev.process_name));
  if (Array.isArray(ev.changes)) {
    const cs: Json[] = [];
    for (const c of ev.changes) {
      if (!isObj(c) || str(c.field) === undefined) continue;
      const out: Obj = { field: c.field as string };
      if (KEPT.includes(c.field as string)) {
        for (const k of ['from', 'to'] as const) {
          const v = c[k];
          if ((typeof v === 'string' && v !== '') || typeof v === 'boolean' || typeof v === 'number') {
            out[k] = (typeof v === 'string' ? v : JSON.stringify(v)).replace(/[A-Z]/g, (x) => x.toLowerCase());
          }
        }
      }
      cs.push(out);
    }
    if (cs.length) set(o, 'jumpcloud.changes', cs);
  }
  set(o, 'jumpcloud.association', isObj(ev.association) ? prune(ev.association) : undefined);
  set(o, 'related.user', distinct(str(ev.username), str(ib.username)));
  return o;
}

const DROPPED = [
  '@version',
  'version',
  'timestamp',
  'client_ip',
  'src_ip',
  'id',
  'message',
  'username',
  'useragent',
  'user_agent',
  'event_type',
  'service',
  'process_name',
];

/** jumpcloud_elastic of a raw event; `original` is event.original. */
export function elastic(ev: Obj, original: string): Obj {
  const o: Obj = {};
  set(o, 'ecs.version', '8.11.0');
  set(o, 'event.original', original);
  set(o, '@timestamp', millis(ev.timestamp));
  set(o, 'event.id', str(ev.id));
  const et = str(ev.event_type);
  set(o, 'event.action', et);
  set(o, 'event.module', str(ev.service));
  const c = et === undefined ? undefined : CATEGORIES.get(et);
  set(o, 'event.kind', c?.kind ?? 'event');
  if (c) {
    set(o, 'event.category', c.category);
    set(o, 'event.type', c.type);
  }
  let outcome = c?.outcome ?? 'unknown';
  if (bool(ev.sso_token_success) !== undefined) outcome = ev.sso_token_success ? 'success' : 'failure';
  if (bool(ev.success) !== undefined) outcome = ev.success ? 'success' : 'failure';
  set(o, 'event.outcome', outcome);
  const cip = validIp(ev.client_ip) ? (ev.client_ip as string) : undefined;
  const sip = validIp(ev.src_ip) ? (ev.src_ip as string) : undefined;
  const jpd = sub(sub(ev, 'auth_context'), 'jumpcloud_protect_device');
  const jip = validIp(jpd.ip) ? (jpd.ip as string) : undefined;
  set(o, 'client.ip', cip);
  const geo = sub(ev, 'geoip');
  set(o, 'client.geo.country_iso_code', str(geo.country_code));
  set(o, 'client.geo.continent_code', str(geo.continent_code));
  if (str(geo.country_code) && str(geo.region_code))
    set(o, 'client.geo.region_iso_code', `${geo.country_code}-${geo.region_code}`);
  set(o, 'client.geo.region_name', str(geo.region_name));
  set(o, 'client.geo.timezone', str(geo.timezone));
  if (typeof geo.latitude === 'number' && typeof geo.longitude === 'number') {
    set(o, 'client.geo.location', { lat: geo.latitude, lon: geo.longitude });
  }
  set(o, 'source.ip', sip);
  const sys = sub(ev, 'system');
  const res = sub(ev, 'resource');
  const target = TARGET_OF.get(str(res.type) ?? '');
  if (target === 'host' && str(sys.id) === undefined && str(sys.hostname) === undefined) {
    set(o, 'host.id', str(res.id));
    set(o, 'host.hostname', str(res.hostname));
    set(o, 'host.name', str(res.displayName) ?? str(res.name));
  } else {
    set(o, 'host.id', str(sys.id));
    set(o, 'host.hostname', str(sys.hostname));
  }
  if (target === 'group') {
    set(o, 'group.id', str(res.id));
    set(o, 'group.name', str(res.name));
  }
  const targetName = target === 'user.target' ? (str(res.username) ?? str(res.name)) : undefined;
  if (target === 'user.target') {
    set(o, 'user.target.id', str(res.id));
    set(o, 'user.target.email', str(res.email));
    set(o, 'user.target.name', targetName);
  }
  const ib = sub(ev, 'initiated_by');
  set(o, 'source.user.id', str(ib.id));
  set(o, 'source.user.email', str(ib.email));
  set(o, 'source.user.name', str(ib.username));
  set(o, 'user.name', str(ev.username));
  userAgent(o, ev);
  set(o, 'process.name', str(ev.process_name));
  set(o, 'message', str(ev.message));
  set(o, 'related.ip', distinct(cip, sip, jip));
  set(o, 'related.user', distinct(str(ib.username), str(ev.username), targetName));
  const tree: Obj = {};
  for (const [k, v] of Object.entries(ev)) {
    if (DROPPED.includes(k)) continue;
    if (k === 'changes') {
      if (prune(v) !== undefined) define(tree, k, v);
      continue;
    }
    let x = v;
    if (k === 'initiated_by' && isObj(v))
      x = Object.fromEntries(Object.entries(v).filter(([kk]) => !['id', 'email', 'username'].includes(kk)));
    if (k === 'system' && isObj(v))
      x = Object.fromEntries(Object.entries(v).filter(([kk]) => !['id', 'hostname'].includes(kk)));
    const p = prune(x);
    if (p !== undefined) define(tree, k, p);
  }
  if (Object.keys(tree).length) set(o, 'jumpcloud.event', tree);
  return o;
}

/** Input rules: where the raw event is, and the text that stands for it. */
export function locate(record: Obj, recordText: string): { event: Obj; text: string; form: 1 | 2 } | undefined {
  if (typeof record.message === 'string') {
    try {
      const v: unknown = JSON.parse(record.message);
      if (isObj(v)) return { event: v, text: record.message, form: 1 };
    } catch {
      /* not JSON: try form 2 */
    }
  }
  if ('event_type' in record || 'service' in record) return { event: record, text: recordText, form: 2 };
  return undefined;
}

/** The whole expected output for a record, or undefined when it is not a DI event. */
export function expected(profile: 'ecs' | 'elastic', recordText: string): Obj | undefined {
  const record = JSON.parse(recordText) as Obj;
  const found = locate(record, recordText);
  if (!found) return undefined;
  const mapped = profile === 'ecs' ? ecs(found.event, found.text) : elastic(found.event, found.text);
  if (found.form === 1) {
    for (const [k, v] of Object.entries(record)) {
      if (k === 'message') continue;
      if (!Object.prototype.hasOwnProperty.call(mapped, k)) define(mapped, k, v as Json);
    }
  }
  return mapped;
}
