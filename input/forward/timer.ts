// A one-shot timer on the injected clock (a sleep that can be called off), so that every wait of the forward
// client runs on the same clock as its time reads: a fake clock in a test drives settle, ack and delivery timing.
import type { Clock } from '../types.js';

export class ClockTimer {
  private pending: AbortController | undefined;

  constructor(private readonly clock: Clock) {}

  /** Waiting to fire. */
  get armed(): boolean {
    return this.pending !== undefined;
  }

  /** Calls `fire` after `ms` on the clock; replaces a timer already armed. */
  arm(ms: number, fire: () => void): void {
    this.clear();
    const pending = new AbortController();
    this.pending = pending;
    void this.clock.sleep(ms, pending.signal).then(() => {
      if (this.pending !== pending) return; // cleared or re-armed meanwhile
      this.pending = undefined;
      fire();
    });
  }

  clear(): void {
    this.pending?.abort();
    this.pending = undefined;
  }
}
