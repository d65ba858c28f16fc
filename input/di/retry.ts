// When and how long to wait before repeating a request. The collector must not lose data, so transient faults
// are retried without a limit by default, with exponential backoff and full jitter capped at `maxDelayMs`
// (../backoff.ts); a server's Retry-After wins over the backoff.
import { backoffDelay } from '../backoff.js';
import type { Clock } from '../types.js';
import { DiRetriesExhaustedError, DiTransientError } from './errors.js';

export interface RetryPolicy {
  /** Attempts per request, the first included. Default Infinity: keep trying (each retry is logged and counted). */
  readonly maxAttempts: number;
  /** Backoff of the first retry before jitter. Default 1 s. */
  readonly baseDelayMs: number;
  /** Ceiling of the backoff. Default 5 min. */
  readonly maxDelayMs: number;
  /** Ceiling of a server's Retry-After, so a bogus value cannot park a stream for days. Default 1 h. */
  readonly maxRetryAfterMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxAttempts: Infinity,
  baseDelayMs: 1_000,
  maxDelayMs: 300_000,
  maxRetryAfterMs: 3_600_000,
};

/**
 * Retry-After as ms to wait: delta-seconds (`120`) or an HTTP date, relative to `nowMs`.
 * Undefined when absent or unparsable (the caller then backs off on its own).
 */
export function parseRetryAfter(value: string | string[] | undefined, nowMs: number): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (v === undefined) return undefined;
  const t = v.trim();
  if (/^\d+$/.test(t)) return Number(t) * 1000;
  if (!/[a-z]/i.test(t)) return undefined;
  const at = Date.parse(t);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - nowMs);
}

/** The delay before retry number `retry` (0-based) after `error`. */
export function retryDelay(error: DiTransientError, retry: number, policy: RetryPolicy, random?: () => number): number {
  if (error.retryAfterMs !== undefined) return Math.min(error.retryAfterMs, policy.maxRetryAfterMs);
  return backoffDelay(retry, { baseMs: policy.baseDelayMs, maxMs: policy.maxDelayMs, jitter: 'full' }, random);
}

export interface RetryContext {
  readonly policy: RetryPolicy;
  readonly clock: Clock;
  readonly signal?: AbortSignal;
  readonly random?: () => number;
  /** Called before each wait. */
  readonly onRetry?: (error: DiTransientError, delayMs: number, attempt: number) => void;
}

/**
 * Runs `attempt` until it succeeds or throws something other than DiTransientError.
 * Throws DiRetriesExhaustedError after `maxAttempts`, and the signal's reason when aborted while waiting.
 */
export async function withRetries<T>(ctx: RetryContext, attempt: (n: number) => Promise<T>): Promise<T> {
  for (let n = 1; ; n++) {
    ctx.signal?.throwIfAborted();
    try {
      return await attempt(n);
    } catch (err) {
      if (ctx.signal?.aborted) throw ctx.signal.reason ?? err;
      if (!(err instanceof DiTransientError)) throw err;
      if (n >= ctx.policy.maxAttempts) throw new DiRetriesExhaustedError(n, err);
      const delay = retryDelay(err, n - 1, ctx.policy, ctx.random);
      ctx.onRetry?.(err, delay, n);
      await ctx.clock.sleep(delay, ctx.signal);
      ctx.signal?.throwIfAborted();
    }
  }
}
