// The forward client under the faults Fluent Bit and networks produce: dropped connections, withheld acks,
// acks lost after the records were stored, pauses, slow acks, big batches and close() with work in flight.
import { afterEach, describe, expect, it } from 'vitest';
import {
  createForwardClient,
  ForwardDeliveryTimeoutError,
  ForwardUnsettledError,
  type ForwardClientOptions,
} from '../../../input/forward/index.js';
import type { ForwardClient } from '../../../input/types.js';
import {
  startForwardReceiver,
  type ForwardReceiver,
  type ForwardReceiverOptions,
} from '../../support/forward-receiver.js';
import { countIds, idsOf, makeEntries } from './helpers.js';

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(
  rOpts: ForwardReceiverOptions = {},
  cOpts: Partial<ForwardClientOptions> = {},
): Promise<{ receiver: ForwardReceiver; client: ForwardClient; reconnects: string[] }> {
  const receiver = await startForwardReceiver(rOpts);
  cleanups.push(() => receiver.close());
  const reconnects: string[] = [];
  const client = createForwardClient({
    target: { kind: 'tcp', host: '127.0.0.1', port: receiver.port! },
    backoff: { baseMs: 5, maxMs: 50 },
    hooks: { onReconnect: (i) => reconnects.push(i.error ?? '') },
    // These tests model an input whose ack means stored; the settle time has its own test below.
    settleMs: 0,
    ...cOpts,
  });
  cleanups.push(() => client.close(500));
  return { receiver, client, reconnects };
}

/** Sends `batches` batches of `perBatch` entries, `parallel` sends at a time, like backfill slices do. */
async function sendAll(
  client: ForwardClient,
  batches: number,
  perBatch: number,
  parallel = 3,
  size = 300,
): Promise<string[]> {
  const all: string[] = [];
  let next = 0;
  const worker = async (w: number): Promise<void> => {
    while (next < batches) {
      const b = next++;
      const entries = makeEntries(perBatch, { start: b * perBatch, size, prefix: 'e' });
      all.push(...idsOf(entries));
      await client.send(`jumpcloud.s${w}`, entries);
    }
  };
  await Promise.all(Array.from({ length: parallel }, (_, w) => worker(w)));
  return all;
}

function expectExactlyOnce(received: readonly string[], sent: readonly string[]): void {
  const counts = countIds(received);
  const missing = sent.filter((id) => !counts.has(id));
  const dup = [...counts].filter(([, n]) => n > 1).map(([id]) => id);
  expect({ missing: missing.slice(0, 5), missingCount: missing.length, duplicates: dup.slice(0, 5) }).toEqual({
    missing: [],
    missingCount: 0,
    duplicates: [],
  });
  expect(received.length).toBe(sent.length);
}

/** Waits until `cond` holds (the receiver runs in real time), failing after 10 s. */
async function until(cond: () => boolean): Promise<void> {
  for (const deadline = Date.now() + 10_000; !cond(); await new Promise((r) => setTimeout(r, 2))) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
  }
}

describe('forward client faults', () => {
  it('connections dropped before storing (10% of frames): every entry arrives exactly once', async () => {
    const { receiver, client, reconnects } = await setup(
      { seed: 7, faults: { dropProbability: 0.1 } },
      { maxChunkBytes: 8_000, maxInFlight: 4 },
    );
    const sent = await sendAll(client, 40, 100);
    expectExactlyOnce(receiver.ids(), sent);
    expect(receiver.stats.drops).toBeGreaterThan(5);
    expect(reconnects.length).toBeGreaterThan(0);
    expect(await client.close(2000)).toBe(true);
  });

  it('acks withheld without storing (10% of chunks): ack timeout, reconnect, resend; exactly once', async () => {
    const { receiver, client } = await setup(
      { seed: 11, faults: { withholdProbability: 0.1 } },
      { maxChunkBytes: 8_000, maxInFlight: 4, ackTimeoutMs: 250 },
    );
    const sent = await sendAll(client, 20, 100);
    expectExactlyOnce(receiver.ids(), sent);
    expect(receiver.stats.withheld).toBeGreaterThan(2);
  });

  it('acks lost after storing: no loss, duplicates equal exactly the entries of the chunks whose acks were lost', async () => {
    const { receiver, client } = await setup(
      { seed: 3, faults: { loseAckProbability: 0.1 } },
      { maxChunkBytes: 8_000, maxInFlight: 4 },
    );
    const sent = await sendAll(client, 30, 100);
    const counts = countIds(receiver.ids());
    expect(sent.filter((id) => !counts.has(id))).toEqual([]);
    const duplicates = [...counts.values()].reduce((n, c) => n + c - 1, 0);
    expect(receiver.stats.lostAckChunks).toBeGreaterThan(2);
    expect(duplicates).toBe(receiver.stats.lostAckEntries);
    expect(receiver.records.length).toBe(sent.length + receiver.stats.lostAckEntries);
  });

  it('all faults at once plus slow acks: nothing lost, duplicates only from lost acks', async () => {
    const { receiver, client } = await setup(
      {
        seed: 99,
        faults: { dropProbability: 0.05, withholdProbability: 0.05, loseAckProbability: 0.05, ackDelayMs: 5 },
      },
      { maxChunkBytes: 6_000, maxInFlight: 6, ackTimeoutMs: 250 },
    );
    const sent = await sendAll(client, 30, 100, 4);
    const counts = countIds(receiver.ids());
    expect(sent.filter((id) => !counts.has(id))).toEqual([]);
    expect([...counts.values()].reduce((n, c) => n + c - 1, 0)).toBe(receiver.stats.lostAckEntries);
  });

  it('Fluent Bit pausing (closes everything, refuses connections): keeps retrying, then delivers everything', async () => {
    const { receiver, client, reconnects } = await setup({}, { maxChunkBytes: 8_000 });
    receiver.pause();
    const sending = sendAll(client, 5, 100, 1);
    await until(() => receiver.stats.refused > 2);
    expect(receiver.records).toHaveLength(0);
    receiver.resume();
    const sent = await sending;
    expectExactlyOnce(receiver.ids(), sent);
    expect(reconnects.length).toBeGreaterThan(2);
    expect(reconnects.every((e) => /127\.0\.0\.1:\d+/.test(e))).toBe(true);
  });

  it(
    'deliveryTimeoutMs: Fluent Bit never reachable → every send rejects with what to check, close() reports not ' +
      'delivered',
    async () => {
      const { receiver, client } = await setup({}, { deliveryTimeoutMs: 400 });
      receiver.pause(); // refuses every connection
      const t0 = Date.now();
      const sends = [client.send('t', makeEntries(30)), client.send('t', makeEntries(30, { start: 30 }))];
      const results = await Promise.allSettled(sends);
      const waited = Date.now() - t0;
      for (const r of results) {
        expect(r.status).toBe('rejected');
        const err = (r as PromiseRejectedResult).reason as Error;
        expect(err).toBeInstanceOf(ForwardDeliveryTimeoutError);
        expect(err.message).toMatch(/acknowledged nothing for 400 ms while \d+ chunk\(s\) \(60 entries\) waited/);
        expect(err.message).toMatch(/last error: .*127\.0\.0\.1/);
        expect(err.message).toMatch(/--forward.*--delivery-timeout/);
      }
      expect(waited).toBeGreaterThanOrEqual(380);
      expect(waited).toBeLessThan(5_000);
      await expect(client.send('t', makeEntries(1))).rejects.toBeInstanceOf(ForwardDeliveryTimeoutError);
      expect(await client.close(100)).toBe(false);
      expect(receiver.records).toHaveLength(0);
    },
  );

  it('deliveryTimeoutMs counts from the last ack: slow but steady acks over a longer run never trip it', async () => {
    const { receiver, client } = await setup(
      { faults: { ackDelayMs: 60 } },
      { deliveryTimeoutMs: 300, maxChunkBytes: 4_000, maxInFlight: 2 },
    );
    const t0 = Date.now();
    const sent = await sendAll(client, 12, 40, 1);
    expect(Date.now() - t0).toBeGreaterThan(600); // well past the timeout in total
    expectExactlyOnce(receiver.ids(), sent);
    expect(await client.close(1000)).toBe(true);
  });

  it('reconnects after the server closes every connection mid-stream', async () => {
    const { receiver, client } = await setup({ faults: { ackDelayMs: 20 } }, { maxChunkBytes: 4_000 });
    const sending = sendAll(client, 20, 50, 2);
    await receiver.waitForRecords(100);
    receiver.closeAll();
    const sent = await sending;
    const counts = countIds(receiver.ids());
    expect(sent.filter((id) => !counts.has(id))).toEqual([]);
    expect([...counts.values()].reduce((n, c) => n + c - 1, 0)).toBe(receiver.stats.lostAckEntries);
  });

  it('bounds in-flight chunks: never more than maxInFlight unacked, and send() waits at the bound', async () => {
    const { receiver, client } = await setup({ faults: { ackDelayMs: 60 } }, { maxChunkBytes: 2_000, maxInFlight: 3 });
    const entries = makeEntries(120, { size: 400 }); // ~24 chunks
    const t0 = Date.now();
    await client.send('t', entries);
    const elapsed = Date.now() - t0;
    expect(receiver.stats.maxPendingAcks).toBe(3);
    expect(receiver.stats.frames).toBeGreaterThan(20);
    // 24 chunks, 3 at a time, 60 ms each: at least 7 rounds of waiting
    expect(elapsed).toBeGreaterThanOrEqual(60 * 7);
    expect(receiver.ids()).toEqual(idsOf(entries));
  });

  it('splits a large batch into frames well below buffer_max_size (30 MB of 1.5 KB events)', async () => {
    const { receiver, client } = await setup({}, {});
    const entries = makeEntries(20_000, { size: 1500 });
    await client.send('t', entries);
    expect(receiver.records).toHaveLength(20_000);
    expect(receiver.stats.maxFrameBytes).toBeLessThanOrEqual(1_000_000 + 2_000);
    expect(receiver.stats.maxFrameBytes).toBeGreaterThan(900_000);
    expect(receiver.stats.frames).toBeGreaterThanOrEqual(30);
    expect(receiver.protocolErrors).toEqual([]);
  });

  it('a receiver with a small buffer_max_size closes on oversize frames; a matching maxChunkBytes fixes it', async () => {
    const { receiver, client } = await setup({ bufferMaxSize: 50_000 }, { maxChunkBytes: 40_000 });
    await client.send('t', makeEntries(500, { size: 1000 }));
    expect(receiver.records).toHaveLength(500);
    expect(receiver.stats.maxFrameBytes).toBeLessThanOrEqual(50_000);
  });

  it('close() waits for in-flight acks and resolves true', async () => {
    const { receiver, client } = await setup({ faults: { ackDelayMs: 150 } }, { maxChunkBytes: 4_000 });
    const entries = makeEntries(100);
    const sending = client.send('t', entries);
    await until(() => receiver.stats.frames > 0); // in flight, its ack 150 ms away
    expect(await client.close(5000)).toBe(true);
    await sending;
    expect(receiver.ids()).toEqual(idsOf(entries));
    await expect(client.send('t', entries)).rejects.toThrow(/closed/);
  });

  it(
    'close() with an ack that never comes: resolves false after the timeout and rejects the send with ' +
      'ForwardClosedError',
    async () => {
      const { receiver, client } = await setup({ faults: { withholdProbability: 1 } }, { ackTimeoutMs: 60_000 });
      const sending = client.send('t', makeEntries(10)).catch((e: unknown) => e);
      await until(() => receiver.stats.frames > 0);
      const t0 = Date.now();
      expect(await client.close(300)).toBe(false);
      expect(Date.now() - t0).toBeGreaterThanOrEqual(250);
      const err = await sending;
      expect((err as Error).name).toBe('ForwardClosedError');
      expect((err as Error).message).toMatch(/1 chunk\(s\) \(10 entries\) not acknowledged/);
      expect(receiver.records).toHaveLength(0);
    },
  );

  // Fluent Bit 5.1's threaded forward input acks records still in a ring buffer that reaches storage every
  // 250 ms: a kill -9 right after an ack loses them. The client counts a chunk delivered only when its ack has
  // stood settleMs on an open connection, and sends again what its closing connection acked too recently.
  for (const settleMs of [0, 1000]) {
    it(
      'a threaded Fluent Bit killed right after acking: ' +
        (settleMs ? 'settleMs 1000 resends what was not stored' : 'without a settle time the acked records are lost'),
      async () => {
        // The ring is committed by hand here, so the crash lands exactly between ack and storage.
        const { receiver, client } = await setup({ commitEveryMs: 3_600_000 }, { settleMs, maxChunkBytes: 20_000 });
        const first = makeEntries(200, { start: 0, prefix: 'a' });
        await client.send('t', first);
        receiver.commit();
        const acksBefore = receiver.stats.acks;
        const second = makeEntries(100, { start: 200, prefix: 'b' });
        let delivered = false;
        const sending = client.send('t', second).then(() => {
          delivered = true;
        });
        while (receiver.stats.acks === acksBefore) await new Promise((r) => setTimeout(r, 1));
        const lost = receiver.crash();
        expect(lost).toBeGreaterThan(0);
        await sending;
        expect(delivered).toBe(true);
        receiver.commit();
        const ids = new Set(receiver.ids());
        const missing = idsOf([...first, ...second]).filter((id) => !ids.has(id));
        if (settleMs) expect(missing).toEqual([]);
        else expect(missing.length).toBe(lost); // the loss this setting exists to prevent
      },
    );
  }

  it(
    "settleResend 'caller': the frame is let go at the ack, and a crash within the settle time rejects the send " +
      'with ForwardUnsettledError',
    async () => {
      const { receiver, client } = await setup(
        { commitEveryMs: 3_600_000 },
        { settleMs: 1000, settleResend: 'caller', maxChunkBytes: 20_000 },
      );
      const first = makeEntries(200, { start: 0, prefix: 'a' });
      await client.send('t', first);
      receiver.commit();
      const acksBefore = receiver.stats.acks;
      const second = makeEntries(100, { start: 200, prefix: 'b' });
      const sending = client.send('t', second).then(
        () => undefined,
        (e: unknown) => e,
      );
      while (receiver.stats.acks === acksBefore) await new Promise((r) => setTimeout(r, 1));
      const lost = receiver.crash();
      expect(lost).toBeGreaterThan(0);
      const err = (await sending) as ForwardUnsettledError;
      expect(err).toBeInstanceOf(ForwardUnsettledError);
      expect(err.message).toMatch(/closed within 1000 ms of acknowledging \d+ chunk\(s\) \(\d+ entries\)/);
      expect(err.entries).toBeGreaterThanOrEqual(lost);
      // The caller sends them again (the collector re-reads them from the API): then nothing is missing.
      const ids = new Set(receiver.ids());
      const missing = idsOf(second).filter((id) => !ids.has(id));
      expect(missing.length).toBeGreaterThan(0);
      await client.send(
        't',
        second.filter((e) => missing.includes(idsOf([e])[0]!)),
      );
      receiver.commit();
      const after = new Set(receiver.ids());
      expect(idsOf([...first, ...second]).filter((id) => !after.has(id))).toEqual([]);
      // A chunk that settles on an open connection resolves as usual.
      await client.send('t', makeEntries(10, { start: 300, prefix: 'c' }));
    },
  );

  for (const settleResend of ['frames', 'caller'] as const) {
    it(
      `settleResend '${settleResend}': ` +
        (settleResend === 'caller'
          ? 'acked frames are reused at once, not held through the settle time'
          : 'acked frames are held until their ack settled'),
      async () => {
        const { receiver, client } = await setup({}, { settleMs: 1_500, settleResend, maxChunkBytes: 200_000 });
        const internals = client as unknown as { encoder: { spareCount: number } };
        let encoded = false;
        const sending = client.send('t', makeEntries(2_000, { start: 0, size: 300, prefix: 'x' }), {
          onEncoded: () => (encoded = true),
        });
        const deadline = Date.now() + 5_000;
        while (
          !(encoded && receiver.stats.acks >= 3 && receiver.stats.acks === receiver.stats.frames) &&
          Date.now() < deadline
        )
          await new Promise((r) => setTimeout(r, 5));
        expect(encoded).toBe(true);
        expect(receiver.stats.acks).toBeGreaterThanOrEqual(3);
        await new Promise((r) => setTimeout(r, 200)); // the acks are sent; let the client read them (well within 1.5 s)
        // Every chunk is acked and settling now (1.5 s): its frame is a spare again only when the caller resends.
        if (settleResend === 'caller') expect(internals.encoder.spareCount).toBeGreaterThanOrEqual(1);
        else expect(internals.encoder.spareCount).toBe(0);
        await sending;
        expect(internals.encoder.spareCount).toBeGreaterThanOrEqual(1);
      },
    );
  }
});
