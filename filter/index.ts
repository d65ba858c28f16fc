// Fluent Bit wasm filter entry points (spec/fluent-bit.md): fn(tag, tag_len, time_sec, time_nsec, record,
// record_len) -> NUL-terminated JSON object. The result buffer is the module's and stays valid until the next
// call. Fluent Bit's copies of the tag and the record come from the exported malloc/free (alloc.ts); nothing
// here allocates on the GC heap per record, so nothing needs collecting.
import { mapRecord, PROFILE_ECS, PROFILE_ELASTIC } from './record';
export { malloc, free } from './alloc';

/** DI event → ECS, Sekoia.io intake shape. */
export function jumpcloud_ecs(tag: usize, tag_len: u32, time_sec: u32, time_nsec: u32, record: usize, record_len: u32): usize {
  return mapRecord(record, <usize>record_len, PROFILE_ECS);
}

/** DI event → ECS, Elastic `jumpcloud` integration shape. */
export function jumpcloud_elastic(tag: usize, tag_len: u32, time_sec: u32, time_nsec: u32, record: usize, record_len: u32): usize {
  return mapRecord(record, <usize>record_len, PROFILE_ELASTIC);
}
