// The key table: what a key means in the context it stands in (schema.ts fills it at start-up). Open-addressed
// and keyed by (context, key bytes), so a key costs one hash and usually one compare.
import { Lit, same } from './mem';

// What a key leads to: a field (0..KCTX-1), a context (KCTX + ctx), or nothing the mappings read.
export const KCTX: i32 = 100;
export const KNONE: i32 = -1;

// Keys are compared as words: the first eight bytes (zero-padded) and, up to 16 bytes, the last eight;
// a byte compare is left only for longer keys. The interpreter pays per operation, not per byte.
const SIZE: u32 = 1024;
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

/** Adds `key` in `ctx` (a key may be added once per context). */
export function addKey(ctx: u8, key: Lit, v: i32): void {
  const w0 = word0(key.ptr, key.len, key.ptr + key.len);
  let h = hash(ctx, key.len, w0);
  while (tLen[h] != 0) h = (h + 1) & (SIZE - 1);
  tCtx[h] = ctx;
  tLen[h] = <u32>key.len;
  tW0[h] = w0;
  tW1[h] = key.len > 8 ? load<u64>(key.ptr + key.len - 8) : 0;
  tLit[h] = key;
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

/** Adds every key of context `from` to context `to` too (start-up: a context's twin, schema.ts). */
export function copyKeys(from: u8, to: u8): void {
  for (let h: u32 = 0; h < SIZE; h++) {
    if (tLen[h] != 0 && tCtx[h] == from) addKey(to, tLit[h]!, tVal[h]);
  }
}
