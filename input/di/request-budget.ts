// The global request budget (--max-requests-per-second): every DI request takes a turn here before it goes out.
// No window of one second ever holds more than `rate` turns (a sliding log of the last `rate` turns), and turns
// are paced 1/rate apart rather than handed out a second's worth at once: bursts of `rate` requests each second,
// sent as fast as the code resumes, reached the API as 60+ in one second. A late timer on a busy machine is made
// up (up to MAX_CATCH_UP_MS of turns at once, never more than the budget in a second), so the average is the
// budget. Turns are handed out round-robin over the waiting stream keys, so a stream with many requests queued (a
// backfill's slices)
// gets the same share as one with a single request, and no stream waits behind more than one turn of each other
// stream. A 429 pauses every stream (Retry-After when the API sends one), not just the request that got it.
//
// Our own ~100 lines rather than bottleneck or p-queue: neither hands turns out round-robin by key over one
// shared rate (bottleneck's Group is one limiter per key; p-queue has priorities, not fairness), and both time
// with the wall clock, where the engine's tests and demo run on an accelerated one (clock.ts).
import type { Clock } from '../types.js';

/** Requests a stream makes per poll at the least: one page and one count. */
export const MIN_REQUESTS_PER_POLL = 2;

/**
 * How often each of `streams` streams gets polled: every interval, or less often when the budget cannot serve them all.
 */
export function effectivePollIntervalMs(intervalMs: number, streams: number, perSecond: number | undefined): number {
  if (!perSecond || perSecond <= 0) return intervalMs;
  return Math.max(intervalMs, (streams * MIN_REQUESTS_PER_POLL * 1000) / perSecond);
}

interface Waiter {
  readonly resolve: () => void;
  readonly reject: (err: unknown) => void;
  readonly signal?: AbortSignal;
  readonly onAbort?: () => void;
  done: boolean;
}

/** Turns a late timer may make up at once, in ms of the pace (also the burst after an idle spell). */
const MAX_CATCH_UP_MS = 250;

/** Pause after a 429 without Retry-After: 1 s, doubling while they keep coming, at most 1 min. */
const THROTTLE_BASE_MS = 1_000;
const THROTTLE_MAX_MS = 60_000;

export class RequestBudget {
  /** Waiters per key; the Map's order is the round-robin ring (a served key moves to the end). */
  private readonly queues = new Map<string, Waiter[]>();
  /** Turns per window, and the window (1 s for a whole rate): `capacity` 0 is no limit. */
  private readonly capacity: number;
  private readonly windowMs: number;
  /** Times of the last `capacity` turns, a ring; `head` is the oldest. */
  private readonly turns: Float64Array;
  private head = 0;
  /** The pace: ms between turns, and when the next one is due (it lags the clock by MAX_CATCH_UP_MS at most). */
  private readonly spacingMs: number;
  private nextDue = -Infinity;
  private pausedUntil = -Infinity;
  private throttles = 0;
  private pumping = false;
  /** Ends the pump's sleep when every waiter has gone (aborted), so a long pause holds no timer. */
  private wake?: AbortController;

  /** `perSecond` 0 or Infinity: no rate limit (a 429 still pauses everyone). */
  constructor(
    readonly perSecond: number,
    private readonly clock: Clock,
  ) {
    if (!(perSecond >= 0)) throw new RangeError(`request budget ${perSecond}/s must be 0 (none) or more`);
    this.capacity = perSecond > 0 && Number.isFinite(perSecond) ? Math.max(1, Math.floor(perSecond)) : 0;
    this.windowMs = this.capacity > 0 ? (this.capacity * 1000) / perSecond : 0;
    this.turns = new Float64Array(this.capacity).fill(-Infinity);
    this.spacingMs = this.capacity > 0 ? this.windowMs / this.capacity : 0;
  }

  /** Requests waiting for a turn. */
  get waiting(): number {
    let n = 0;
    for (const q of this.queues.values()) n += q.length;
    return n;
  }

  /** Resolves when `key` may send one request; rejects with the signal's reason when it aborts first. */
  take(key: string, signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    if (this.queues.size === 0 && this.readyIn() <= 0) {
      this.grant(false);
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const w: Waiter = {
        resolve,
        reject,
        signal,
        done: false,
        ...(signal ? { onAbort: () => this.cancel(key, w) } : {}),
      };
      if (signal) signal.addEventListener('abort', w.onAbort!, { once: true });
      const q = this.queues.get(key);
      if (q) q.push(w);
      else this.queues.set(key, [w]);
      void this.pump();
    });
  }

  /**
   * The API said 429 (or 503 with Retry-After): no stream sends anything for `retryAfterMs`, or, without it, for
   * a pause that doubles while 429s keep coming. Returns the pause now in force (ms from now).
   */
  throttled(retryAfterMs: number | undefined): number {
    const ms = retryAfterMs ?? Math.min(THROTTLE_MAX_MS, THROTTLE_BASE_MS * 2 ** Math.min(this.throttles, 16));
    this.throttles++;
    this.pausedUntil = Math.max(this.pausedUntil, this.clock.now() + ms);
    return this.pausedUntil - this.clock.now();
  }

  /** A request succeeded: the next 429 without Retry-After pauses from the base again. */
  succeeded(): void {
    this.throttles = 0;
  }

  private readyIn(): number {
    const free = this.capacity === 0 ? -Infinity : Math.max(this.turns[this.head]! + this.windowMs, this.nextDue);
    return Math.max(free, this.pausedUntil) - this.clock.now();
  }

  /** `makeUp`: a waiter's turn (a late timer may have kept it); false: the budget was idle, nothing to make up. */
  private grant(makeUp: boolean): void {
    if (this.capacity === 0) return;
    const now = this.clock.now();
    const freedAt = this.turns[this.head]! + this.windowMs;
    this.turns[this.head] = now;
    this.head = (this.head + 1) % this.capacity;
    // Behind the pace because a timer fired late: up to MAX_CATCH_UP_MS of turns are made up now. Held back by the
    // log instead (by turns made up a second ago), or idle: none are, so no burst comes back every second.
    const base = !makeUp || freedAt >= this.nextDue ? now : Math.max(this.nextDue, now - MAX_CATCH_UP_MS);
    this.nextDue = base + this.spacingMs;
  }

  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (this.queues.size > 0) {
        const wait = this.readyIn();
        if (wait > 0) {
          const pause = this.pausedUntil;
          const wake = (this.wake = new AbortController());
          const before = this.clock.now();
          await this.clock.sleep(wait, wake.signal);
          // A clock that moved is read again: Node's timers count from the event loop's cached time, which a busy
          // loop leaves tens of ms behind, so they fire early by the clock, and trusting the sleep let more than the
          // budget through in a second. A clock that stood still through the sleep (a test's manual clock): the
          // sleep was the wait, so unless a new 429 came meanwhile, the next turn is due.
          if (!wake.signal.aborted && this.pausedUntil === pause && this.clock.now() === before) {
            this.pausedUntil = -Infinity;
            if (this.capacity > 0) {
              this.turns[this.head] = Math.min(this.turns[this.head]!, this.clock.now() - this.windowMs);
              this.nextDue = Math.min(this.nextDue, this.clock.now());
            }
          }
          continue;
        }
        const [key, q] = this.queues.entries().next().value as [string, Waiter[]];
        const w = q.shift()!;
        this.queues.delete(key);
        if (q.length > 0) this.queues.set(key, q); // to the end of the ring
        if (w.done) continue;
        w.done = true;
        if (w.onAbort) w.signal!.removeEventListener('abort', w.onAbort);
        this.grant(true);
        w.resolve();
      }
    } finally {
      this.pumping = false;
    }
  }

  private cancel(key: string, w: Waiter): void {
    if (w.done) return;
    w.done = true;
    const q = this.queues.get(key);
    if (q) {
      const i = q.indexOf(w);
      if (i >= 0) q.splice(i, 1);
      if (q.length === 0) this.queues.delete(key);
    }
    if (this.queues.size === 0) this.wake?.abort();
    w.reject(w.signal!.reason);
  }
}
