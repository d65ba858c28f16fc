// Fluent Bit wasm filter entry points (spec/fluent-bit.md): fn(tag, tag_len, time_sec, time_nsec, record,
// record_len) -> NUL-terminated JSON object. The result buffer is the module's and stays valid until the next
// call. Built with `--runtime minimal`: nothing here allocates on the GC heap per record, and the copies Fluent
// Bit makes through __new/__pin are reclaimed by an explicit __collect every few hundred records.
import { mapRecord, PROFILE_ECS, PROFILE_ELASTIC } from './record';

const COLLECT_EVERY: u32 = 256;
const COLLECT_BYTES: usize = 4 << 20;
let calls: u32 = 0;
let pending: usize = 0;

function enter(len: usize): void {
  calls++;
  pending += len;
  if (calls >= COLLECT_EVERY || pending >= COLLECT_BYTES) {
    __collect();
    calls = 0;
    pending = 0;
  }
}

/** DI event → ECS, Sekoia.io intake shape. */
export function jumpcloud_ecs(tag: usize, tag_len: u32, time_sec: u32, time_nsec: u32, record: usize, record_len: u32): usize {
  enter(<usize>record_len + <usize>tag_len);
  return mapRecord(record, <usize>record_len, PROFILE_ECS);
}

/** DI event → ECS, Elastic `jumpcloud` integration shape. */
export function jumpcloud_elastic(tag: usize, tag_len: u32, time_sec: u32, time_nsec: u32, record: usize, record_len: u32): usize {
  enter(<usize>record_len + <usize>tag_len);
  return mapRecord(record, <usize>record_len, PROFILE_ELASTIC);
}
