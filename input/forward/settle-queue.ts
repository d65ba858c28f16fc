// Acked chunks while their ack settles: an ack counts once it has stood `settleMs` on an open connection (Fluent
// Bit's threaded input acks records still in memory). Settled in ack order, on the injected clock; a connection
// that closes first takes the whole queue back (drain) to be sent again.
import type { Clock } from '../types.js';
import { ClockTimer } from './timer.js';

export interface SettlingChunk<C> {
  /** The chunk with its frame, when the client keeps frames until they settle (settleResend 'frames'). */
  readonly chunk: C | undefined;
  readonly id: string;
  readonly entries: number;
  /** clock.now() of its ack. */
  readonly ackedAt: number;
  resolve(): void;
  reject(err: Error): void;
}

export class SettleQueue<C> {
  private settling = new Map<string, SettlingChunk<C>>();
  private readonly timer: ClockTimer;

  constructor(
    private readonly clock: Clock,
    readonly settleMs: number,
    /** A chunk whose ack stood settleMs: delivered. */
    private readonly onSettled: (s: SettlingChunk<C>) => void,
    /** After each settle pass (the client checks whether it is idle). */
    private readonly afterSettle: () => void,
  ) {
    this.timer = new ClockTimer(clock);
  }

  get size(): number {
    return this.settling.size;
  }

  values(): IterableIterator<SettlingChunk<C>> {
    return this.settling.values();
  }

  /** A chunk just acked. */
  add(s: Omit<SettlingChunk<C>, 'ackedAt'>): void {
    this.settling.set(s.id, { ...s, ackedAt: this.clock.now() });
    if (this.settleMs === 0) this.settle();
    else if (!this.timer.armed) this.arm();
  }

  /** Takes every chunk out, oldest ack first: their connection closed within their settle time. */
  drain(): SettlingChunk<C>[] {
    this.timer.clear();
    const all = [...this.settling.values()];
    this.settling = new Map();
    return all;
  }

  clearTimer(): void {
    this.timer.clear();
  }

  private arm(): void {
    const oldest = this.settling.values().next().value as SettlingChunk<C> | undefined;
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
