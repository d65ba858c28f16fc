// Seeded fault injection for the simulator: which request fails, and how.
import { prng, type Rng } from './render.js';

export const FAULT_KINDS = [
  '429',
  '429-retry-after',
  '503',
  '500',
  'reset',
  'timeout',
  'truncated',
  'not-array',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export interface FaultOptions {
  /** Probability that a request to /events or /events/count fails, 0..1. */
  readonly rate: number;
  /** Kinds drawn from, uniformly; default all. */
  readonly kinds?: readonly FaultKind[];
  readonly seed?: number;
}

export function isFaultKind(s: string): s is FaultKind {
  return (FAULT_KINDS as readonly string[]).includes(s);
}

export class FaultPlan {
  private rate: number;
  private readonly kinds: readonly FaultKind[];
  private readonly rng: Rng;
  private readonly queued: FaultKind[] = [];

  constructor(opts: FaultOptions | undefined, seed: number) {
    this.rate = opts?.rate ?? 0;
    this.kinds = opts?.kinds?.length ? opts.kinds : FAULT_KINDS;
    this.rng = prng(opts?.seed ?? seed ^ 0xfa017);
    for (const k of this.kinds)
      if (!isFaultKind(k)) throw new Error(`unknown fault kind "${k}": use ${FAULT_KINDS.join(', ')}`);
    if (!(this.rate >= 0 && this.rate <= 1)) throw new Error(`fault rate ${this.rate} must be between 0 and 1`);
  }

  setRate(rate: number): void {
    this.rate = rate;
  }

  /** Makes the next `times` requests fail with `kind`, ahead of the random ones. */
  queue(kind: FaultKind, times: number): void {
    for (let i = 0; i < times; i++) this.queued.push(kind);
  }

  /** The fault of the next request, if any. */
  next(): FaultKind | undefined {
    const q = this.queued.shift();
    if (q) return q;
    if (this.rate > 0 && this.rng() < this.rate) return this.kinds[Math.floor(this.rng() * this.kinds.length)]!;
    return undefined;
  }

  /** A seeded coin for choices within a fault (Retry-After form, truncation style). */
  coin(): boolean {
    return this.rng() < 0.5;
  }
}
