// Which keys the filter cares about, by context: an open-addressed table keyed by (context, key bytes),
// so a key costs one hash and usually one compare.
import { Lit, same } from './mem';

// Contexts: where a key stands.
export const C_SKIP: u8 = 0; // not tracked (values still validated)
export const C_ROOT: u8 = 1; // the raw event
export const C_IB: u8 = 2; // initiated_by
export const C_RES: u8 = 3; // resource
export const C_UA: u8 = 4; // useragent / user_agent
export const C_GEO: u8 = 5; // geoip
export const C_SYS: u8 = 6; // system
export const C_APP: u8 = 7; // application
export const C_AUTH: u8 = 8; // auth_context
export const C_JPD: u8 = 9; // auth_context.jumpcloud_protect_device
export const C_CHANGES: u8 = 10; // changes[]
export const C_CHANGE: u8 = 11; // changes[i]
// Contexts of the tree writer (jumpcloud.event in the elastic profile).
export const T_ROOT: u8 = 20;
export const T_IB: u8 = 21;
export const T_SYS: u8 = 22;
export const T_KEEP: u8 = 23; // copied as is (changes)
export const T_OTHER: u8 = 24;
export const T_KEEPIN: u8 = 25; // dropped when empty itself, its contents copied as is (changes)

// Captured scalar fields of a raw event (index into the capture table).
export const F_ID: i32 = 0;
export const F_TS: i32 = 1;
export const F_ET: i32 = 2;
export const F_SVC: i32 = 3;
export const F_CIP: i32 = 4;
export const F_SUCC: i32 = 5;
export const F_SSO: i32 = 6;
export const F_ERR: i32 = 7;
export const F_USER: i32 = 8;
export const F_IB_ID: i32 = 9;
export const F_IB_EMAIL: i32 = 10;
export const F_IB_USER: i32 = 11;
export const F_RES_ID: i32 = 12;
export const F_RES_USER: i32 = 13;
export const F_RES_EMAIL: i32 = 14;
export const F_UA_DEV: i32 = 15;
export const F_UA_NAME: i32 = 16;
export const F_UA_VER: i32 = 17;
export const F_UA_OSN: i32 = 18;
export const F_UA_OSV: i32 = 19;
export const F_UA_OSF: i32 = 20;
export const F_GEO_CC: i32 = 21;
export const F_GEO_CONT: i32 = 22;
export const F_GEO_RC: i32 = 23;
export const F_GEO_RN: i32 = 24;
export const F_GEO_TZ: i32 = 25;
export const F_GEO_LAT: i32 = 26;
export const F_GEO_LON: i32 = 27;
export const F_SYS_ID: i32 = 28;
export const F_SYS_HOST: i32 = 29;
export const F_APP_NAME: i32 = 30;
export const F_JPD_IP: i32 = 31;
export const F_PROC: i32 = 32;
export const F_SRCIP: i32 = 33;
export const F_MSG: i32 = 34;
export const F_ASSOC: i32 = 35;
export const F_CHANGES: i32 = 36;
export const F_CH_FIELD: i32 = 37;
export const F_CH_FROM: i32 = 38;
export const F_CH_TO: i32 = 39;
export const NF: i32 = 40;

// What a key leads to: a field (0..NF-1), a context (KCTX + ctx), or an exclusion in the tree writer.
export const KCTX: i32 = 100;
export const KDROP: i32 = 200;
export const KNONE: i32 = -1;

// Keys are compared as words: the first eight bytes (zero-padded) and, up to 16 bytes, the last eight;
// a byte compare is left only for longer keys. The interpreter pays per operation, not per byte.
const SIZE: u32 = 512;
const tCtx = new StaticArray<u8>(SIZE);
const tLen = new StaticArray<u32>(SIZE); // 0: empty slot
const tW0 = new StaticArray<u64>(SIZE);
const tW1 = new StaticArray<u64>(SIZE);
const tLit = new StaticArray<Lit | null>(SIZE);
const tVal = new StaticArray<i32>(SIZE);

/** The first eight bytes of [s, s+n), zero-padded; reads past the key only inside [s, end). */
@inline function word0(s: usize, n: usize, end: usize): u64 {
  if (n >= 8) return load<u64>(s);
  if (s + 8 <= end) return load<u64>(s) & ((<u64>1 << (<u64>n << 3)) - 1);
  let w: u64 = 0;
  for (let i: usize = 0; i < n; i++) w |= <u64>load<u8>(s + i) << (<u64>i << 3);
  return w;
}

@inline function hash(ctx: u8, n: usize, w0: u64): u32 {
  return (<u32>((w0 * 0x9e3779b97f4a7c15) >> 40) ^ (<u32>ctx * 0x9e37 + <u32>n * 0x2d)) & (SIZE - 1);
}

function add(ctx: u8, k: string, v: i32): void {
  const l = new Lit(k);
  const w0 = word0(l.ptr, l.len, l.ptr + l.len);
  let h = hash(ctx, l.len, w0);
  while (tLen[h] != 0) h = (h + 1) & (SIZE - 1);
  tCtx[h] = ctx;
  tLen[h] = <u32>l.len;
  tW0[h] = w0;
  tW1[h] = l.len > 8 ? load<u64>(l.ptr + l.len - 8) : 0;
  tLit[h] = l;
  tVal[h] = v;
}

/** What `key` (the bytes [s, s+n), inside a text ending at `end`) means in `ctx`, or KNONE. */
@inline export function lookup(ctx: u8, s: usize, n: usize, end: usize): i32 {
  if (n == 0) return KNONE;
  const w0 = word0(s, n, end);
  let h = hash(ctx, n, w0);
  while (true) {
    const len = unchecked(tLen[h]);
    if (len == 0) return KNONE;
    if (<usize>len == n && unchecked(tW0[h]) == w0 && unchecked(tCtx[h]) == ctx) {
      if (n <= 8) return unchecked(tVal[h]);
      if (load<u64>(s + n - 8) == unchecked(tW1[h]) && (n <= 16 || same(unchecked(tLit[h])!.ptr, s, n))) return unchecked(tVal[h]);
    }
    h = (h + 1) & (SIZE - 1);
  }
}

add(C_ROOT, 'id', F_ID);
add(C_ROOT, 'timestamp', F_TS);
add(C_ROOT, 'event_type', F_ET);
add(C_ROOT, 'service', F_SVC);
add(C_ROOT, 'client_ip', F_CIP);
add(C_ROOT, 'success', F_SUCC);
add(C_ROOT, 'sso_token_success', F_SSO);
add(C_ROOT, 'error_message', F_ERR);
add(C_ROOT, 'username', F_USER);
add(C_ROOT, 'process_name', F_PROC);
add(C_ROOT, 'src_ip', F_SRCIP);
add(C_ROOT, 'message', F_MSG);
add(C_ROOT, 'association', F_ASSOC);
add(C_ROOT, 'changes', KCTX + C_CHANGES);
add(C_ROOT, 'initiated_by', KCTX + C_IB);
add(C_ROOT, 'resource', KCTX + C_RES);
add(C_ROOT, 'useragent', KCTX + C_UA);
add(C_ROOT, 'user_agent', KCTX + C_UA);
add(C_ROOT, 'geoip', KCTX + C_GEO);
add(C_ROOT, 'system', KCTX + C_SYS);
add(C_ROOT, 'application', KCTX + C_APP);
add(C_ROOT, 'auth_context', KCTX + C_AUTH);
add(C_IB, 'id', F_IB_ID);
add(C_IB, 'email', F_IB_EMAIL);
add(C_IB, 'username', F_IB_USER);
add(C_RES, 'id', F_RES_ID);
add(C_RES, 'username', F_RES_USER);
add(C_RES, 'email', F_RES_EMAIL);
add(C_UA, 'device', F_UA_DEV);
add(C_UA, 'name', F_UA_NAME);
add(C_UA, 'version', F_UA_VER);
add(C_UA, 'os_name', F_UA_OSN);
add(C_UA, 'os_version', F_UA_OSV);
add(C_UA, 'os_full', F_UA_OSF);
add(C_GEO, 'country_code', F_GEO_CC);
add(C_GEO, 'continent_code', F_GEO_CONT);
add(C_GEO, 'region_code', F_GEO_RC);
add(C_GEO, 'region_name', F_GEO_RN);
add(C_GEO, 'timezone', F_GEO_TZ);
add(C_GEO, 'latitude', F_GEO_LAT);
add(C_GEO, 'longitude', F_GEO_LON);
add(C_SYS, 'id', F_SYS_ID);
add(C_SYS, 'hostname', F_SYS_HOST);
add(C_APP, 'name', F_APP_NAME);
add(C_AUTH, 'jumpcloud_protect_device', KCTX + C_JPD);
add(C_JPD, 'ip', F_JPD_IP);
add(C_CHANGE, 'field', F_CH_FIELD);
add(C_CHANGE, 'from', F_CH_FROM);
add(C_CHANGE, 'to', F_CH_TO);

// jumpcloud.event (elastic profile): the raw tree minus what is mapped elsewhere.
const dropped = ['@version', 'version', 'timestamp', 'client_ip', 'src_ip', 'id', 'message', 'username',
  'useragent', 'user_agent', 'event_type', 'service', 'process_name'];
for (let i = 0; i < dropped.length; i++) add(T_ROOT, dropped[i], KDROP);
add(T_ROOT, 'initiated_by', KCTX + T_IB);
add(T_ROOT, 'system', KCTX + T_SYS);
add(T_ROOT, 'changes', KCTX + T_KEEPIN);
add(T_IB, 'id', KDROP);
add(T_IB, 'email', KDROP);
add(T_IB, 'username', KDROP);
add(T_SYS, 'id', KDROP);
add(T_SYS, 'hostname', KDROP);
