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

/** A constant byte string (UTF-8), made once at start-up from a literal. */
@final export class Lit {
  ptr: usize;
  len: usize;
  constructor(s: string) {
    const buf = String.UTF8.encode(s);
    this.len = <usize>buf.byteLength;
    this.ptr = heap.alloc(this.len + 1);
    memory.copy(this.ptr, changetype<usize>(buf), this.len);
  }
}

/** True when the span [s, s+n) holds exactly the bytes of `l`. */
@inline export function spanIs(s: usize, n: usize, l: Lit): bool {
  return n == l.len && memory.compare(s, l.ptr, n) == 0;
}
