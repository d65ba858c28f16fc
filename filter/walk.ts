// One validating pass over a JSON object that captures the spans of the fields the mappings need.
// Iterative (an explicit stack in linear memory): WAMR's native stack is 8 KiB and records may nest
// 10,000 levels deep.
import { Area } from './mem';
import { fastEvent } from './fast';
import { S, ws, atQuote, str, num, literal, fail, unexpected, skipLean, E_END, E_CHAR } from './scan';
import {
  lookup, KCTX, KNONE, MAX_FIELDS, C_SKIP, C_ROOT, MSG, TREE, ANY, fieldFlags, fieldColumn, ecsReads, elasticContext, elemContext, isRows,
} from './schema';
import { LBRACE, RBRACE, LBRACKET, RBRACKET, QUOTE, COMMA, COLON, MINUS, ZERO, NINE } from './chars';

// Capture tables are MAX_FIELDS wide (a constant, so that indexing folds); the schema numbers NF <= MAX_FIELDS fields.
const NF = MAX_FIELDS;

export const K_NONE: u8 = 0;
export const K_STR: u8 = 1;
export const K_NUM: u8 = 2;
export const K_TRUE: u8 = 3;
export const K_FALSE: u8 = 4;
export const K_NULL: u8 = 5;
export const K_OBJ: u8 = 6;
export const K_ARR: u8 = 7;

/** Capture flags. */
export const X_DECODE: u8 = 1; // escaped-domain string holding `\\`: decode when copying
export const X_EMPTY: u8 = 2; // object or array without members

// Two capture tables: 0 = the event inside `message`, 1 = the record itself (form 2). A capture is 12 bytes,
// {start: u32, end: u32, kind: u8, flags: u8}, in static memory: its address folds to a constant plus an index.
export const CAP: usize = 12;
const caps = memory.data(2 * NF * <i32>CAP, 16);

// changes[]: per table a list of rows {field, from, to} × {start, end, kind|flags<<8}.
const ROW: usize = 36;
const rows0 = new Area(64 * ROW);
const rows1 = new Area(64 * ROW);
let rowCount0: i32 = 0;
let rowCount1: i32 = 0;

// Record members (form 1 pass-through): {member start, member end, key start, key end}.
const members = new Area(64 * 16);
let memberCount: i32 = 0;

// The `message` probe's outcome.
export let msgOk: bool = false;
export let msgS: usize = 0; // content span of the record's `message` string (escaped text)
export let msgE: usize = 0;
export let msgErr: i32 = 0;
export let msgErrAt: usize = 0;
export let msgIsObject: bool = false; // message started with `{`
export let msgObjStart: usize = 0; // where the embedded object starts

// Walker stack: 8 bytes an entry: kind, ctx, field+1, (unused), start.
const stack = new Area(256 * 8);
let sp: i32 = 0;
/** Stack level of an open `association` (written out as a tree: validated in full), or -1. */
let strictFrom: i32 = -1;

/** The address of table `t`'s capture of field `f`. */
@inline export function capAt(t: i32, f: i32): usize { return caps + <usize>(t * NF + f) * CAP; }
@inline export function capKind(t: i32, f: i32): u8 { return load<u8>(capAt(t, f), 8); }
@inline export function capStart(t: i32, f: i32): usize { return <usize>load<u32>(capAt(t, f)); }
@inline export function capFlags(t: i32, f: i32): u8 { return load<u8>(capAt(t, f), 9); }

export function rowCount(t: i32): i32 { return t == 0 ? rowCount0 : rowCount1; }
/** Address of column `col` (schema.fieldColumn: field, from, to) of change row `i`: {start, end, kind | flags << 8}. */
export function rowAt(t: i32, i: i32, col: i32): usize {
  return (t == 0 ? rows0.ptr : rows1.ptr) + <usize>i * ROW + <usize>col * 12;
}
export function memberCountGet(): i32 { return memberCount; }
export function memberAt(i: i32): usize { return members.ptr + <usize>i * 16; }

export function resetCaptures(t: i32): void {
  // A native fill: a loop of NF stores is a noticeable share of a small record's cost in the interpreter.
  memory.fill(capAt(t, 0), K_NONE, <usize>NF * CAP);
  if (t == 0) rowCount0 = 0; else rowCount1 = 0;
}

export function resetRecord(): void {
  memberCount = 0;
  msgOk = false;
  msgIsObject = false;
  msgErr = 0;
  msgS = 0;
  msgE = 0;
}

@inline export function capture(t: i32, f: i32, k: u8, s: usize, e: usize, x: u8): void {
  if (f == KNONE) return;
  const col = fieldColumn(f);
  if (col >= 0) {
    const n = t == 0 ? rowCount0 : rowCount1;
    if (n == 0) return;
    const p = rowAt(t, n - 1, col);
    store<u32>(p, <u32>s);
    store<u32>(p, <u32>e, 4);
    store<u32>(p, <u32>k | (<u32>x << 8), 8);
    return;
  }
  const p = capAt(t, f);
  store<u32>(p, <u32>s);
  store<u32>(p, <u32>e, 4);
  store<u32>(p, <u32>k | (<u32>x << 8), 8);
}

export function newRow(t: i32): void {
  const a = t == 0 ? rows0 : rows1;
  const n = t == 0 ? rowCount0 : rowCount1;
  a.ensure(<usize>(n + 1) * ROW);
  const p = a.ptr + <usize>n * ROW;
  store<u32>(p, 0, 8);
  store<u32>(p, 0, 20);
  store<u32>(p, 0, 32);
  if (t == 0) rowCount0 = n + 1; else rowCount1 = n + 1;
}

@inline function push(kind: u8, ctx: u8, field: i32, start: usize): void {
  stack.ensure(<usize>(sp + 1) * 8);
  const p = stack.ptr + <usize>sp * 8;
  store<u8>(p, kind);
  store<u8>(p, ctx, 1);
  store<u8>(p, <u8>(field + 1), 2);
  store<u32>(p, <u32>start, 4);
  sp++;
}

const V_VALUE = 0;
const V_AFTER = 1;
const V_KEY = 2;

/**
 * Walks the object at S.pos into capture table `t`. `isRecord`: this is the record itself, so its root
 * members are listed and a root `message` string is probed for an embedded event (walked into table 0).
 * `rootCtx` C_SKIP (with S.lean off) validates an object, or an array, in full and captures nothing.
 */
export function walk(t: i32, isRecord: bool, rootCtx: u8 = C_ROOT): bool {
  const base = sp;
  strictFrom = -1;
  let ctx: u8 = C_ROOT;
  let field: i32 = KNONE;
  let state = V_VALUE;
  let memberStart: usize = 0;
  let keyS: usize = 0;
  let keyE: usize = 0;
  ws();
  if (S.pos >= S.end) { sp = base; return fail(E_END); }
  // An array only as an untracked value the fast path validates (rootCtx C_SKIP).
  const root = load<u8>(S.pos);
  if (root != LBRACE && (root != LBRACKET || rootCtx != C_SKIP)) { sp = base; return unexpected(); }
  while (true) {
    if (state == V_VALUE) {
      ws();
      if (S.pos >= S.end) { sp = base; return fail(E_END); }
      const c = load<u8>(S.pos);
      if (c == LBRACE || c == LBRACKET) {
        const ff = field == KNONE ? 0 : fieldFlags(field);
        // Subtrees the profile never writes out need only their end found (changes' from/to: only their kind).
        if (S.lean && t == 0 && strictFrom < 0 && ctx == C_SKIP && (field == KNONE || (ff & ANY) != 0)) {
          const start = S.pos;
          if (!skipLean()) { sp = base; return false; }
          capture(t, field, c == LBRACE ? K_OBJ : K_ARR, start, S.pos, 0);
          state = V_AFTER;
          continue;
        }
        if ((ff & TREE) != 0) strictFrom = sp;
        push(c == LBRACE ? K_OBJ : K_ARR, ctx, field, S.pos);
        if (c == LBRACE && isRows(ctx)) newRow(t);
        S.pos++;
        ws();
        if (S.pos < S.end && load<u8>(S.pos) == (c == LBRACE ? RBRACE : RBRACKET)) {
          S.pos++;
          sp--;
          if (sp == strictFrom) strictFrom = -1;
          capture(t, field, c == LBRACE ? K_OBJ : K_ARR, S.pos - 1, S.pos, X_EMPTY);
          state = V_AFTER;
          continue;
        }
        if (c == LBRACE) { state = V_KEY; continue; }
        ctx = elemContext(ctx);
        field = KNONE;
        continue;
      }
      if (atQuote()) {
        if (isRecord && field == MSG && sp == base + 1) {
          if (!probeMessage()) { sp = base; return false; }
        } else {
          if (!str()) { sp = base; return false; }
          capture(t, field, K_STR, S.ss, S.se, S.sDecode ? X_DECODE : 0);
        }
        state = V_AFTER;
        continue;
      }
      const start = S.pos;
      if (c == MINUS || (c >= ZERO && c <= NINE)) {
        if (!num()) { sp = base; return false; }
        capture(t, field, K_NUM, start, S.pos, 0);
      } else {
        const l = literal();
        if (l == 0) { sp = base; return false; }
        capture(t, field, l == 0x74 ? K_TRUE : l == 0x66 ? K_FALSE : K_NULL, start, S.pos, 0);
      }
      state = V_AFTER;
      continue;
    }
    if (state == V_AFTER) {
      if (sp == base) return true;
      if (isRecord && sp == base + 1 && memberStart != 0) {
        members.ensure(<usize>(memberCount + 1) * 16);
        const m = members.ptr + <usize>memberCount * 16;
        store<u32>(m, <u32>memberStart);
        store<u32>(m, <u32>S.pos, 4);
        store<u32>(m, <u32>keyS, 8);
        store<u32>(m, <u32>keyE, 12);
        memberCount++;
        memberStart = 0;
      }
      ws();
      if (S.pos >= S.end) { sp = base; return fail(E_END); }
      const c = load<u8>(S.pos);
      const top = stack.ptr + <usize>(sp - 1) * 8;
      const kind = load<u8>(top);
      if (c == COMMA) {
        S.pos++;
        if (kind == K_OBJ) { state = V_KEY; continue; }
        ctx = elemContext(load<u8>(top, 1));
        field = KNONE;
        state = V_VALUE;
        continue;
      }
      if (c == (kind == K_OBJ ? RBRACE : RBRACKET)) {
        S.pos++;
        sp--;
        if (sp == strictFrom) strictFrom = -1;
        capture(t, <i32>load<u8>(top, 2) - 1, kind, <usize>load<u32>(top, 4), S.pos, 0);
        continue;
      }
      sp = base;
      return unexpected();
    }
    // V_KEY
    ws();
    if (!atQuote()) { sp = base; return unexpected(); }
    const ks = S.pos;
    if (!str()) { sp = base; return false; }
    const decode = S.sDecode;
    const kS = S.ss, kE = S.se;
    ws();
    if (S.pos >= S.end) { sp = base; return fail(E_END); }
    if (load<u8>(S.pos) != COLON) { sp = base; return unexpected(); }
    S.pos++;
    const top = stack.ptr + <usize>(sp - 1) * 8;
    const pctx = load<u8>(top, 1);
    // The object's own context came from its key; its members are looked up in it.
    const octx = sp == base + 1 ? rootCtx : pctx;
    if (isRecord && sp == base + 1) { memberStart = ks; keyS = kS; keyE = kE; }
    const r = octx == C_SKIP || decode ? KNONE : lookup(octx, kS, kE - kS, S.end);
    if (r >= KCTX) {
      ctx = <u8>(r - KCTX);
      field = KNONE;
      // Objects only the elastic profile reads (geoip, auth_context) are skipped by the lean one; the elastic
      // profile reads each object in its twin, with its elastic-only rows (schema.ts).
      if (S.lean) { if (!ecsReads(ctx)) ctx = C_SKIP; } else ctx = elasticContext(ctx);
    }
    else { ctx = C_SKIP; field = r; }
    state = V_VALUE;
  }
}

/**
 * The record's root `message` is a string: try to read it as an embedded JSON object in place (escaped
 * domain, table 0). Whatever the outcome, the string's extent is found and captured in table 1.
 */
function probeMessage(): bool {
  const q = S.pos;
  S.esc = true;
  S.pos = q + 1;
  const savedErr = S.err;
  const savedBase = S.base;
  S.base = q + 1;
  ws();
  msgIsObject = S.pos < S.end && load<u8>(S.pos) == LBRACE;
  msgObjStart = S.pos;
  resetCaptures(0);
  let ok = false;
  if (msgIsObject) {
    // The fast path for the usual shape first; when it gives up, the general walker reads again.
    const start = S.pos;
    ok = fastEvent();
    if (!ok) {
      resetCaptures(0);
      S.pos = start;
      ok = walk(0, false);
    }
  }
  if (ok) {
    ws();
    if (S.pos < S.end && load<u8>(S.pos) == QUOTE) {
      msgS = q + 1;
      msgE = S.pos;
      S.pos++;
    } else {
      ok = fail(S.pos >= S.end ? E_END : E_CHAR);
    }
  }
  msgOk = ok;
  if (!ok) {
    msgErr = S.err;
    msgErrAt = S.errAt;
  }
  S.err = savedErr;
  S.base = savedBase;
  S.esc = false;
  if (!ok) {
    S.pos = q;
    if (!str()) return false;
    msgS = S.ss;
    msgE = S.se;
  }
  capture(1, MSG, K_STR, msgS, msgE, 0);
  return true;
}
