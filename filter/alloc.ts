// The module's `malloc`/`free`, which WAMR prefers to the GC runtime's __new/__pin (wasm_loader.c resolves
// an exported `malloc` first): Fluent Bit copies the tag and the record in with malloc before each call and
// frees both after it. A bump arena, rewound when nothing is outstanding, makes that a few operations
// instead of the interpreted TLSF and GC bookkeeping (about 15,000 native instructions a record, measured).
let arena: usize = heap.alloc(64 << 10);
let cap: usize = 64 << 10;
let top: usize = 0;
let outstanding: i32 = 0;
/** The largest request so far: the arena is grown to hold two of it when nothing is handed out. */
let biggest: usize = 0;

export function malloc(size: usize): usize {
  const n = (size + 15) & ~<usize>15;
  if (n > biggest) biggest = n;
  if (outstanding == 0) {
    top = 0;
    if (cap < biggest << 1) {
      // Nothing is handed out: the arena may move.
      heap.free(arena);
      cap = (biggest << 1) + (64 << 10);
      arena = heap.alloc(cap);
    }
  }
  // A copy that does not fit (a record larger than any before it): a block of its own, this once.
  if (top + n > cap) return heap.alloc(n);
  const p = arena + top;
  top += n;
  outstanding++;
  return p;
}

export function free(p: usize): void {
  if (p == 0) return;
  if (p >= arena && p < arena + cap) {
    if (--outstanding == 0) top = 0;
  } else heap.free(p);
}
