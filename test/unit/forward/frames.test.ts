import { Decoder, encode } from '@msgpack/msgpack';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { backoffDelay } from '../../../input/backoff.js';
import { ForwardEncodeError, ForwardRecordTooLargeError } from '../../../input/forward/errors.js';
import {
  ChunkEncoder,
  createEventTimeCodec,
  flatStringBound,
  writeFlatStringRecord,
  type ForwardMode,
} from '../../../input/forward/frames.js';
import { msgpackLength, MsgpackStreamReader } from '../../../input/forward/msgpack-scan.js';
import { decodeUtf8Values, Utf8Bytes } from '../../../input/forward/utf8-bytes.js';
import type { ForwardEntry, MessageBatch } from '../../../input/types.js';

const decoder = new Decoder({ extensionCodec: createEventTimeCodec() });

/** Decodes one frame back into entries, checking its envelope as in_forward does. */
function decodeFrame(
  frame: Uint8Array,
  mode: ForwardMode,
): { tag: string; entries: ForwardEntry[]; options: { chunk: string; size: number } } {
  const root = decoder.decode(frame) as unknown[];
  expect(Array.isArray(root)).toBe(true);
  expect(root).toHaveLength(3);
  const tag = root[0] as string;
  const options = root[2] as { chunk: string; size: number };
  let raw: unknown[];
  if (mode === 'packed') {
    expect(root[1]).toBeInstanceOf(Uint8Array);
    raw = [...decoder.decodeMulti(root[1] as Uint8Array)];
  } else {
    expect(Array.isArray(root[1])).toBe(true);
    raw = root[1] as unknown[];
  }
  const entries = raw.map((e) => {
    const [time, record] = e as [{ sec: number; nsec: number }, Record<string, unknown>];
    return { time: { sec: time.sec, nsec: time.nsec }, record };
  });
  return { tag, entries, options };
}

const timeArb = fc.record({
  sec: fc.integer({ min: 0, max: 0xffffffff }),
  nsec: fc.integer({ min: 0, max: 999_999_999 }),
});
// Records as the collector builds them, plus general JSON-like maps.
/** `s` as UTF-8 bytes in a view at an offset of a bigger buffer, as a page split hands them out. */
function viewOf(s: string, pad: number): Utf8Bytes {
  const b = Buffer.from(s, 'utf8');
  const page = Buffer.alloc(b.length + 2 * pad, 0x5b);
  b.copy(page, pad);
  return new Utf8Bytes(page.subarray(pad, pad + b.length));
}
const recordArb = fc.oneof(
  fc.record({ message: fc.string({ unit: 'binary', maxLength: 300 }) }),
  fc
    .tuple(fc.string({ unit: 'grapheme', maxLength: 300 }), fc.nat(20))
    .map(([m, pad]) => ({ message: viewOf(m, pad) })),
  fc.dictionary(
    fc.string({ maxLength: 8 }),
    fc.oneof(fc.string({ unit: 'binary' }), fc.integer(), fc.boolean(), fc.constant(null), fc.double({ noNaN: true })),
  ),
);
const entryArb = fc.record({ time: timeArb, record: recordArb });

describe('EventTime', () => {
  it('round-trips seconds and nanoseconds exactly through ext type 0 (fixext8, big-endian)', () => {
    fc.assert(
      fc.property(timeArb, (time) => {
        const enc = new ChunkEncoder({ mode: 'packed', maxChunkBytes: 1 << 20, maxFrameBytes: 6_000_000 });
        const [chunk] = [...enc.chunks('t', [{ time, record: { a: 1 } }])];
        const { entries } = decodeFrame(chunk!.frame, 'packed');
        expect(entries[0]!.time).toEqual(time);
        // the ext bytes themselves: d7 00 <sec BE> <nsec BE>
        const at = chunk!.frame.indexOf(Buffer.from([0x92, 0xd7, 0x00]));
        expect(chunk!.frame.readUInt32BE(at + 3)).toBe(time.sec);
        expect(chunk!.frame.readUInt32BE(at + 7)).toBe(time.nsec);
      }),
      { numRuns: 500 },
    );
  });

  it('rejects times EventTime cannot carry with ForwardEncodeError', () => {
    const enc = new ChunkEncoder({ mode: 'packed', maxChunkBytes: 1000, maxFrameBytes: 6_000_000 });
    for (const time of [
      { sec: -1, nsec: 0 },
      { sec: 2 ** 32, nsec: 0 },
      { sec: 1.5, nsec: 0 },
      { sec: 1, nsec: 1e9 },
      { sec: 1, nsec: -1 },
    ]) {
      expect(() => [...enc.chunks('t', [{ time, record: {} }])]).toThrow(ForwardEncodeError);
    }
  });
});

describe('frames', () => {
  for (const mode of ['packed', 'forward'] as const) {
    it(`${mode}: splitting keeps every entry once, in order, each frame under its bounds, size = entry count`, () => {
      fc.assert(
        fc.property(
          fc.array(entryArb, { maxLength: 60 }),
          fc.string({ minLength: 1, maxLength: 40 }),
          fc.integer({ min: 200, max: 5000 }),
          (entries, tag, maxChunkBytes) => {
            const maxFrameBytes = maxChunkBytes + 2048;
            const enc = new ChunkEncoder({ mode, maxChunkBytes, maxFrameBytes });
            const chunks = [...enc.chunks(tag, entries)];
            const back: ForwardEntry[] = [];
            const ids = new Set<string>();
            for (const c of chunks) {
              const f = decodeFrame(c.frame, mode);
              expect(f.tag).toBe(tag);
              expect(f.options.chunk).toBe(c.id);
              expect(f.options.size).toBe(f.entries.length);
              expect(c.entries).toBe(f.entries.length);
              expect(c.frame.length).toBeLessThanOrEqual(maxFrameBytes);
              // a chunk exceeds its target only when it holds a single (big) entry
              if (f.entries.length > 1) expect(c.frame.length).toBeLessThan(maxChunkBytes + 200);
              ids.add(c.id);
              back.push(...f.entries);
            }
            expect(ids.size).toBe(chunks.length);
            expect(back).toEqual(entries.map((e) => ({ time: e.time, record: normalise(e.record) })));
          },
        ),
        { numRuns: 200 },
      );
    });
  }

  it('reuses the memory of recycled (acked) frames for later chunks, never of frames still in flight', () => {
    const enc = new ChunkEncoder({ mode: 'packed', maxChunkBytes: 10_000, maxFrameBytes: 20_000 });
    const entries = Array.from({ length: 40 }, (_, i) => ({
      time: { sec: 1, nsec: i },
      record: { message: viewOf(`{"i":${i},"pad":"${'x'.repeat(900)}"}`, 2) },
    }));
    const first = [...enc.chunks('t', entries)];
    expect(first.length).toBeGreaterThan(2);
    const inFlight = new Set(first.map((c) => c.frame.buffer));
    expect(inFlight.size).toBe(first.length); // each frame its own memory
    const snapshot = first.map((c) => Buffer.from(c.frame));
    const recycled = first[0]!;
    enc.recycle(recycled.frame);
    enc.recycle(recycled.frame); // twice: taken back once
    const second = [...enc.chunks('t', entries)];
    const reused = second.filter((c) => c.frame.buffer === recycled.frame.buffer);
    expect(reused.length).toBe(1);
    // Frames not recycled were not written over.
    first.slice(1).forEach((c, i) => expect(Buffer.from(c.frame)).toEqual(snapshot[i + 1]));
    for (const c of second) expect(decodeFrame(c.frame, 'packed').entries.length).toBe(c.entries);
  });

  it(
    'keeps every recycled frame for reuse while busy (a burst of settled acks allocates nothing new), and trim() ' +
      'lets them go',
    () => {
      const enc = new ChunkEncoder({ mode: 'packed', maxChunkBytes: 10_000, maxFrameBytes: 20_000 });
      const entries = Array.from({ length: 120 }, (_, i) => ({
        time: { sec: 1, nsec: i },
        record: { message: viewOf(`{"i":${i},"pad":"${'x'.repeat(900)}"}`, 2) },
      }));
      const first = [...enc.chunks('t', entries)];
      expect(first.length).toBeGreaterThan(8);
      for (const c of first) enc.recycle(c.frame); // all settle at once
      expect(enc.spareCount).toBe(first.length);
      const memory = new Set(first.map((c) => c.frame.buffer));
      const second = [...enc.chunks('t', entries)];
      // Every frame of the second round is a recycled one (the first round's last scratch became the current one).
      expect(second.filter((c) => !memory.has(c.frame.buffer)).length).toBeLessThanOrEqual(1);
      for (const c of second) enc.recycle(c.frame);
      enc.trim();
      expect(enc.spareCount).toBe(4);
    },
  );

  it('rejects one entry bigger than a frame may carry, naming its index', () => {
    const enc = new ChunkEncoder({ mode: 'packed', maxChunkBytes: 1000, maxFrameBytes: 5000 });
    const entries = [
      { time: { sec: 1, nsec: 0 }, record: { message: 'a' } },
      { time: { sec: 1, nsec: 0 }, record: { message: 'x'.repeat(6000) } },
    ];
    const it = enc.chunks('t', entries);
    expect(it.next().value?.entries).toBe(1);
    try {
      it.next();
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ForwardRecordTooLargeError);
      expect((err as ForwardRecordTooLargeError).index).toBe(1);
      expect((err as Error).message).toMatch(/entry #1 encodes to \d+ bytes/);
    }
  });
});

describe('MessageBatch (columnar entries)', () => {
  /** Messages laid out in one body with filler between them (in any order), as spans of a page. */
  function batchOf(items: { time: { sec: number; nsec: number }; message: string; pad: number }[]): {
    batch: MessageBatch;
    entries: ForwardEntry[];
  } {
    const parts: Buffer[] = [];
    let at = 0;
    const start = new Uint32Array(items.length),
      end = new Uint32Array(items.length),
      sec = new Uint32Array(items.length),
      nsec = new Uint32Array(items.length);
    items.forEach((it, i) => {
      const fill = Buffer.alloc(it.pad, 0x2c);
      const msg = Buffer.from(it.message, 'utf8');
      parts.push(fill, msg);
      start[i] = at + fill.length;
      end[i] = at + fill.length + msg.length;
      at = end[i]!;
      sec[i] = it.time.sec;
      nsec[i] = it.time.nsec;
    });
    const body = Buffer.concat([...parts, Buffer.from('tail')]);
    const batch: MessageBatch = { length: items.length, body, start, end, sec, nsec };
    const entries = items.map((it, i) => ({
      time: it.time,
      record: { message: new Utf8Bytes(body.subarray(start[i]!, end[i]!)) },
    }));
    return { batch, entries };
  }

  /** Frames with their (random-prefixed) chunk id blanked, so that two encoders' output compares byte for byte. */
  function framesOf(
    enc: ChunkEncoder,
    tag: string,
    entries: readonly ForwardEntry[] | MessageBatch,
  ): { frames: string[]; error?: string; index?: number } {
    const frames: string[] = [];
    try {
      for (const c of enc.chunks(tag, entries)) {
        expect(c.frame.indexOf(c.id, 0, 'latin1')).toBeGreaterThan(0);
        frames.push(c.frame.toString('latin1').replace(c.id, '#'.repeat(c.id.length)) + `|${c.entries}`);
      }
      return { frames };
    } catch (err) {
      return {
        frames,
        error: `${(err as Error).name}: ${(err as Error).message}`,
        index: (err as { index?: number }).index,
      };
    }
  }

  const item = fc.record({
    time: timeArb,
    // Short messages, around the str8/str16 bound (255 bytes) and around str16/str32 (65,535 bytes).
    message: fc.oneof(
      { arbitrary: fc.string({ unit: 'grapheme', maxLength: 120 }), weight: 20 },
      { arbitrary: fc.string({ unit: 'binary', minLength: 240, maxLength: 300 }), weight: 3 },
      { arbitrary: fc.integer({ min: 65_530, max: 65_540 }).map((n) => 'a'.repeat(n)), weight: 1 },
    ),
    pad: fc.nat(8),
  });

  it(
    'encodes to the very frames of the same entries as {time, record: {message: Utf8Bytes}} (property: both modes, ' +
      'chunk bounds)',
    () => {
      fc.assert(
        fc.property(
          fc.array(item, { maxLength: 40 }),
          fc.constantFrom<ForwardMode>('packed', 'forward'),
          fc.integer({ min: 1, max: 4000 }),
          fc.integer({ min: 200, max: 200_000 }),
          fc.string({ minLength: 1, maxLength: 40 }),
          (items, mode, maxChunkBytes, maxFrameBytes, tag) => {
            const { batch, entries } = batchOf(items);
            const opts = { mode, maxChunkBytes, maxFrameBytes };
            const columnar = framesOf(new ChunkEncoder(opts), tag, batch);
            const objects = framesOf(new ChunkEncoder(opts), tag, entries);
            expect(columnar).toEqual(objects);
            if (columnar.error === undefined)
              expect(columnar.frames.reduce((n, f) => n + Number(f.slice(f.lastIndexOf('|') + 1)), 0)).toBe(
                items.length,
              );
          },
        ),
        { numRuns: 300 },
      );
    },
  );

  it(
    'refuses what the object form refuses, with the same error and index: nsec out of range, an entry too big for ' +
      'a frame',
    () => {
      const ok = { time: { sec: 5, nsec: 7 }, message: '{"id":"a"}', pad: 1 };
      const badTime = batchOf([ok, { ...ok, time: { sec: 5, nsec: 1_000_000_000 } }]);
      const opts = { mode: 'packed' as const, maxChunkBytes: 1 << 20, maxFrameBytes: 6_000_000 };
      const a = framesOf(new ChunkEncoder(opts), 't', badTime.batch);
      expect(a.error).toMatch(/ForwardEncodeError: entry #1: time.nsec 1000000000/);
      expect(a).toEqual(framesOf(new ChunkEncoder(opts), 't', badTime.entries));
      const big = batchOf([ok, ok, { ...ok, message: 'x'.repeat(6000) }]);
      const small = { mode: 'forward' as const, maxChunkBytes: 1000, maxFrameBytes: 5000 };
      const b = framesOf(new ChunkEncoder(small), 't', big.batch);
      expect(b.frames).toHaveLength(1);
      expect(b.index).toBe(2);
      expect(b.error).toMatch(/ForwardRecordTooLargeError: entry #2 encodes to \d+ bytes/);
      expect(b).toEqual(framesOf(new ChunkEncoder(small), 't', big.entries));
    },
  );

  it('refuses a span outside the body instead of sending other bytes', () => {
    const { batch } = batchOf([{ time: { sec: 1, nsec: 0 }, message: 'abc', pad: 0 }]);
    const broken: MessageBatch = { ...batch, end: Uint32Array.of(batch.body.length + 1) };
    expect(() => [
      ...new ChunkEncoder({ mode: 'packed', maxChunkBytes: 1000, maxFrameBytes: 5000 }).chunks('t', broken),
    ]).toThrow(ForwardEncodeError);
  });

  it('decodes back to the messages and times it carries', () => {
    const items = [
      { time: { sec: 1, nsec: 2 }, message: '{"id":"é"}', pad: 3 },
      { time: { sec: 0xffffffff, nsec: 999_999_999 }, message: '', pad: 0 },
    ];
    const [chunk] = [
      ...new ChunkEncoder({ mode: 'packed', maxChunkBytes: 1 << 20, maxFrameBytes: 6_000_000 }).chunks(
        't',
        batchOf(items).batch,
      ),
    ];
    expect(decodeFrame(chunk!.frame, 'packed').entries).toEqual(
      items.map((it) => ({ time: it.time, record: { message: it.message } })),
    );
  });
});

/** What a msgpack round trip gives back for a record (−0 stays −0, undefined values drop). */
function normalise(r: Readonly<Record<string, unknown>>): Record<string, unknown> {
  return decoder.decode(encode(decodeUtf8Values(r))) as Record<string, unknown>;
}

describe('flat string record fast path', () => {
  it('writes exactly the bytes of the generic encoder, within its bound', () => {
    fc.assert(
      fc.property(
        fc.dictionary(
          fc.string({ unit: 'grapheme', maxLength: 40 }),
          fc.oneof(
            fc.string({ unit: 'grapheme', maxLength: 400 }),
            fc.string({ maxLength: 70_000, unit: 'grapheme-ascii' }),
          ),
          { maxKeys: 20 },
        ),
        (record) => {
          const bound = flatStringBound(record);
          expect(bound).toBeGreaterThanOrEqual(0);
          const buf = Buffer.alloc(bound);
          const n = writeFlatStringRecord(buf, 0, record);
          expect(n).toBeLessThanOrEqual(bound);
          expect(buf.subarray(0, n)).toEqual(Buffer.from(encode(record)));
        },
      ),
      { numRuns: 300 },
    );
  });

  it(
    'writes Utf8Bytes values (views into a bigger buffer) as the same str bytes the generic encoder gives their ' +
      'string',
    () => {
      fc.assert(
        fc.property(
          fc.dictionary(
            fc.string({ unit: 'grapheme', maxLength: 40 }),
            fc.tuple(
              fc.oneof(
                fc.string({ unit: 'grapheme', maxLength: 400 }),
                fc.string({ maxLength: 70_000, unit: 'grapheme-ascii' }),
              ),
              fc.nat(30),
              fc.boolean(),
            ),
            { maxKeys: 20 },
          ),
          (spec) => {
            const strings: Record<string, string> = {};
            const mixed: Record<string, string | Utf8Bytes> = {};
            for (const [k, [v, pad, asBytes]] of Object.entries(spec)) {
              Object.defineProperty(strings, k, { value: v, enumerable: true, writable: true, configurable: true });
              Object.defineProperty(mixed, k, {
                value: asBytes ? viewOf(v, pad) : v,
                enumerable: true,
                writable: true,
                configurable: true,
              });
            }
            const bound = flatStringBound(mixed);
            expect(bound).toBeGreaterThanOrEqual(0);
            const buf = Buffer.alloc(bound);
            const n = writeFlatStringRecord(buf, 0, mixed);
            expect(n).toBeLessThanOrEqual(bound);
            expect(buf.subarray(0, n)).toEqual(Buffer.from(encode(strings)));
          },
        ),
        { numRuns: 300 },
      );
    },
  );

  it('encodes Utf8Bytes inside records the generic encoder takes as str, at any depth', () => {
    const enc = new ChunkEncoder({ mode: 'packed', maxChunkBytes: 100_000, maxFrameBytes: 200_000 });
    const record = {
      message: viewOf('{"id":"é😀"}', 3),
      n: 1,
      nested: { list: [viewOf('x', 1), 'y'], deep: { s: viewOf('ü'.repeat(40), 0) } },
      other: viewOf('p', 2),
    };
    const equivalent = JSON.parse(
      '{"message":"{\\"id\\":\\"é😀\\"}","n":1,"nested":{"list":["x","y"],"deep":{"s":"' +
        'ü'.repeat(40) +
        '"}},"other":"p"}',
    ) as Record<string, unknown>;
    const [chunk] = [...enc.chunks('t', [{ time: { sec: 1, nsec: 2 }, record }])];
    const f = decodeFrame(chunk!.frame, 'packed');
    expect(f.entries[0]!.record).toEqual(equivalent);
    expect(Object.keys(f.entries[0]!.record)).toEqual(['message', 'n', 'nested', 'other']);
    // The packed body is [time, record] with record encoded exactly as @msgpack/msgpack encodes the equivalent.
    const body = (decoder.decode(chunk!.frame) as unknown[])[1] as Uint8Array;
    expect(Buffer.from(body.subarray(11))).toEqual(Buffer.from(encode(equivalent)));
  });

  it('writes lone surrogates as U+FFFD (valid UTF-8, as Fluent Bit needs)', () => {
    const record = { message: 'a\ud800b' };
    const buf = Buffer.alloc(flatStringBound(record));
    const n = writeFlatStringRecord(buf, 0, record);
    expect(decoder.decode(buf.subarray(0, n))).toEqual({ message: 'a\ufffdb' });
  });

  it('leaves anything but a plain object of strings to the generic encoder', () => {
    expect(flatStringBound({ a: 1 })).toBe(-1);
    expect(flatStringBound({ a: 'x', b: null })).toBe(-1);
    expect(
      flatStringBound(
        new (class {
          a = 'x';
        })() as unknown as Record<string, unknown>,
      ),
    ).toBe(-1);
  });
});

describe('msgpackLength / MsgpackStreamReader', () => {
  const valueArb = fc.oneof(
    fc.jsonValue(),
    fc.uint8Array({ maxLength: 300 }),
    fc.array(fc.uint8Array({ maxLength: 70_000 }), { maxLength: 2 }),
    fc.string({ minLength: 0, maxLength: 70_000, unit: 'grapheme-ascii' }),
    fc.bigInt({ min: -(2n ** 63n), max: 2n ** 64n - 1n }).map((b) => Number(b)),
  );

  it('measures any encoded value exactly; every strict prefix is incomplete', () => {
    fc.assert(
      fc.property(valueArb, fc.nat(), (value, cut) => {
        const bytes = encode(value, { ignoreUndefined: true });
        expect(msgpackLength(bytes)).toBe(bytes.length);
        const prefix = cut % bytes.length;
        expect(msgpackLength(bytes, 0, prefix)).toBe(-1);
        const two = new Uint8Array(bytes.length * 2);
        two.set(bytes);
        two.set(bytes, bytes.length);
        expect(msgpackLength(two)).toBe(bytes.length);
        expect(msgpackLength(two, bytes.length)).toBe(bytes.length);
      }),
      { numRuns: 300 },
    );
  });

  it('reassembles messages from arbitrary splits and joins of the stream', () => {
    fc.assert(
      fc.property(
        fc.array(valueArb, { minLength: 1, maxLength: 6 }),
        fc.array(fc.integer({ min: 1, max: 5000 }), { minLength: 1, maxLength: 20 }),
        (values, sizes) => {
          const encoded = values.map((v) => Buffer.from(encode(v)));
          const stream = Buffer.concat(encoded);
          const reader = new MsgpackStreamReader();
          const out: Buffer[] = [];
          let pos = 0;
          let k = 0;
          while (pos < stream.length) {
            const n = sizes[k++ % sizes.length]!;
            reader.push(stream.subarray(pos, pos + n));
            pos += n;
            for (let m = reader.next(); m; m = reader.next()) out.push(Buffer.from(m));
          }
          expect(out).toEqual(encoded);
          expect(reader.buffered).toBe(0);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('throws on a byte that starts no object', () => {
    expect(() => msgpackLength(Uint8Array.of(0xc1))).toThrow(/0xc1/);
  });
});

describe('backoff', () => {
  it('grows exponentially, stays within [step/2, step], never exceeds max, never zero', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 100 }),
        fc.integer({ min: 1, max: 1000 }),
        fc.integer({ min: 1, max: 60_000 }),
        fc.double({ min: 0, max: 0.999999, noNaN: true }),
        (attempt, baseMs, maxMs, r) => {
          const d = backoffDelay(attempt - 1, { baseMs, maxMs, jitter: 'equal' }, () => r);
          const step = Math.min(maxMs, baseMs * 2 ** (attempt - 1));
          expect(d).toBeGreaterThanOrEqual(Math.floor(step / 2));
          expect(d).toBeLessThanOrEqual(Math.ceil(step));
          expect(d).toBeGreaterThan(0);
        },
      ),
    );
  });
});
