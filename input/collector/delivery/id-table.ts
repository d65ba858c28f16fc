// The map behind the seen-id set: event id → number, for hundreds of thousands of ids per stream, kept off the
// JS heap. DI ids are 24-hex ObjectIds or UUIDs; as JS strings in a Map each cost ~85 bytes of old-generation
// heap (string, entry, boxed number) that every full GC walks and that V8 lets grow to a multiple before
// collecting: 300,000 of them held ~25 MB live and twice that at peak. Here such an id is 12 or 16 bytes in an
// open-addressing table of typed arrays (~25 bytes per slot at most 70 % full). Any other id (another format,
// upper-case hex) goes to an ordinary Map, so every string works and round-trips exactly.

const EMPTY = 0;
const HEX24 = 1; // 24 lower-case hex digits: 3 words
const UUID = 2; // 8-4-4-4-12 lower-case hex digits: 4 words
const DELETED = 3;

// A stream starts small and grows by doubling: a thousand orgs × 3 services at 1,024 slots (25 KB) each held 75 MB
// before they had seen a hundred ids each.
const MIN_CAPACITY = 64;
const HEX = '0123456789abcdef';
const HEX2 = Array.from({ length: 256 }, (_, b) => HEX[b >> 4]! + HEX[b & 15]!);

/** Value of a lower-case hex digit's char code, or -1. */
function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  return -1;
}

export class IdTable {
  private capacity = MIN_CAPACITY;
  private keys = new Uint32Array(MIN_CAPACITY * 4);
  private values = new Float64Array(MIN_CAPACITY);
  private tags = new Uint8Array(MIN_CAPACITY);
  private used = 0;
  private deleted = 0;
  /** Ids that are neither 24-hex nor UUID. */
  private readonly other = new Map<string, number>();
  /** The words of the id being looked up (no allocation per lookup). */
  private readonly w = new Uint32Array(4);

  get size(): number {
    return this.used + this.other.size;
  }

  has(id: string): boolean {
    const tag = this.encode(id);
    return tag === EMPTY ? this.other.has(id) : this.find(tag) >= 0;
  }

  get(id: string): number | undefined {
    const tag = this.encode(id);
    if (tag === EMPTY) return this.other.get(id);
    const i = this.find(tag);
    return i >= 0 ? this.values[i] : undefined;
  }

  set(id: string, value: number): void {
    const tag = this.encode(id);
    if (tag === EMPTY) {
      this.other.set(id, value);
      return;
    }
    const i = this.find(tag);
    if (i >= 0) {
      this.values[i] = value;
      return;
    }
    const at = ~i;
    if (this.tags[at] === DELETED) this.deleted--;
    this.tags[at] = tag;
    this.keys.set(this.w, at * 4);
    this.values[at] = value;
    this.used++;
    if ((this.used + this.deleted) * 10 > this.capacity * 7) this.rebuild();
  }

  delete(id: string): boolean {
    const tag = this.encode(id);
    if (tag === EMPTY) return this.other.delete(id);
    const i = this.find(tag);
    if (i < 0) return false;
    this.tags[i] = DELETED;
    this.used--;
    this.deleted++;
    return true;
  }

  /** Every value (no id decoded). */
  forEachValue(fn: (value: number) => void): void {
    const { tags, values } = this;
    for (let i = 0; i < this.capacity; i++) if (tags[i] === HEX24 || tags[i] === UUID) fn(values[i]!);
    this.other.forEach((v) => fn(v));
  }

  /** Every entry; ids are decoded to strings (transient: for the journal rewrite). */
  forEach(fn: (value: number, id: string) => void): void {
    const { tags, values } = this;
    for (let i = 0; i < this.capacity; i++) if (tags[i] === HEX24 || tags[i] === UUID) fn(values[i]!, this.decode(i));
    this.other.forEach((v, id) => fn(v, id));
  }

  /** The ids whose value `pick` accepts; only those are decoded. */
  idsWhere(pick: (value: number) => boolean): string[] {
    const { tags, values } = this;
    const out: string[] = [];
    for (let i = 0; i < this.capacity; i++)
      if ((tags[i] === HEX24 || tags[i] === UUID) && pick(values[i]!)) out.push(this.decode(i));
    this.other.forEach((v, id) => {
      if (pick(v)) out.push(id);
    });
    return out;
  }

  /** Deletes the entries whose value `drop` accepts (while `more()` allows), then shrinks; returns how many. */
  deleteWhere(drop: (value: number) => boolean, more: () => boolean = () => true): number {
    let n = 0;
    const { tags, values } = this;
    for (let i = 0; i < this.capacity; i++) {
      if ((tags[i] === HEX24 || tags[i] === UUID) && drop(values[i]!) && more()) {
        tags[i] = DELETED;
        this.used--;
        this.deleted++;
        n++;
      }
    }
    this.other.forEach((v, id) => {
      if (drop(v) && more()) {
        this.other.delete(id);
        n++;
      }
    });
    if (n > 0) this.rebuild();
    return n;
  }

  /** Slots held (for tests and diagnostics). */
  get slots(): number {
    return this.capacity;
  }

  /** Puts the id's words into `w`; returns its tag, or EMPTY when it is not a lower-case 24-hex or UUID id. */
  private encode(id: string): number {
    const w = this.w;
    if (id.length === 24) {
      for (let k = 0; k < 3; k++) {
        let v = 0;
        for (let j = k * 8; j < k * 8 + 8; j++) {
          const d = hexValue(id.charCodeAt(j));
          if (d < 0) return EMPTY;
          v = (v << 4) | d;
        }
        w[k] = v;
      }
      w[3] = 0;
      return HEX24;
    }
    if (id.length === 36) {
      if (id.charCodeAt(8) !== 45 || id.charCodeAt(13) !== 45 || id.charCodeAt(18) !== 45 || id.charCodeAt(23) !== 45)
        return EMPTY;
      let k = 0,
        v = 0,
        digits = 0;
      for (let j = 0; j < 36; j++) {
        if (j === 8 || j === 13 || j === 18 || j === 23) continue;
        const d = hexValue(id.charCodeAt(j));
        if (d < 0) return EMPTY;
        v = (v << 4) | d;
        if (++digits === 8) {
          w[k++] = v;
          v = 0;
          digits = 0;
        }
      }
      return UUID;
    }
    return EMPTY;
  }

  /**
   * The slot holding the key in `w` with `tag`, or ~slot where it would go (first deleted slot on its path, else the
   * empty one).
   */
  private find(tag: number): number {
    const { w, keys, tags } = this;
    const mask = this.capacity - 1;
    let h =
      Math.imul(w[0]! ^ tag, 0x9e3779b1) ^
      Math.imul(w[1]!, 0x85ebca77) ^
      Math.imul(w[2]!, 0xc2b2ae3d) ^
      Math.imul(w[3]!, 0x27d4eb2f);
    h ^= h >>> 15;
    h = Math.imul(h, 0x2c1b3c6d);
    h ^= h >>> 12;
    let i = h & mask;
    let firstDeleted = -1;
    for (;;) {
      const t = tags[i]!;
      if (t === EMPTY) return ~(firstDeleted >= 0 ? firstDeleted : i);
      if (t === tag) {
        const k = i * 4;
        if (keys[k] === w[0] && keys[k + 1] === w[1] && keys[k + 2] === w[2] && keys[k + 3] === w[3]) return i;
      } else if (t === DELETED && firstDeleted < 0) {
        firstDeleted = i;
      }
      i = (i + 1) & mask;
    }
  }

  private decode(i: number): string {
    const k = i * 4;
    // Two hex digits per table lookup: a journal rewrite decodes every id (300,000 in the benchmark).
    const hex = (word: number): string =>
      HEX2[word >>> 24]! + HEX2[(word >>> 16) & 255]! + HEX2[(word >>> 8) & 255]! + HEX2[word & 255]!;
    const a = hex(this.keys[k]!),
      b = hex(this.keys[k + 1]!),
      c = hex(this.keys[k + 2]!);
    if (this.tags[i] === HEX24) return a + b + c;
    const d = hex(this.keys[k + 3]!);
    return `${a}-${b.slice(0, 4)}-${b.slice(4)}-${c.slice(0, 4)}-${c.slice(4)}${d}`;
  }

  /** Re-inserts every entry into a table sized for them (at most half full afterwards; drops the tombstones). */
  private rebuild(): void {
    let capacity = MIN_CAPACITY;
    while (this.used * 2 > capacity) capacity *= 2;
    if (capacity === this.capacity) return this.rehashInPlace();
    const { keys, values, tags } = this;
    const old = this.capacity;
    this.capacity = capacity;
    this.keys = new Uint32Array(capacity * 4);
    this.values = new Float64Array(capacity);
    this.tags = new Uint8Array(capacity);
    this.used = 0;
    this.deleted = 0;
    const w = this.w;
    for (let i = 0; i < old; i++) {
      const tag = tags[i]!;
      if (tag !== HEX24 && tag !== UUID) continue;
      w[0] = keys[i * 4]!;
      w[1] = keys[i * 4 + 1]!;
      w[2] = keys[i * 4 + 2]!;
      w[3] = keys[i * 4 + 3]!;
      const at = ~this.find(tag);
      this.tags[at] = tag;
      this.keys.set(w, at * 4);
      this.values[at] = values[i]!;
      this.used++;
    }
  }

  /**
   * Same size (a compaction that left the table as big as it must be): the live entries go to packed arrays and
   * back into the cleared table, instead of into a second table. The old arrays would stay allocated until the GC
   * frees them: for 300,000 ids that was 13 MB more at once (the collector's peak memory at a window's end).
   */
  private rehashInPlace(): void {
    const { keys, values, tags } = this;
    const n = this.used;
    const liveKeys = new Uint32Array(n * 4);
    const liveValues = new Float64Array(n);
    const liveTags = new Uint8Array(n);
    let j = 0;
    for (let i = 0; i < this.capacity && j < n; i++) {
      const tag = tags[i]!;
      if (tag !== HEX24 && tag !== UUID) continue;
      liveKeys.set(keys.subarray(i * 4, i * 4 + 4), j * 4);
      liveValues[j] = values[i]!;
      liveTags[j] = tag;
      j++;
    }
    tags.fill(EMPTY);
    this.used = 0;
    this.deleted = 0;
    const w = this.w;
    for (let i = 0; i < j; i++) {
      w[0] = liveKeys[i * 4]!;
      w[1] = liveKeys[i * 4 + 1]!;
      w[2] = liveKeys[i * 4 + 2]!;
      w[3] = liveKeys[i * 4 + 3]!;
      const tag = liveTags[i]!;
      const at = ~this.find(tag);
      tags[at] = tag;
      keys.set(w, at * 4);
      values[at] = liveValues[i]!;
      this.used++;
    }
  }
}
