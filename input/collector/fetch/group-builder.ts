// The entries of one send group as columns over a page's bytes (a MessageBatch), filled event by event: no object per
// entry, so nothing per event outlives the loop iteration that looked at it.
import type { MessageBatch, PageEvents } from '../../types.js';
import { IdBatchBuilder } from '../delivery/index.js';

export class GroupBuilder {
  readonly start: Uint32Array;
  readonly end: Uint32Array;
  readonly sec: Uint32Array;
  readonly nsec: Uint32Array;
  readonly ids: IdBatchBuilder;
  length = 0;
  /** Bytes of the events' JSON. */
  bytes = 0;

  constructor(
    private readonly body: Buffer,
    capacity: number,
  ) {
    const cols = new Uint32Array(4 * capacity);
    this.start = cols.subarray(0, capacity);
    this.end = cols.subarray(capacity, 2 * capacity);
    this.sec = cols.subarray(2 * capacity, 3 * capacity);
    this.nsec = cols.subarray(3 * capacity, 4 * capacity);
    this.ids = new IdBatchBuilder(capacity);
  }

  get capacity(): number {
    return this.start.length;
  }

  add(events: PageEvents, i: number, id: string, sec: number, nsec: number, ms: number): void {
    const n = this.length++;
    const s = events.start[i]!,
      e = events.end[i]!;
    this.start[n] = s;
    this.end[n] = e;
    this.sec[n] = sec;
    this.nsec[n] = nsec;
    this.bytes += e - s;
    this.ids.add(id, ms);
  }

  batch(): MessageBatch {
    const n = this.length;
    return {
      length: n,
      body: this.body,
      start: this.start.subarray(0, n),
      end: this.end.subarray(0, n),
      sec: this.sec.subarray(0, n),
      nsec: this.nsec.subarray(0, n),
    };
  }
}
