import { describe, expect, it } from 'vitest';
import { DiFatalError, DiRetriesExhaustedError, DiTransientError } from '../../../input/di/errors.js';
import { backoffDelay } from '../../../input/backoff.js';
import { DEFAULT_RETRY_POLICY, parseRetryAfter, retryDelay, withRetries } from '../../../input/di/retry.js';
import { manualClock } from '../../support/simulator.js';

describe('parseRetryAfter', () => {
  const now = Date.UTC(2026, 0, 1, 12, 0, 0);
  it('reads delta-seconds', () => {
    expect(parseRetryAfter('120', now)).toBe(120_000);
    expect(parseRetryAfter(' 0 ', now)).toBe(0);
    expect(parseRetryAfter(['7', '9'], now)).toBe(7_000);
  });
  it('reads an HTTP date relative to now, never negative', () => {
    expect(parseRetryAfter(new Date(now + 30_000).toUTCString(), now)).toBe(30_000);
    expect(parseRetryAfter(new Date(now - 30_000).toUTCString(), now)).toBe(0);
  });
  it('ignores absent or unparsable values', () => {
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter('-5', now)).toBeUndefined();
    expect(parseRetryAfter('1.5', now)).toBeUndefined();
  });
});

describe('backoff', () => {
  it('stays within [0, min(max, base·2^n)] with full jitter', () => {
    const p = { baseMs: 100, maxMs: 1000, jitter: 'full' } as const;
    expect(backoffDelay(0, p, () => 0.999)).toBe(99);
    expect(backoffDelay(3, p, () => 0.5)).toBe(400);
    expect(backoffDelay(60, p, () => 0.999)).toBe(999);
    expect(backoffDelay(5, p, () => 0)).toBe(0);
    // The DI client's policy is that backoff, with its own names.
    const policy = { ...DEFAULT_RETRY_POLICY, baseDelayMs: 100, maxDelayMs: 1000 };
    expect(retryDelay(new DiTransientError('x', 'reset'), 3, policy, () => 0.5)).toBe(400);
  });
  it('prefers the server Retry-After, capped', () => {
    const p = { ...DEFAULT_RETRY_POLICY, maxRetryAfterMs: 10_000 };
    expect(retryDelay(new DiTransientError('x', 'http_429', 429, 3_000), 9, p)).toBe(3_000);
    expect(retryDelay(new DiTransientError('x', 'http_429', 429, 99_000), 0, p)).toBe(10_000);
  });
});

describe('withRetries', () => {
  it('retries transient faults, waiting on the clock, then succeeds', async () => {
    const clock = manualClock(0);
    let calls = 0;
    const seen: number[] = [];
    const result = await withRetries(
      {
        policy: { ...DEFAULT_RETRY_POLICY, baseDelayMs: 1000 },
        clock,
        random: () => 0.5,
        onRetry: (_e, d) => seen.push(d),
      },
      async () => {
        calls++;
        if (calls < 4) throw new DiTransientError('boom', 'http_500', 500);
        return 'ok';
      },
    );
    expect(result).toBe('ok');
    expect(seen).toEqual([500, 1000, 2000]);
    expect(clock.sleeps).toEqual(seen);
  });
  it('throws non-transient errors at once', async () => {
    let calls = 0;
    await expect(
      withRetries({ policy: DEFAULT_RETRY_POLICY, clock: manualClock(0) }, async () => {
        calls++;
        throw new DiFatalError('no', 401);
      }),
    ).rejects.toBeInstanceOf(DiFatalError);
    expect(calls).toBe(1);
  });
  it('gives up after maxAttempts with the last fault', async () => {
    const err = await withRetries(
      { policy: { ...DEFAULT_RETRY_POLICY, maxAttempts: 3 }, clock: manualClock(0) },
      async () => {
        throw new DiTransientError('down', 'http_503', 503);
      },
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DiRetriesExhaustedError);
    expect((err as DiRetriesExhaustedError).attempts).toBe(3);
    expect((err as DiRetriesExhaustedError).lastError.reason).toBe('http_503');
  });
  it('stops waiting when aborted', async () => {
    const ac = new AbortController();
    const clock = {
      now: () => 0,
      sleep: (_ms: number, signal?: AbortSignal) =>
        new Promise<void>((r) => signal?.addEventListener('abort', () => r())),
    };
    const p = withRetries({ policy: DEFAULT_RETRY_POLICY, clock, signal: ac.signal }, async () => {
      throw new DiTransientError('down', 'http_503', 503);
    });
    setTimeout(() => ac.abort(new Error('stopping')), 20);
    await expect(p).rejects.toThrow('stopping');
  });
});
