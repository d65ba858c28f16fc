// event.kind, event.category and event.type from the event's type (jumpcloud_elastic): the declaration of
// categories.ts made, at start-up, into an open-addressed hash of the expanded types and one ready-made text
// per row, so that a record costs one hash of its type, one compare and one copy.
import { ROWS, TARGETS } from './categories';
import { Area, Lit, same, spanIs } from './mem';
import { membersText } from './out';

const SIZE: u32 = 1024; // more than twice the declared types (a start-up check keeps it so)
const tLen = new StaticArray<u32>(SIZE); // 0: empty slot
const tPtr = new StaticArray<usize>(SIZE);
const tRow = new StaticArray<i32>(SIZE);

/** Per row: `,"kind":"…","category":[…],"type":[…]` (written from its second byte when it comes first). */
const mPtr = new StaticArray<usize>(ROWS.length);
const mLen = new StaticArray<usize>(ROWS.length);
/** Per row: 0, or the outcome the type itself says (1 success, 2 failure). */
const outcomes = new StaticArray<u8>(ROWS.length);
/** Written for a type not declared: no guessed category. */
const UNKNOWN = new Lit(',"kind":"event"');

const K1: u64 = 0x9e3779b97f4a7c15;
const K2: u64 = 0xff51afd7ed558ccd;

/** Hash of the bytes [s, s+n), read eight at a time (the last word may overlap the one before). */
@inline function hashOf(s: usize, n: usize): u32 {
  let h: u64 = <u64>n * K1;
  const e = s + n;
  if (n < 8) {
    let w: u64 = 0;
    for (let i: usize = 0; i < n; i++) w |= <u64>load<u8>(s + i) << (<u64>i << 3);
    h = (h ^ w) * K2;
  } else {
    let p = s;
    while (p + 8 <= e) { h = (h ^ load<u64>(p)) * K2; p += 8; }
    if (p < e) h = (h ^ load<u64>(e - 8)) * K2;
  }
  return <u32>(h >> 40) & (SIZE - 1);
}

/** The row declaring the type [s, s+n), or -1. */
export function rowOf(s: usize, n: usize): i32 {
  let h = hashOf(s, n);
  while (true) {
    const len = unchecked(tLen[h]);
    if (len == 0) return -1;
    if (<usize>len == n && same(unchecked(tPtr[h]), s, n)) return unchecked(tRow[h]);
    h = (h + 1) & (SIZE - 1);
  }
  return -1; // not reached
}

// Start-up builds texts byte by byte in a scratch area and keeps one block per text: the minimal runtime
// never collects, so strings made and dropped here would stay in linear memory for good.
const scratch = new Area(512);

/** `text`'s characters (ASCII) at scratch + n; returns the new length. */
function put(n: usize, text: string, from: i32 = 0, to: i32 = -1): usize {
  const end = to < 0 ? text.length : to;
  scratch.ensure(n + <usize>(end - from));
  for (let i = from; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x80) throw new Error('categories: not ASCII');
    store<u8>(scratch.ptr + n++, <u8>c);
  }
  return n;
}

/** A lasting copy of the first n scratch bytes. */
function keep(n: usize): usize {
  const p = heap.alloc(n);
  memory.copy(p, scratch.ptr, n);
  return p;
}

/** The first n scratch bytes as the text of a row before `r` that has the same, else a lasting copy (the rows
 * share a few dozen texts). */
function kept(n: usize, r: i32): usize {
  for (let q = 0; q < r; q++) if (mLen[q] == n && same(mPtr[q], scratch.ptr, n)) return mPtr[q];
  return keep(n);
}

/** Adds the type held by the first n scratch bytes. */
function add(n: usize, r: i32): void {
  if (rowOf(scratch.ptr, n) >= 0) throw new Error('categories: a type is declared twice');
  let h = hashOf(scratch.ptr, n);
  while (tLen[h] != 0) h = (h + 1) & (SIZE - 1);
  tLen[h] = <u32>n;
  tPtr[h] = keep(n);
  tRow[h] = r;
}

/** Adds every type `pattern` stands for from character i on, after the n bytes in scratch: each `{a,b}` group
 * replaced by each alternative. */
function expand(pattern: string, i: i32, n: usize, r: i32): void {
  const open = pattern.indexOf('{', i);
  if (open < 0) { add(put(n, pattern, i), r); return; }
  n = put(n, pattern, i, open);
  const close = pattern.indexOf('}', open);
  let a = open + 1;
  while (a <= close) {
    let b = pattern.indexOf(',', a);
    if (b < 0 || b > close) b = close;
    expand(pattern, close + 1, put(n, pattern, a, b), r);
    a = b + 1;
  }
}

/** `["a","b"]` of `a,b`, at scratch + n. */
function putList(n: usize, list: string): usize {
  n = put(n, '["');
  let a = 0;
  while (true) {
    const b = list.indexOf(',', a);
    n = put(n, list, a, b < 0 ? list.length : b);
    if (b < 0) break;
    n = put(n, '","');
    a = b + 1;
  }
  return put(n, '"]');
}

let declared = 0;
for (let r = 0; r < ROWS.length; r++) {
  const row = ROWS[r];
  expand(row.pattern, 0, 0, r);
  let n = put(0, ',"kind":"');
  n = put(n, row.kind);
  n = putList(put(n, '","category":'), row.category);
  n = putList(put(n, ',"type":'), row.types);
  mPtr[r] = kept(n, r);
  mLen[r] = n;
  outcomes[r] = row.outcome == 'success' ? 1 : row.outcome == 'failure' ? 2 : 0;
}
for (let h: u32 = 0; h < SIZE; h++) if (tLen[h] != 0) declared++;
if (<u32>declared * 2 > SIZE) throw new Error('categories: SIZE must be more than twice the declared types');

/** Writes the `event` members of row `r` (-1: a type not declared: kind "event" alone). */
@inline export function writeMembers(r: i32): void {
  if (r < 0) membersText(UNKNOWN.ptr, UNKNOWN.len);
  else membersText(unchecked(mPtr[r]), unchecked(mLen[r]));
}
@inline export function outcomeOf(r: i32): u8 { return r < 0 ? 0 : unchecked(outcomes[r]); }

// What a resource of a given type describes (TARGETS): its type's bytes and the object its fields fill.
export const T_NONE: i32 = 0;
export const T_USER: i32 = 1;
export const T_GROUP: i32 = 2;
export const T_HOST: i32 = 3;
const targetLits = new StaticArray<Lit>(TARGETS.length);
const targetKinds = new StaticArray<i32>(TARGETS.length);
for (let i = 0; i < TARGETS.length; i++) {
  const o = TARGETS[i].object;
  targetLits[i] = new Lit(TARGETS[i].type);
  targetKinds[i] = o == 'user.target' ? T_USER : o == 'group' ? T_GROUP : o == 'host' ? T_HOST : T_NONE;
  if (targetKinds[i] == T_NONE) throw new Error('categories: a target of an unknown object');
}

/** T_USER, T_GROUP, T_HOST or T_NONE for a resource whose type is [s, s+n). A few types: compared in turn. */
export function targetOf(s: usize, n: usize): i32 {
  const k = targetLits.length;
  for (let i = 0; i < k; i++) if (spanIs(s, n, unchecked(targetLits[i]))) return unchecked(targetKinds[i]);
  return T_NONE;
}
