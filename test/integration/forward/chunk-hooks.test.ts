// Per-chunk ack and settle hooks (SendOptions.onChunkAcked / onChunkSettled): what the collector journals per chunk.
import { afterEach, describe, expect, it } from 'vitest';
import { createForwardClient } from '../../../input/forward/index.js';
import { drive, settled, standingClock } from '../../support/clock.js';
import { startForwardReceiver } from '../../support/forward-receiver.js';
import { makeEntries } from './helpers.js';

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('per-chunk hooks', () => {
  it("report each chunk's entry range at its ack and again when the ack settled, covering the send in order", async () => {
    const rx = await startForwardReceiver({});
    cleanups.push(() => rx.close());
    const client = createForwardClient({
      target: { kind: 'tcp', host: '127.0.0.1', port: rx.port! },
      maxChunkBytes: 4096,
      settleMs: 150,
      settleResend: 'caller',
    });
    cleanups.push(() => client.close(1000));
    const entries = makeEntries(300);
    const acked: Array<[number, number, number]> = [];
    const settled: Array<[number, number, number]> = [];
    await client.send('t', entries, {
      onChunkAcked: (from, to, at) => acked.push([from, to, at]),
      onChunkSettled: (from, to) => settled.push([from, to, Date.now()]),
    });
    expect(acked.length).toBeGreaterThan(2);
    // Contiguous ranges from 0 to the last entry, in send order, each settled at least settleMs after its ack.
    expect(acked.map(([f, t]) => [f, t])).toEqual(settled.map(([f, t]) => [f, t]));
    expect(acked[0]![0]).toBe(0);
    expect(acked.at(-1)![1]).toBe(300);
    for (let i = 1; i < acked.length; i++) expect(acked[i]![0]).toBe(acked[i - 1]![1]);
    settled.forEach(([, , at], i) => expect(at - acked[i]![2]).toBeGreaterThanOrEqual(140));
    expect(rx.stats.acks).toBe(acked.length);
  });

  it('a connection closed within the settle time: no settle hook for the unsettled chunks, the send rejects', async () => {
    const rx = await startForwardReceiver({ commitEveryMs: 250 });
    cleanups.push(() => rx.close());
    // On a clock that stands still unless the test moves it: no ack settles by itself, and 2.3 s pass at once.
    const clock = standingClock(Date.parse('2026-03-01T12:00:00Z'));
    const client = createForwardClient({
      target: { kind: 'tcp', host: '127.0.0.1', port: rx.port! },
      maxChunkBytes: 4096,
      settleMs: 2000,
      settleResend: 'caller',
      backoff: { baseMs: 20, maxMs: 100 },
      clock,
    });
    cleanups.push(() => drive(clock, client.close(1000)));
    // The crash comes inside the first ack's hook, so no timer delay on a loaded machine lets that chunk settle
    // first. Chunks acked later (resent on the next connection) may settle; the ones acked before the crash may not.
    const ackedBeforeCrash: number[] = [];
    const settledFrom: number[] = [];
    let crashed = false;
    const p = client.send('t', makeEntries(100), {
      onChunkAcked: (from) => {
        if (crashed) return;
        ackedBeforeCrash.push(from);
        crashed = true;
        rx.crash();
      },
      onChunkSettled: (from) => settledFrom.push(from),
    });
    // Small steps: the reconnect's backoff passes, never the chunk's settle time before its connection's close is read.
    await expect(drive(clock, p, 5)).rejects.toMatchObject({ name: 'ForwardUnsettledError' });
    expect(ackedBeforeCrash).toEqual([0]);
    // Past the settle time, so a settle hook for the chunk acked before the crash would have run by now.
    clock.advance(2300);
    await settled();
    expect(settledFrom).not.toContain(0);
  });
});
