// One memory budget for the page bodies of every stream: a request for a page first reserves what the page is
// expected to weigh and holds it until the consumer is done with the page. Without it each pages() chain (every
// stream, every backfill slice) held its page and the one prefetched behind it: 2 services × 4 slices × 2 pages ×
// 13 MB was most of a 423 MB backfill. Waiters are served in order (a big page is not starved by small ones);
// one reservation always fits when nothing else is held, so a page bigger than the budget still goes through.
import { JumpCloudError } from '../errors.js';

export class BudgetAbortedError extends JumpCloudError {
  static override readonly code: string = 'DI_BUDGET_ABORTED';
}

export interface Reservation {
  readonly bytes: number;
  /** Sets what this reservation holds to the real size once known (it may exceed the budget: the next waiters wait). */
  resize(bytes: number): void;
  /** Gives the bytes back; idempotent. */
  release(): void;
}

interface Waiter {
  readonly bytes: number;
  readonly resolve: (r: Reservation) => void;
  readonly reject: (err: unknown) => void;
  readonly signal?: AbortSignal;
  readonly onAbort?: () => void;
}

export class ByteBudget {
  private heldBytes = 0;
  private peakBytes = 0;
  private readonly waiters: Waiter[] = [];

  constructor(readonly limit: number) {
    if (!(limit > 0)) throw new RangeError(`byte budget ${limit} must be more than 0`);
  }

  get held(): number {
    return this.heldBytes;
  }

  /** Most bytes held at once so far. */
  get peak(): number {
    return this.peakBytes;
  }

  get waiting(): number {
    return this.waiters.length;
  }

  /** Resolves with a reservation of `bytes` once it fits; rejects with the signal's reason when it aborts first. */
  acquire(bytes: number, signal?: AbortSignal): Promise<Reservation> {
    signal?.throwIfAborted();
    if (this.waiters.length === 0 && this.fits(bytes)) return Promise.resolve(this.reserve(bytes));
    return new Promise<Reservation>((resolve, reject) => {
      const w: Waiter = {
        bytes,
        resolve,
        reject,
        signal,
        ...(signal ? { onAbort: () => this.cancel(w) } : {}),
      };
      if (signal) signal.addEventListener('abort', w.onAbort!, { once: true });
      this.waiters.push(w);
    });
  }

  private fits(bytes: number): boolean {
    return this.heldBytes === 0 || this.heldBytes + bytes <= this.limit;
  }

  private reserve(initial: number): Reservation {
    let bytes = initial;
    let released = false;
    this.add(bytes);
    return {
      get bytes() {
        return bytes;
      },
      resize: (n: number) => {
        if (released) return;
        this.add(n - bytes);
        bytes = n;
        this.wake();
      },
      release: () => {
        if (released) return;
        released = true;
        this.add(-bytes);
        this.wake();
      },
    };
  }

  private add(n: number): void {
    this.heldBytes += n;
    if (this.heldBytes > this.peakBytes) this.peakBytes = this.heldBytes;
  }

  private wake(): void {
    while (this.waiters.length > 0 && this.fits(this.waiters[0]!.bytes)) {
      const w = this.waiters.shift()!;
      if (w.onAbort) w.signal!.removeEventListener('abort', w.onAbort);
      w.resolve(this.reserve(w.bytes));
    }
  }

  private cancel(w: Waiter): void {
    const i = this.waiters.indexOf(w);
    if (i < 0) return;
    this.waiters.splice(i, 1);
    w.reject(w.signal!.reason ?? new BudgetAbortedError('aborted while waiting for memory'));
    this.wake(); // the head may have changed
  }
}
