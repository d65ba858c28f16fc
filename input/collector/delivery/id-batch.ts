// The ids of one send group and their event times, compact: the ids joined into one string with their end offsets,
// the times in a Float64Array. A group lives until its last chunk settles — long enough that an object (and a boxed
// time) per id would be promoted to the old generation as garbage; this is three objects per group.

export interface SeenEntry {
  readonly id: string;
  /** Event time in epoch ms (truncated). */
  readonly ts: number;
}

export class IdBatch {
  constructor(
    /** Every id of the batch, concatenated. */
    private readonly joined: string,
    /** End of id i in `joined` (id i starts where id i-1 ends). */
    private readonly ends: Uint32Array,
    /** Event time of id i (epoch ms, truncated). */
    readonly ts: Float64Array,
  ) {}

  get length(): number {
    return this.ends.length;
  }

  /** Id i: a short-lived slice (the id table copies what it keeps of DI's id formats). */
  id(i: number): string {
    return this.joined.slice(i === 0 ? 0 : this.ends[i - 1], this.ends[i]);
  }

  static of(entries: readonly SeenEntry[]): IdBatch {
    const b = new IdBatchBuilder(entries.length);
    for (const e of entries) b.add(e.id, e.ts);
    return b.finish();
  }
}

/** Collects the ids of a group as it fills (at most `capacity`); finish() joins them. */
export class IdBatchBuilder {
  private readonly parts: string[] = [];
  private readonly ends: Uint32Array;
  private readonly ts: Float64Array;
  private chars = 0;

  constructor(capacity: number) {
    this.ends = new Uint32Array(capacity);
    this.ts = new Float64Array(capacity);
  }

  get length(): number {
    return this.parts.length;
  }

  add(id: string, ts: number): void {
    const n = this.parts.length;
    if (n === this.ends.length) throw new RangeError(`IdBatchBuilder holds ${n} ids at most`);
    this.chars += id.length;
    this.ends[n] = this.chars;
    this.ts[n] = ts;
    this.parts.push(id);
  }

  finish(): IdBatch {
    const n = this.parts.length;
    return new IdBatch(this.parts.join(''), this.ends.subarray(0, n), this.ts.subarray(0, n));
  }
}
