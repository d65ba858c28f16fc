// event.kind, event.category and event.type from the event's type (jumpcloud_elastic): the declaration of
// categories.ts made, at start-up, into an open-addressed hash of the expanded types and one ready-made text
// per row, so that a record costs one hash of its type, one compare and one copy.
import { ROWS, TARGETS } from './categories';
import { Lit, same, spanIs } from './mem';

const SIZE: u32 = 1024; // more than twice the declared types (a start-up check keeps it so)
const tLen = new StaticArray<u32>(SIZE); // 0: empty slot
const tPtr = new StaticArray<usize>(SIZE);
const tRow = new StaticArray<i32>(SIZE);

/** Per row: `,"kind":"…","category":[…],"type":[…]` (written from its second byte when it comes first). */
const members = new StaticArray<Lit>(ROWS.length);
/** Per row: 0, or the outcome the type itself says (1 success, 2 failure). */
const outcomes = new StaticArray<u8>(ROWS.length);
/** Written for a type not declared: no guessed category. */
export const UNKNOWN = new Lit(',"kind":"event"');

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

function add(type: string, r: i32): void {
  const l = new Lit(type);
  if (rowOf(l.ptr, l.len) >= 0) throw new Error('categories: a type is declared twice');
  let h = hashOf(l.ptr, l.len);
  while (tLen[h] != 0) h = (h + 1) & (SIZE - 1);
  tLen[h] = <u32>l.len;
  tPtr[h] = l.ptr;
  tRow[h] = r;
}

/** Adds every type `pattern` stands for (each `{a,b}` group replaced by each alternative). */
function addPattern(pattern: string, r: i32): void {
  const open = pattern.indexOf('{');
  if (open < 0) { add(pattern, r); return; }
  const close = pattern.indexOf('}', open);
  const alts = pattern.slice(open + 1, close).split(',');
  for (let i = 0; i < alts.length; i++) addPattern(pattern.slice(0, open) + alts[i] + pattern.slice(close + 1), r);
}

/** `["a","b"]` of `a,b`. */
function jsonList(list: string): string { return '["' + list.split(',').join('","') + '"]'; }

let declared = 0;
for (let r = 0; r < ROWS.length; r++) {
  const row = ROWS[r];
  addPattern(row.pattern, r);
  const text = ',"kind":"' + row.kind + '","category":' + jsonList(row.category) + ',"type":' + jsonList(row.types);
  members[r] = new Lit(text);
  outcomes[r] = row.outcome == 'success' ? 1 : row.outcome == 'failure' ? 2 : 0;
}
for (let h: u32 = 0; h < SIZE; h++) if (tLen[h] != 0) declared++;
if (<u32>declared * 2 > SIZE) throw new Error('categories: SIZE must be more than twice the declared types');

/** The `event` members of row `r` (-1: UNKNOWN), `,`-prefixed. */
@inline export function membersOf(r: i32): Lit { return r < 0 ? UNKNOWN : unchecked(members[r]); }
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
