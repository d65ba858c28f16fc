import { describe, expect, it } from 'vitest';
import { PageBufferPool } from '../../../input/di/page-buffers.js';

describe('PageBufferPool', () => {
  it('hands a released buffer out again for a page that fits, and a fresh one otherwise', () => {
    const pool = new PageBufferPool();
    const a = pool.acquire(1000);
    expect(a.length).toBe(1000);
    a.fill(1);
    pool.release(a);
    expect(pool.freeCount).toBe(1);
    const b = pool.acquire(1050); // within the headroom
    expect(b.buffer).toBe(a.buffer);
    expect(pool.freeCount).toBe(0);
    const c = pool.acquire(1000); // b is in use: c must not share its memory
    expect(c.buffer).not.toBe(b.buffer);
  });

  it("never takes back memory it did not allocate (e.g. a slice of Node's shared pool), nor twice", () => {
    const pool = new PageBufferPool();
    pool.release(Buffer.from('small, from the shared pool'));
    pool.release(Buffer.allocUnsafeSlow(100));
    expect(pool.freeCount).toBe(0);
    const a = pool.acquire(100);
    pool.release(a);
    pool.release(a);
    expect(pool.freeCount).toBe(1);
    const b = pool.acquire(100);
    const c = pool.acquire(100);
    expect(c.buffer).not.toBe(b.buffer);
  });

  it('drops a free buffer too small for the pages it sees, and keeps at most maxFree', () => {
    const pool = new PageBufferPool({ maxFree: 2 });
    const small = pool.acquire(10);
    pool.release(small);
    const big = pool.acquire(10_000);
    expect(big.buffer).not.toBe(small.buffer);
    expect(pool.freeCount).toBe(0); // the small one was let go
    const x = [pool.acquire(10), pool.acquire(10), pool.acquire(10)];
    for (const b of x) pool.release(b);
    expect(pool.freeCount).toBe(2);
  });

  it('does not pool bodies above maxBytes', () => {
    const pool = new PageBufferPool({ maxBytes: 100 });
    const a = pool.acquire(200);
    pool.release(a);
    expect(pool.freeCount).toBe(0);
  });
});
