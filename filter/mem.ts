// Unmanaged, grow-only byte areas. The filter allocates nothing on the GC heap per record: every buffer
// here lives for the whole process and is reused, so linear memory stays flat however many records pass.

/** A grow-only region: `ptr` stays valid until the next `ensure` that grows it. */
export class Area {
  ptr: usize = 0;
  cap: usize = 0;
  constructor(initial: usize) {
    this.ptr = heap.alloc(initial);
    this.cap = initial;
  }
  @inline ensure(size: usize): void {
    if (size > this.cap) this.grow(size);
  }
  grow(size: usize): void {
    let c = this.cap << 1;
    if (c < size) c = size + 1024;
    this.ptr = heap.realloc(this.ptr, c);
    this.cap = c;
  }
}

/** A constant byte string (UTF-8), made once from a literal. Unmanaged: the collector never walks it. */
@final @unmanaged export class Lit {
  ptr: usize;
  len: usize;
  /** `,"<bytes>":` (kptr + 1 without the comma): a member name ready to copy in one go. */
  kptr: usize;
  klen: usize;
  constructor(s: string) {
    const buf = String.UTF8.encode(s);
    this.len = <usize>buf.byteLength;
    this.ptr = heap.alloc(this.len + 1);
    memory.copy(this.ptr, changetype<usize>(buf), this.len);
    this.klen = this.len + 4;
    this.kptr = heap.alloc(this.klen + 1);
    store<u8>(this.kptr, 0x2c);
    store<u8>(this.kptr, 0x22, 1);
    memory.copy(this.kptr + 2, this.ptr, this.len);
    store<u16>(this.kptr + 2 + this.len, 0x3a22); // '":'
  }
}

/** Same n bytes at a and b? Eight at a time (memory.compare is a byte loop in the interpreter). */
@inline export function same(a: usize, b: usize, n: usize): bool {
  while (n >= 8) {
    if (load<u64>(a) != load<u64>(b)) return false;
    a += 8; b += 8; n -= 8;
  }
  if (n >= 4) {
    if (load<u32>(a) != load<u32>(b)) return false;
    a += 4; b += 4; n -= 4;
  }
  while (n > 0) {
    if (load<u8>(a) != load<u8>(b)) return false;
    a++; b++; n--;
  }
  return true;
}

/** True when the span [s, s+n) holds exactly the bytes of `l`. */
@inline export function spanIs(s: usize, n: usize, l: Lit): bool {
  return n == l.len && same(s, l.ptr, n);
}

/** Length of the valid UTF-8 sequence at p (first byte >= 0x80) ending by e, or 0 (overlong, surrogate, > U+10FFFF, cut). */
export function utf8Len(p: usize, e: usize): usize {
  const c = load<u8>(p);
  let n: usize = 0, cp: u32 = 0, min: u32 = 0;
  if (c >= 0xc2 && c <= 0xdf) { n = 2; cp = c & 0x1f; min = 0x80; }
  else if (c >= 0xe0 && c <= 0xef) { n = 3; cp = c & 0x0f; min = 0x800; }
  else if (c >= 0xf0 && c <= 0xf4) { n = 4; cp = c & 0x07; min = 0x10000; }
  else return 0;
  if (p + n > e) return 0;
  for (let i: usize = 1; i < n; i++) {
    const d = load<u8>(p + i);
    if ((d & 0xc0) != 0x80) return 0;
    cp = (cp << 6) | (d & 0x3f);
  }
  return cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) ? 0 : n;
}
