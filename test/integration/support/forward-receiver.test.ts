// The test receiver itself must behave like in_forward, or the client tests prove nothing.
import { encode } from '@msgpack/msgpack';
import { createHash } from 'node:crypto';
import net from 'node:net';
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { startForwardReceiver, type ForwardReceiver } from '../../support/forward-receiver.js';

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function receiver(opts: Parameters<typeof startForwardReceiver>[0] = {}): Promise<ForwardReceiver> {
  const r = await startForwardReceiver(opts);
  cleanups.push(() => r.close());
  return r;
}

/** A raw client: writes bytes in the given pieces, collects what comes back, resolves on close or after `ms`. */
async function exchange(port: number, pieces: Buffer[], ms = 200): Promise<{ data: Buffer; closed: boolean }> {
  const s = net.connect(port, '127.0.0.1');
  cleanups.push(() => s.destroy());
  await new Promise((r) => s.once('connect', r));
  const got: Buffer[] = [];
  s.on('data', (d) => got.push(d));
  let closed = false;
  s.on('close', () => {
    closed = true;
  });
  s.on('error', () => {});
  for (const p of pieces) {
    s.write(p);
    await new Promise((r) => setTimeout(r, 2));
  }
  await new Promise((r) => setTimeout(r, ms));
  return { data: Buffer.concat(got), closed };
}

function eventTime(sec: number, nsec: number): Buffer {
  const b = Buffer.alloc(10);
  b[0] = 0xd7;
  b[1] = 0x00;
  b.writeUInt32BE(sec, 2);
  b.writeUInt32BE(nsec, 6);
  return b;
}

/** [tag, <raw entries bytes as bin>, options] by hand. */
function packedFrame(tag: string, entries: Buffer, options: Record<string, unknown>): Buffer {
  const header = Buffer.alloc(5);
  header[0] = 0xc6;
  header.writeUInt32BE(entries.length, 1);
  return Buffer.concat([Buffer.from([0x93]), Buffer.from(encode(tag)), header, entries, Buffer.from(encode(options))]);
}

function entry(sec: number, nsec: number, record: object): Buffer {
  return Buffer.concat([Buffer.from([0x92]), eventTime(sec, nsec), Buffer.from(encode(record))]);
}

describe('forward receiver (in_forward stand-in)', () => {
  it('accepts Message mode with integer time and EventTime, acking chunk after storing', async () => {
    const r = await receiver();
    const m1 = Buffer.from(encode(['tag.a', 1700000000, { a: 1 }, { chunk: 'c1' }]));
    const m2 = Buffer.concat([
      Buffer.from([0x94]),
      Buffer.from(encode('tag.b')),
      eventTime(1700000001, 5),
      Buffer.from(encode({ b: 2 })),
      Buffer.from(encode({ chunk: 'c2' })),
    ]);
    const { data } = await exchange(r.port!, [Buffer.concat([m1, m2])]); // two frames in one packet
    expect(r.records).toEqual([
      { tag: 'tag.a', time: { sec: 1700000000, nsec: 0 }, record: { a: 1 }, mode: 'message' },
      { tag: 'tag.b', time: { sec: 1700000001, nsec: 5 }, record: { b: 2 }, mode: 'message' },
    ]);
    expect(data).toEqual(Buffer.concat([Buffer.from(encode({ ack: 'c1' })), Buffer.from(encode({ ack: 'c2' }))]));
  });

  it('reassembles a PackedForward frame sent one byte per write', async () => {
    const r = await receiver();
    const frame = packedFrame('t', Buffer.concat([entry(1, 2, { x: 'a' }), entry(3, 999_999_999, { x: 'b' })]), {
      chunk: 'k',
      size: 2,
    });
    const pieces = [...frame].map((b) => Buffer.from([b]));
    const { data } = await exchange(r.port!, pieces, 100);
    expect(r.records.map((x) => [x.time, x.record, x.mode])).toEqual([
      [{ sec: 1, nsec: 2 }, { x: 'a' }, 'packed'],
      [{ sec: 3, nsec: 999_999_999 }, { x: 'b' }, 'packed'],
    ]);
    expect(data).toEqual(Buffer.from(encode({ ack: 'k' })));
  });

  it('accepts CompressedPackedForward (gzip) and Forward mode', async () => {
    const r = await receiver();
    const gz = gzipSync(Buffer.concat([entry(10, 1, { g: 1 }), entry(11, 2, { g: 2 })]));
    const compressed = packedFrame('z', gz, { chunk: 'z1', compressed: 'gzip' });
    const forward = Buffer.from(
      encode([
        'f',
        [
          [1, { f: 1 }],
          [2, { f: 2 }],
        ],
        { chunk: 'f1' },
      ]),
    );
    const { data } = await exchange(r.port!, [compressed, forward]);
    expect(r.records.map((x) => x.mode)).toEqual(['compressed', 'compressed', 'forward', 'forward']);
    expect(r.records.map((x) => x.record)).toEqual([{ g: 1 }, { g: 2 }, { f: 1 }, { f: 2 }]);
    expect(data).toEqual(Buffer.concat([Buffer.from(encode({ ack: 'z1' })), Buffer.from(encode({ ack: 'f1' }))]));
  });

  it('closes the connection on bad input: non-string tag, float time in Message mode, non-string chunk', async () => {
    const r = await receiver();
    for (const bad of [
      encode([1, 2, { a: 1 }]),
      encode(['t', 1.5, { a: 1 }]),
      encode(['t', [[1, { a: 1 }]], { chunk: 5 }]),
    ]) {
      const { closed } = await exchange(r.port!, [Buffer.from(bad)], 50);
      expect(closed).toBe(true);
    }
    expect(r.protocolErrors).toHaveLength(3);
    expect(r.records).toHaveLength(0);
  });

  it('closes on a frame above buffer_max_size without acking', async () => {
    const r = await receiver({ bufferMaxSize: 1000 });
    const { data, closed } = await exchange(r.port!, [
      packedFrame('t', entry(1, 0, { m: 'x'.repeat(2000) }), { chunk: 'big' }),
    ]);
    expect(closed).toBe(true);
    expect(data.length).toBe(0);
    expect(r.records).toHaveLength(0);
  });

  it('checks PING digests exactly: a hand-made PING with the right digests is accepted, PONG digest verifiable', async () => {
    const r = await receiver({ sharedKey: 'key', users: [{ username: 'u', password: 'p' }], selfHostname: 'fb' });
    const s = net.connect(r.port!, '127.0.0.1');
    cleanups.push(() => s.destroy());
    const helo: Buffer = await new Promise((res) => s.once('data', res));
    // HELO: [str "HELO", {nonce: str(16 raw bytes), auth: str(16 raw bytes)}]
    expect(helo.subarray(0, 6)).toEqual(Buffer.from([0x92, 0xa4, ...Buffer.from('HELO')]));
    const nonce = helo.subarray(helo.indexOf('nonce') + 6, helo.indexOf('nonce') + 22);
    const auth = helo.subarray(helo.indexOf('auth') + 5, helo.indexOf('auth') + 21);
    const h = (...p: (string | Buffer)[]): string =>
      p.reduce((x, y) => x.update(y), createHash('sha512')).digest('hex');
    s.write(Buffer.from(encode(['PING', 'me', 'salt', h('salt', 'me', nonce, 'key'), 'u', h(auth, 'u', 'p')])));
    const pong: Buffer = await new Promise((res) => s.once('data', res));
    expect(pong.includes(Buffer.from(h('salt', 'fb', nonce, 'key')))).toBe(true);
    expect(r.stats.handshakes).toBe(1);
  });

  it('pause refuses connections, resume accepts again', async () => {
    const r = await receiver();
    r.pause();
    const a = await exchange(r.port!, [], 50);
    expect(a.closed).toBe(true);
    r.resume();
    const b = await exchange(r.port!, [Buffer.from(encode(['t', 1, { a: 1 }]))], 50);
    expect(b.closed).toBe(false);
    expect(r.records).toHaveLength(1);
    expect(r.stats.refused).toBe(1);
  });
});
