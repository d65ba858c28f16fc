// Acked chunks while their ack settles: an ack counts once it has stood `settleMs` on an open connection (Fluent
// Bit's threaded input acks records still in memory). Settled in ack order, on the injected clock; a connection
// that closes first takes the whole queue back (drain) to be sent again.
import type { Clock } from '../types.js';
import { ClockTimer } from '../clock.js';

export interface SettlingChunk<C, S = undefined> {
  /** The chunk with its frame, when the client keeps frames until they settle (settleResend 'frames'). */
  readonly chunk: C | undefined;
  readonly id: string;
  readonly entries: number;
  /** clock.now() of its ack. */
  readonly ackedAt: number;
  /** What the client tells the sender of (at the ack and when it settled). */
  readonly span: S | undefined;
  resolve(): void;
  reject(err: Error): void;
}

export class SettleQueue<C, S = undefined> {
  private settling = new Map<string, SettlingChunk<C, S>>();
  private readonly timer: ClockTimer;

  constructor(
    private readonly clock: Clock,
    readonly settleMs: number,
    /** A chunk whose ack stood settleMs: delivered. */
    private readonly onSettled: (s: SettlingChunk<C, S>) => void,
    /** After each settle pass (the client checks whether it is idle). */
    private readonly afterSettle: () => void,
  ) {
    this.timer = new ClockTimer(clock);
  }

  get size(): number {
    return this.settling.size;
  }

  values(): IterableIterator<SettlingChunk<C, S>> {
    return this.settling.values();
  }

  /** A chunk just acked; `acked` hears of it (with the ack's clock.now()) before it can settle. */
  add(s: Omit<SettlingChunk<C, S>, 'ackedAt'>, acked?: (s: SettlingChunk<C, S>) => void): void {
    const entry = { ...s, ackedAt: this.clock.now() };
    this.settling.set(s.id, entry);
    acked?.(entry);
    if (this.settleMs === 0) this.settle();
    else if (!this.timer.armed) this.arm();
  }

  /** Takes every chunk out, oldest ack first: their connection closed within their settle time. */
  drain(): SettlingChunk<C, S>[] {
    this.timer.clear();
    const all = [...this.settling.values()];
    this.settling = new Map();
    return all;
  }

  clearTimer(): void {
    this.timer.clear();
  }

  private arm(): void {
    const oldest = this.settling.values().next().value as SettlingChunk<C, S> | undefined;
    if (!oldest) return;
    this.timer.arm(Math.max(0, oldest.ackedAt + this.settleMs - this.clock.now()), () => {
      this.settle();
      this.arm();
    });
  }

  private settle(): void {
    const now = this.clock.now();
    for (const [id, s] of this.settling) {
      if (s.ackedAt + this.settleMs > now) break;
      this.settling.delete(id);
      this.onSettled(s);
    }
    this.afterSettle();
  }
}
