// The raw event's fields the mappings read (spec/ecs-mapping.md "Input"): one line each, its path and what
// it needs. Field ids, contexts (the objects keys stand in) and the key table are made here at start-up
// from these lines; the writers (ecs.ts, elastic.ts) read fields by these names.
import { Lit } from './mem';
import { addKey, copyKeys, lookup, KCTX, KNONE } from './keys';

/** Left out of `jumpcloud.event` (elastic profile): mapped elsewhere. On an object: the whole object. */
export const EL_DROP: u8 = 1;
/** Read by jumpcloud_elastic only: jumpcloud_ecs skips the objects whose rows all say so, unvalidated. */
export const ELASTIC: u8 = 2;
/** An object written out as a tree (jumpcloud.association): validated in full. */
export const TREE: u8 = 4;
/** Any type: of an object or array only its kind is kept (changes' from/to). */
export const ANY: u8 = 8;
/** On an array: its elements' values are copied as they are into jumpcloud.event, empty ones too. */
export const KEEP: u8 = 16;
// Context flags computed from the rows.
const ECS_READS: u8 = 32; // some row under it is read by jumpcloud_ecs
const TREE_LOOKS: u8 = 64; // the tree writer must look its keys up (something under it is dropped or kept)
const ROWS: u8 = 128; // array elements whose fields are captured per element (changes[])

export const C_SKIP: u8 = 0; // not tracked (values still validated)
export const C_ROOT: u8 = 1; // the raw event

const MAXC = 64;
/** Room for fields in the capture tables (a start-up check keeps NF within it). */
export const MAX_FIELDS = 64;
const cFlags = new StaticArray<u8>(MAXC);
const cParent = new StaticArray<u8>(MAXC);
const cElem = new StaticArray<u8>(MAXC); // the context of an array's elements (C_SKIP: untracked)
// The elastic profile's version of a context jumpcloud_ecs reads: a twin holding its keys plus the ELASTIC rows
// (resource.type), which then cost jumpcloud_ecs nothing, not even a capture. Itself where there is none.
const cTwin = new StaticArray<u8>(MAXC);
cTwin[C_ROOT] = C_ROOT;
const fFlags = new StaticArray<u8>(MAX_FIELDS);
const fCol = new StaticArray<i8>(MAX_FIELDS); // column of a field of an element of a ROWS array, else -1
let nCtx: i32 = 2;
let nRowCols: i8 = 0;
/** Number of fields declared (at most MAX_FIELDS). */
export let NF: i32 = 0;

function newContext(parent: u8): u8 {
  if (nCtx >= MAXC) throw new Error('schema: more contexts than MAXC');
  const c = <u8>(nCtx++);
  cParent[c] = parent;
  cTwin[c] = c;
  return c;
}

/** The elastic twin of context `c` (not the root), made on first use with a copy of the keys it has so far. */
function twinOf(c: u8): u8 {
  if (cTwin[c] != c) return cTwin[c];
  const t = newContext(cParent[c]);
  cFlags[t] = cFlags[c];
  cElem[t] = cElem[c];
  copyKeys(c, t);
  cTwin[c] = t;
  return t;
}

/** Adds `key` in `c` and in its twin, if it has one. */
function addBoth(c: u8, key: Lit, v: i32): void {
  addKey(c, key, v);
  if (cTwin[c] != c) addKey(cTwin[c], key, v);
}

/** The context `seg` leads to from `parent`, made on first use. A `[]` suffix: the array's elements. */
function context(parent: u8, seg: string): u8 {
  const elems = seg.endsWith('[]');
  const name = new Lit(elems ? seg.slice(0, seg.length - 2) : seg);
  const r = lookup(parent, name.ptr, name.len, name.ptr + name.len);
  let c: u8;
  if (r >= KCTX) c = <u8>(r - KCTX);
  else {
    c = newContext(parent);
    addBoth(parent, name, KCTX + c);
  }
  if (!elems) return c;
  if (cElem[c] == C_SKIP) {
    const e = newContext(c);
    cElem[c] = e;
    cElem[cTwin[c]] = e;
    flag(e, ROWS);
  }
  return cElem[c];
}

/** The context of the object at `path` (dotted, from the raw event), made on first use. */
function contextOf(path: string): u8 {
  let c = C_ROOT;
  if (path.length == 0) return c;
  const segs = path.split('.');
  for (let i = 0; i < segs.length; i++) c = context(c, segs[i]);
  return c;
}

/** Sets `flag` on `c` and its twin. */
function flag(c: u8, f: u8): void {
  cFlags[c] |= f;
  cFlags[cTwin[c]] |= f;
}

/** Marks `c` and its ancestors. */
function mark(c: u8, f: u8): void {
  while (c > C_ROOT) { flag(c, f); c = cParent[c]; }
  cFlags[C_ROOT] |= f;
}

/** Declares the field at `path`; returns its id. */
function field(path: string, flags: u8 = 0): i32 {
  const dot = path.lastIndexOf('.');
  const c = contextOf(dot < 0 ? '' : path.slice(0, dot));
  const f = NF++;
  if (NF > MAX_FIELDS) throw new Error('schema: more fields than MAX_FIELDS');
  fFlags[f] = flags;
  fCol[f] = (cFlags[c] & ROWS) != 0 ? nRowCols++ : -1;
  const key = new Lit(path.slice(dot + 1));
  // An ELASTIC row in an object jumpcloud_ecs reads goes to the object's twin only (so declare it after one of
  // the object's other rows: before them, nothing says jumpcloud_ecs reads the object).
  if ((flags & ELASTIC) == 0) {
    addBoth(c, key, f);
    mark(c, ECS_READS);
  } else if (c != C_ROOT && (cFlags[c] & ECS_READS) != 0) addKey(twinOf(c), key, f);
  else addKey(c, key, f);
  if ((flags & EL_DROP) != 0) mark(c, TREE_LOOKS);
  return f;
}

/** Declares an object (its fields are declared by their paths); returns its context. */
function object(path: string, flags: u8): u8 {
  const c = contextOf(path);
  flag(c, flags);
  if ((flags & (EL_DROP | KEEP)) != 0) mark(cParent[c], TREE_LOOKS);
  return c;
}

/** `key` in the raw event leads where `path` does (a second spelling). */
function alias(key: string, path: string): void {
  addKey(C_ROOT, new Lit(key), KCTX + contextOf(path));
}

// The raw event.
export const ID = field('id', EL_DROP);
export const TS = field('timestamp', EL_DROP);
export const ET = field('event_type', EL_DROP);
export const SVC = field('service', EL_DROP);
export const CIP = field('client_ip', EL_DROP);
export const SUCC = field('success');
export const SSO = field('sso_token_success');
export const ERR = field('error_message');
export const USER = field('username', EL_DROP);
export const PROC = field('process_name', EL_DROP);
export const SRCIP = field('src_ip', EL_DROP);
export const MSG = field('message', EL_DROP);
export const ASSOC = field('association', TREE);
export const VERSION_AT = field('@version', EL_DROP);
export const VERSION = field('version', EL_DROP);
export const IB_ID = field('initiated_by.id', EL_DROP);
export const IB_EMAIL = field('initiated_by.email', EL_DROP);
export const IB_USER = field('initiated_by.username', EL_DROP);
export const RES_ID = field('resource.id');
export const RES_USER = field('resource.username');
export const RES_EMAIL = field('resource.email');
// What the resource is (categories.ts TARGETS) and its other names: user.target.*, group.*, host.* (elastic).
export const RES_TYPE = field('resource.type', ELASTIC);
export const RES_NAME = field('resource.name', ELASTIC);
export const RES_HOST = field('resource.hostname', ELASTIC);
export const RES_DISPLAY = field('resource.displayName', ELASTIC);
export const C_UA = object('useragent', EL_DROP);
export const UA_DEV = field('useragent.device');
export const UA_NAME = field('useragent.name');
export const UA_VER = field('useragent.version');
export const UA_OSN = field('useragent.os_name');
export const UA_OSV = field('useragent.os_version');
export const UA_OSF = field('useragent.os_full');
alias('user_agent', 'useragent');
export const GEO_CC = field('geoip.country_code', ELASTIC);
export const GEO_CONT = field('geoip.continent_code', ELASTIC);
export const GEO_RC = field('geoip.region_code', ELASTIC);
export const GEO_RN = field('geoip.region_name', ELASTIC);
export const GEO_TZ = field('geoip.timezone', ELASTIC);
export const GEO_LAT = field('geoip.latitude', ELASTIC);
export const GEO_LON = field('geoip.longitude', ELASTIC);
export const SYS_ID = field('system.id', EL_DROP);
export const SYS_HOST = field('system.hostname', EL_DROP);
export const APP_NAME = field('application.name');
export const JPD_IP = field('auth_context.jumpcloud_protect_device.ip', ELASTIC);
export const C_CHANGES = object('changes', KEEP);
export const CH_FIELD = field('changes[].field');
export const CH_FROM = field('changes[].from', ANY);
export const CH_TO = field('changes[].to', ANY);

/** The context the elastic profile reads an object of context `c` in: its twin, or `c`. */
@inline export function elasticContext(c: u8): u8 { return unchecked(cTwin[c]); }
/** Does jumpcloud_ecs read anything under context `c`? */
@inline export function ecsReads(c: u8): bool { return (unchecked(cFlags[c]) & ECS_READS) != 0; }
/** The context of the elements of the array in context `c` (C_SKIP: untracked). */
@inline export function elemContext(c: u8): u8 { return unchecked(cElem[c]); }
/** Are the elements of context `c` rows (their fields captured per element)? */
@inline export function isRows(c: u8): bool { return (unchecked(cFlags[c]) & ROWS) != 0; }
@inline export function contextFlags(c: u8): u8 { return unchecked(cFlags[c]); }
@inline export function treeLooks(c: u8): bool { return (unchecked(cFlags[c]) & TREE_LOOKS) != 0; }
@inline export function fieldFlags(f: i32): u8 { return unchecked(fFlags[f]); }
/** The row column of field `f`, or -1 when it is not a field of a row. */
@inline export function fieldColumn(f: i32): i32 { return <i32>unchecked(fCol[f]); }
export { KCTX, KNONE, lookup };
