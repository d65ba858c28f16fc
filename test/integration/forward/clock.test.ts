// The forward client reads and waits for time only through its injected clock: with a clock that stands still,
// an ack never settles and a delivery timeout never fires, however long the test waits; moving the clock does both.
import { afterEach, describe, expect, it } from 'vitest';
import { createForwardClient } from '../../../input/forward/index.js';
import { standingClock } from '../../support/clock.js';
import { startForwardReceiver, type ForwardReceiver } from '../../support/forward-receiver.js';
import { makeEntries } from './helpers.js';

const tick = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(): Promise<ForwardReceiver> {
  const receiver = await startForwardReceiver();
  cleanups.push(() => receiver.close());
  return receiver;
}

describe('forward client timing runs on the injected clock', () => {
  it('an ack settles when the clock has moved settleMs past it, not when wall time has', async () => {
    const receiver = await setup();
    const clock = standingClock(Date.parse('2026-01-01T00:00:00Z'));
    const acks: number[] = [];
    const client = createForwardClient({
      target: { kind: 'tcp', host: '127.0.0.1', port: receiver.port! },
      settleMs: 500,
      clock,
      hooks: { onAck: ({ entries }) => acks.push(entries) },
    });
    cleanups.push(() => client.close(0));
    let settled = false;
    const sent = client.send('t', makeEntries(20)).then(() => {
      settled = true;
    });
    while (receiver.records.length < 20) await tick(5);
    await tick(800); // more wall time than settleMs: the ack is in, but the clock has not moved
    expect(settled).toBe(false);
    expect(acks).toEqual([]);
    clock.advance(499);
    await tick(20);
    expect(settled).toBe(false);
    clock.advance(1);
    await sent;
    expect(acks).toEqual([20]);
    expect(await client.close(1000)).toBe(true);
  });

  it('the delivery timeout counts clock time: a withheld ack fails the send only once the clock passes it', async () => {
    const receiver = await setup();
    receiver.withholdNext(1);
    const clock = standingClock(Date.parse('2026-01-01T00:00:00Z'));
    const client = createForwardClient({
      target: { kind: 'tcp', host: '127.0.0.1', port: receiver.port! },
      settleMs: 0,
      clock,
      deliveryTimeoutMs: 5_000,
      ackTimeoutMs: 60_000,
    });
    cleanups.push(() => client.close(0));
    let failure: unknown;
    const sent = client.send('t', makeEntries(5)).catch((err: unknown) => {
      failure = err;
    });
    await tick(300);
    expect(failure).toBeUndefined();
    clock.advance(4_999);
    await tick(20);
    expect(failure).toBeUndefined();
    clock.advance(1);
    await sent;
    expect((failure as { code?: string }).code).toBe('FORWARD_DELIVERY_TIMEOUT');
    expect(receiver.records).toHaveLength(0);
  });
});
