// Reusable buffers for page bodies. A 10,000-event page is ~11 MB; allocating a fresh one per page leaves the
// previous ones as garbage until V8's next full GC (external memory is only collected in bulk), which is what
// drove the collector's RSS up. The consumer hands a page back (DiPage.release) once Fluent Bit acked its events;
// its buffer then serves the next page. Pages never released are simply garbage-collected.

export interface PageBufferPoolOptions {
  /** Free buffers kept for reuse; default 4 (about the pages in flight: pipelined + prefetched + being read). */
  readonly maxFree?: number;
  /** Bodies above this are not pooled (allocated and dropped as usual); default 64 MiB. */
  readonly maxBytes?: number;
}

export class PageBufferPool {
  private readonly free: Buffer[] = [];
  /** Memory this pool allocated: release() takes back nothing else (e.g. a slice of Node's shared buffer pool). */
  private readonly owned = new WeakSet<ArrayBufferLike>();
  private readonly maxFree: number;
  private readonly maxBytes: number;

  constructor(opts: PageBufferPoolOptions = {}) {
    this.maxFree = opts.maxFree ?? 4;
    this.maxBytes = opts.maxBytes ?? 64 * 1024 * 1024;
  }

  /** A buffer of exactly `size` bytes (a view of a pooled one when one is big enough), contents undefined. */
  acquire(size: number): Buffer {
    if (size > this.maxBytes) return Buffer.allocUnsafeSlow(size);
    // Smallest free buffer that fits, so a short page does not take the big one.
    let best = -1;
    for (let i = 0; i < this.free.length; i++) {
      const b = this.free[i]!;
      if (b.length >= size && (best < 0 || b.length < this.free[best]!.length)) best = i;
    }
    if (best >= 0) return this.free.splice(best, 1)[0]!.subarray(0, size);
    // None fits: the smallest free one is too small for pages like this one; let it go rather than keep it idle.
    if (this.free.length > 0) this.free.splice(this.smallestFree(), 1);
    // Some headroom so a slightly bigger next page still fits; outside Node's small-buffer pool.
    const fresh = Buffer.allocUnsafeSlow(size + (size >> 4));
    this.owned.add(fresh.buffer);
    return fresh.subarray(0, size);
  }

  /**
   * Takes back the buffer under `view` (one acquire() returned). The caller guarantees nothing reads the view, or
   * any view of it, any more.
   */
  release(view: Buffer): void {
    if (!this.owned.has(view.buffer)) return;
    if (this.free.some((b) => b.buffer === view.buffer)) return; // already back
    const whole = Buffer.from(view.buffer, 0, view.buffer.byteLength);
    if (whole.length > this.maxBytes || this.free.length >= this.maxFree) return;
    this.free.push(whole);
  }

  private smallestFree(): number {
    let k = 0;
    for (let i = 1; i < this.free.length; i++) if (this.free[i]!.length < this.free[k]!.length) k = i;
    return k;
  }

  /** Free buffers held (for tests and diagnostics). */
  get freeCount(): number {
    return this.free.length;
  }
}
