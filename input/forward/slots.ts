// The in-flight bound: at most `max` chunks sent and not yet acked. acquire() waits at the bound; waiters are
// served in arrival order.
export class InFlightSlots {
  private used = 0;
  private readonly waiters: Array<{ resolve(): void; reject(e: Error): void }> = [];

  constructor(private readonly max: number) {}

  acquire(): Promise<void> {
    if (this.used < this.max && this.waiters.length === 0) {
      this.used++;
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  release(): void {
    this.used--;
    while (this.used < this.max && this.waiters.length > 0) {
      this.used++;
      this.waiters.shift()!.resolve();
    }
  }

  /** A chunk back in flight (its ack did not settle): may briefly exceed the bound. */
  retake(): void {
    this.used++;
  }

  /** Every chunk failed: no slot is taken any more. */
  reset(): void {
    this.used = 0;
  }

  rejectWaiters(err: Error): void {
    for (const w of this.waiters.splice(0)) w.reject(err);
  }
}
