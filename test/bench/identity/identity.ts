// The benchmark's baseline: a wasm filter that returns its input unchanged, built like the real one (the same
// malloc/free for Fluent Bit's record copies, no GC work per record), so the difference is the mapping's own work.
export { malloc, free } from '../../../filter/alloc';

let buf: usize = 0;
let cap: usize = 0;

export function identity(tag: usize, tag_len: u32, time_sec: u32, time_nsec: u32, record: usize, record_len: u32): usize {
  const n = <usize>record_len;
  if (n + 1 > cap) { cap = n + 4097; buf = buf == 0 ? heap.alloc(cap) : heap.realloc(buf, cap); }
  memory.copy(buf, record, n);
  store<u8>(buf + n, 0);
  return buf;
}

let seen: u64 = 0;

/**
 * The identity filter plus one pass over every byte of the record, eight bytes a step, counting quotes
 * and backslashes (what any JSON reader must at least find): the floor of a filter that reads its input.
 */
export function one_pass(tag: usize, tag_len: u32, time_sec: u32, time_nsec: u32, record: usize, record_len: u32): usize {
  const ONES: u64 = 0x0101010101010101;
  const HIGHS: u64 = 0x8080808080808080;
  let p = record;
  const e = record + <usize>record_len;
  let hits: u64 = 0;
  while (p + 8 <= e) {
    const v = load<u64>(p);
    const q = v ^ (0x22 * ONES);
    const b = v ^ (0x5c * ONES);
    hits += popcnt((((q - ONES) & ~q) | ((b - ONES) & ~b)) & HIGHS);
    p += 8;
  }
  seen += hits;
  return identity(tag, tag_len, time_sec, time_nsec, record, record_len);
}
