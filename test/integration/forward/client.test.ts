import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createForwardClient, type ForwardClientOptions } from '../../../input/forward/index.js';
import type { ForwardClient } from '../../../input/types.js';
import {
  startForwardReceiver,
  type ForwardReceiver,
  type ForwardReceiverOptions,
} from '../../support/forward-receiver.js';
import { drive, standingClock } from '../../support/clock.js';
import { idsOf, makeEntries } from './helpers.js';

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(
  rOpts: ForwardReceiverOptions = {},
  cOpts: Partial<ForwardClientOptions> = {},
): Promise<{ receiver: ForwardReceiver; client: ForwardClient }> {
  const receiver = await startForwardReceiver(rOpts);
  cleanups.push(() => receiver.close());
  const target = receiver.path
    ? { kind: 'unix' as const, path: receiver.path }
    : { kind: 'tcp' as const, host: '127.0.0.1', port: receiver.port! };
  const client = createForwardClient({ target, backoff: { baseMs: 20, maxMs: 200 }, ...cOpts });
  cleanups.push(() => client.close(1000));
  return { receiver, client };
}

describe('forward client against the protocol-level receiver', () => {
  it('sends PackedForward by default with EventTime nanoseconds, and resolves after the ack', async () => {
    const { receiver, client } = await setup();
    const entries = makeEntries(50);
    await client.send('jumpcloud.directory', entries);
    expect(receiver.records).toHaveLength(50);
    expect(receiver.stats.modes.packed).toBeGreaterThan(0);
    expect(receiver.stats.modes.forward).toBe(0);
    expect(receiver.ids()).toEqual(idsOf(entries));
    for (let i = 0; i < entries.length; i++) {
      expect(receiver.records[i]!.time).toEqual(entries[i]!.time);
      expect(receiver.records[i]!.tag).toBe('jumpcloud.directory');
      expect(receiver.records[i]!.record).toEqual(entries[i]!.record);
    }
    expect(await client.close(1000)).toBe(true);
  });

  it("sends Forward mode with mode: 'forward'", async () => {
    const { receiver, client } = await setup({}, { mode: 'forward' });
    const entries = makeEntries(20);
    await client.send('t', entries);
    expect(receiver.stats.modes.forward).toBeGreaterThan(0);
    expect(receiver.stats.modes.packed).toBe(0);
    expect(receiver.ids()).toEqual(idsOf(entries));
    expect(receiver.records.map((r) => r.time)).toEqual(entries.map((e) => e.time));
  });

  it('works over a unix socket', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fwd-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const { receiver, client } = await setup({ path: join(dir, 'in.sock') });
    const entries = makeEntries(10);
    await client.send('t', entries);
    expect(receiver.ids()).toEqual(idsOf(entries));
  });

  it('authenticates with a shared key and a user, PING in one read with the exact digests', async () => {
    const { receiver, client } = await setup(
      {
        sharedKey: 's3cret',
        users: [
          { username: 'alice', password: 'pw1' },
          { username: 'bob', password: 'pw2' },
        ],
      },
      { sharedKey: 's3cret', username: 'bob', password: 'pw2', hostname: 'collector-1' },
    );
    await client.send('t', makeEntries(5));
    expect(receiver.records).toHaveLength(5);
    expect(receiver.stats.handshakes).toBe(1);
    expect(receiver.stats.pingSplit).toBe(0);
    expect(receiver.authFailures).toEqual([]);
  });

  it('authenticates with a shared key alone (no users)', async () => {
    const { receiver, client } = await setup({ sharedKey: 'k' }, { sharedKey: 'k' });
    await client.send('t', makeEntries(3));
    expect(receiver.records).toHaveLength(3);
  });

  it('rejects send() with ForwardAuthError on a wrong shared key, without a hot retry loop', async () => {
    const reconnects: number[] = [];
    const { receiver, client } = await setup(
      { sharedKey: 'right' },
      { sharedKey: 'wrong', hooks: { onReconnect: (i) => reconnects.push(i.delayMs) } },
    );
    const err = await client.send('t', makeEntries(3)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).name).toBe('ForwardAuthError');
    expect((err as Error).message).toMatch(/shared key/);
    expect((err as Error).message).toMatch(/shared_key/);
    expect((err as Error).message).not.toContain('wrong');
    expect(receiver.authFailures.every((r) => r === 'shared_key mismatch')).toBe(true);
    expect(receiver.authFailures.length).toBeLessThanOrEqual(2);
    expect(receiver.records).toHaveLength(0);
    // fatal: later sends fail at once
    await expect(client.send('t', makeEntries(1))).rejects.toThrow(/shared key/);
    expect(reconnects.length).toBeLessThanOrEqual(1);
    expect(await client.close(100)).toBe(false);
  });

  it('rejects send() with ForwardAuthError naming username/password on a wrong password', async () => {
    const { receiver, client } = await setup(
      { sharedKey: 'k', users: [{ username: 'alice', password: 'right' }] },
      { sharedKey: 'k', username: 'alice', password: 'wrong' },
    );
    const err = await client.send('t', makeEntries(3)).catch((e: unknown) => e);
    expect((err as Error).name).toBe('ForwardAuthError');
    expect((err as { reason: string }).reason).toBe('user');
    expect((err as Error).message).toMatch(/username\/password mismatch/);
    expect((err as Error).message).toMatch(/security\.users/);
    expect(receiver.authFailures).toEqual(['username/password mismatch']);
  });

  it('never logs or reports the shared key or the password', async () => {
    const lines: string[] = [];
    const logger = Object.fromEntries(
      (['debug', 'info', 'warn', 'error'] as const).map((l) => [
        l,
        (o: object, m?: string) => lines.push(JSON.stringify([l, o, m])),
      ]),
    ) as unknown as import('../../../input/types.js').Logger;
    const ok = await setup(
      {
        sharedKey: 'KEY-SECRET-1',
        users: [{ username: 'u', password: 'PW-SECRET-1' }],
        faults: { dropProbability: 0.3 },
        seed: 5,
      },
      { sharedKey: 'KEY-SECRET-1', username: 'u', password: 'PW-SECRET-1', logger, maxChunkBytes: 2000 },
    );
    await ok.client.send('t', makeEntries(40));
    const bad = await setup(
      { sharedKey: 'KEY-SECRET-2', users: [{ username: 'u', password: 'x' }] },
      { sharedKey: 'KEY-SECRET-2', username: 'u', password: 'PW-SECRET-2', logger },
    );
    const err = await bad.client.send('t', makeEntries(1)).catch((e: unknown) => e);
    const wrongKey = await setup({ sharedKey: 'other' }, { sharedKey: 'KEY-SECRET-3', logger });
    const err2 = await wrongKey.client.send('t', makeEntries(1)).catch((e: unknown) => e);
    expect(lines.length).toBeGreaterThan(3);
    const all = lines.join('\n') + String(err) + String(err2) + JSON.stringify(err) + JSON.stringify(err2);
    expect(all).not.toMatch(/SECRET/);
  });

  it('a shared key against an input without one: retries saying no HELO came, and close() ends the wait at once', async () => {
    // The handshake timeout runs on the client's clock: moved on until the first attempt gave up waiting for HELO.
    const clock = standingClock(Date.parse('2026-03-01T12:00:00Z'));
    const errors: string[] = [];
    let reconnecting!: () => void;
    const firstFailure = new Promise<void>((r) => (reconnecting = r));
    const onReconnect = (i: { error?: string }): void => {
      errors.push(i.error ?? '');
      reconnecting();
    };
    const { receiver, client } = await setup(
      {},
      { sharedKey: 'k', handshakeTimeoutMs: 100, clock, hooks: { onReconnect } },
    );
    const sending = client.send('t', makeEntries(2)).catch((e: unknown) => e);
    await drive(clock, firstFailure, 10);
    expect(errors[0]).toMatch(/no HELO .* within 100 ms.*is shared_key set on its forward input/);
    // close(50) on a clock moved 50 ms only: no handshake timeout (100 ms) can end the send, close() itself must.
    const t0 = Date.now();
    const closing = client.close(50);
    clock.advance(50);
    expect(await closing).toBe(false);
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(((await sending) as Error).name).toBe('ForwardClosedError');
    expect(receiver.records).toHaveLength(0);
  });

  it('refuses bad options with ForwardConfigError', () => {
    const target = { kind: 'tcp' as const, host: '127.0.0.1', port: 1 };
    expect(() => createForwardClient({ target, username: 'u', password: 'p' })).toThrow(/need a shared key/);
    expect(() => createForwardClient({ target, sharedKey: '' })).toThrow(/shared key is empty/);
    expect(() => createForwardClient({ target, maxInFlight: 0 })).toThrow(/maxInFlight must be a positive number/);
    expect(() => createForwardClient({ target, maxFrameBytes: 7_000_000 })).toThrow(/buffer_max_size/);
  });

  it('reports a Fluent Bit that wants a shared key the collector lacks', async () => {
    const { client } = await setup({ sharedKey: 'k' }, {});
    const err = await client.send('t', makeEntries(1)).catch((e: unknown) => e);
    expect((err as Error).name).toBe('ForwardAuthError');
    expect((err as Error).message).toMatch(/sent HELO/);
  });
});
