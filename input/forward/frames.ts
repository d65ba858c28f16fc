// Encodes entries into Fluent forward frames: [tag, entries, {chunk, size}] where entries is either
// PackedForward (one bin holding concatenated [EventTime, record]) or Forward (an array of them).
// EventTime is msgpack ext type 0: 4-byte big-endian seconds + 4-byte big-endian nanoseconds.
import { Encoder, ExtensionCodec } from '@msgpack/msgpack';
import { randomBytes } from 'node:crypto';
import type { EventTime, ForwardEntry, MessageBatch } from '../types.js';
import { ForwardEncodeError, ForwardRecordTooLargeError } from './errors.js';
import { decodeUtf8Values, Utf8Bytes } from './utf8-bytes.js';

export type ForwardMode = 'packed' | 'forward';

/** Fluent Bit's in_forward buffer_max_size: a bigger frame closes the connection without an ack. */
export const FLUENT_BIT_BUFFER_MAX_SIZE = 6_144_000;

/** One encoded frame ready to write, with what the ack bookkeeping needs. */
export interface EncodedChunk {
  readonly id: string;
  readonly tag: string;
  readonly frame: Buffer;
  readonly entries: number;
  /** Bytes of the entries' msgpack (the packed body, uncompressed): what Fluent Bit's input counts as its bytes. */
  readonly entryBytes: number;
}

const EVENT_TIME_EXT_TYPE = 0;

/** Writes an EventTime as fixext8 type 0 at `at`; returns the bytes written (10). */
function writeEventTime(buf: Buffer, at: number, time: EventTime): number {
  buf[at] = 0xd7;
  buf[at + 1] = EVENT_TIME_EXT_TYPE;
  buf.writeUInt32BE(time.sec, at + 2);
  buf.writeUInt32BE(time.nsec, at + 6);
  return 10;
}

function checkEventTime(time: EventTime, index: number): void {
  checkTimeParts(time.sec, time.nsec, index);
}

function checkTimeParts(sec: number, nsec: number, index: number): void {
  if (!Number.isInteger(sec) || sec < 0 || sec > 0xffffffff) {
    throw new ForwardEncodeError(
      `entry #${index}: time.sec ${sec} is not an integer in 0..4294967295 (EventTime carries unsigned 32-bit seconds)`,
    );
  }
  if (!Number.isInteger(nsec) || nsec < 0 || nsec > 999_999_999) {
    throw new ForwardEncodeError(`entry #${index}: time.nsec ${nsec} is not an integer in 0..999999999`);
  }
}

/** Codec for decoding (and encoding, via EventTimeValue) ext type 0 with @msgpack/msgpack. */
class EventTimeValue implements EventTime {
  constructor(
    readonly sec: number,
    readonly nsec: number,
  ) {}
}

export function createEventTimeCodec(): ExtensionCodec {
  const codec = new ExtensionCodec();
  codec.register({
    type: EVENT_TIME_EXT_TYPE,
    encode: (value: unknown): Uint8Array | null => {
      if (!(value instanceof EventTimeValue)) return null;
      const out = Buffer.allocUnsafe(8);
      out.writeUInt32BE(value.sec, 0);
      out.writeUInt32BE(value.nsec, 4);
      return out;
    },
    decode: (data: Uint8Array): EventTime => {
      if (data.length !== 8) throw new RangeError(`EventTime ext must carry 8 bytes, got ${data.length}`);
      const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
      return new EventTimeValue(view.getUint32(0), view.getUint32(4));
    },
  });
  return codec;
}

/**
 * Upper bound of the msgpack size of a plain object whose values are all strings or Utf8Bytes (≤ 65535 keys),
 * or -1 when the record is anything else (then the generic encoder handles it).
 */
export function flatStringBound(record: Readonly<Record<string, unknown>>): number {
  const proto: unknown = Object.getPrototypeOf(record);
  if (proto !== Object.prototype && proto !== null) return -1;
  let bound = 3;
  let keys = 0;
  for (const key in record) {
    const v = record[key];
    if (typeof v === 'string') bound += 10 + 3 * (key.length + v.length);
    else if (v instanceof Utf8Bytes) bound += 10 + 3 * key.length + v.bytes.length;
    else return -1;
    keys++;
  }
  return keys <= 0xffff ? bound : -1;
}

/** Writes a msgpack str header for `n` bytes at `at`; returns its length. */
function writeStrHeader(buf: Buffer, at: number, n: number): number {
  if (n < 32) {
    buf[at] = 0xa0 | n;
    return 1;
  }
  if (n < 0x100) {
    buf[at] = 0xd9;
    buf[at + 1] = n;
    return 2;
  }
  if (n < 0x10000) {
    buf[at] = 0xda;
    buf.writeUInt16BE(n, at + 1);
    return 3;
  }
  buf[at] = 0xdb;
  buf.writeUInt32BE(n, at + 1);
  return 5;
}

function writeStr(buf: Buffer, at: number, str: string): number {
  const n = str.length < 32 && isAscii(str) ? str.length : Buffer.byteLength(str, 'utf8');
  const p = at + writeStrHeader(buf, at, n);
  return p - at + buf.write(str, p, 'utf8');
}

function writeUtf8Bytes(buf: Buffer, at: number, bytes: Uint8Array): number {
  const n = bytes.length;
  const p = at + writeStrHeader(buf, at, n);
  buf.set(bytes, p);
  return p - at + n;
}

function isAscii(str: string): boolean {
  for (let i = 0; i < str.length; i++) if (str.charCodeAt(i) > 0x7f) return false;
  return true;
}

/** Writes a flat string record (checked by flatStringBound) as msgpack at `at`; returns the bytes written. */
export function writeFlatStringRecord(
  buf: Buffer,
  at: number,
  record: Readonly<Record<string, string | Utf8Bytes>>,
): number {
  let keys = 0;
  for (const _ in record) keys++;
  let p = at;
  if (keys < 16) buf[p++] = 0x80 | keys;
  else {
    buf[p++] = 0xde;
    buf.writeUInt16BE(keys, p);
    p += 2;
  }
  for (const key in record) {
    p += writeStr(buf, p, key);
    const v = record[key]!;
    p += typeof v === 'string' ? writeStr(buf, p, v) : writeUtf8Bytes(buf, p, v.bytes);
  }
  return p - at;
}

/** Whether send()'s entries are a MessageBatch (not an array of ForwardEntry). */
export function isMessageBatch(entries: readonly ForwardEntry[] | MessageBatch): entries is MessageBatch {
  return !Array.isArray(entries);
}

/** `{"message": ` as msgpack: a one-key map and the key. */
const MESSAGE_KEY = Buffer.from([0x81, 0xa7, ...Buffer.from('message', 'latin1')]);

/** Bytes of a msgpack str header for `n` bytes. */
function strHeaderLength(n: number): number {
  return n < 32 ? 1 : n < 0x100 ? 2 : n < 0x10000 ? 3 : 5;
}

export interface ChunkEncoderOptions {
  mode: ForwardMode;
  /** Target size of a chunk's entries; a chunk is closed before it would exceed this (unless it is its only entry). */
  maxChunkBytes: number;
  /** Hard bound of a whole frame; an entry that cannot fit alone is rejected. */
  maxFrameBytes: number;
}

/**
 * Turns entries into frames. Encodes each record once into a reused scratch buffer, then copies the finished
 * chunk once into its own frame (or hands the scratch over when it is mostly full).
 */
export class ChunkEncoder {
  private readonly encoder = new Encoder({ ignoreUndefined: true });
  private scratch: Buffer;
  private readonly idPrefix = randomBytes(6).toString('base64url');
  private seq = 0;

  /** Size of a standard scratch (and so of a handed-over frame's memory). */
  private readonly capacity: number;
  /**
   * Scratch-sized buffers of acked frames, ready for reuse. Not capped by count while frames are out: every one
   * of them was a frame alive at the same time as the others, so frames + spares never exceed the peak of frames
   * in flight and settling. A cap made bursts of settled acks drop frames that the next chunks then allocated
   * again (275 fresh megabyte buffers in a 300,000-event run), garbage the GC frees only in bulk. trim() gives
   * them back once nothing is in flight.
   */
  private readonly spare: Buffer[] = [];
  /** Standard scratches handed out as frames and not yet recycled. */
  private readonly handedOut = new WeakSet<ArrayBufferLike>();

  constructor(private readonly opts: ChunkEncoderOptions) {
    this.capacity = Math.min(opts.maxChunkBytes, 1 << 20) + 4096;
    this.scratch = this.fresh();
  }

  private nextId(): string {
    this.seq++;
    return `${this.idPrefix}-${this.seq.toString(36)}`;
  }

  /** Yields the frames for `entries` in order; each chunk is encoded only when the consumer asks for it. */
  *chunks(tag: string, entries: readonly ForwardEntry[] | MessageBatch): Generator<EncodedChunk, void, void> {
    if (isMessageBatch(entries)) {
      yield* this.batchChunks(tag, entries);
      return;
    }
    const tagBytes = Buffer.from(this.encoder.encode(tag));
    const headerLen = 1 + tagBytes.length + 5;
    let i = 0;
    while (i < entries.length) {
      const first = i;
      let pos = headerLen; // entries are written after room for the header
      while (i < entries.length) {
        const entry = entries[i]!;
        checkEventTime(entry.time, i);
        // Fast path: a flat record of strings (the collector's {message: <raw JSON bytes>}) is written straight
        // into the scratch (Buffer.write, or a copy of Utf8Bytes), ~15x faster than the generic encoder; same bytes.
        let record: Uint8Array | undefined;
        let entryLen: number;
        const bound = flatStringBound(entry.record);
        if (bound >= 0) {
          this.ensure(pos + 11 + bound + 128);
          entryLen =
            11 + writeFlatStringRecord(this.scratch, pos + 11, entry.record as Record<string, string | Utf8Bytes>);
        } else {
          record = this.encoder.encodeSharedRef(decodeUtf8Values(entry.record));
          entryLen = 1 + 10 + record.length;
        }
        if (i > first && this.closesChunk(headerLen, pos, entryLen)) break;
        this.checkFitsAlone(headerLen, entryLen, i);
        this.ensure(pos + entryLen + 128);
        const s = this.scratch;
        s[pos] = 0x92;
        writeEventTime(s, pos + 1, entry.time);
        if (record) s.set(record, pos + 11);
        pos += entryLen;
        i++;
      }
      yield this.finish(tagBytes, headerLen, pos, i - first, tag);
    }
  }

  /**
   * chunks() of a MessageBatch: the same bytes as its entries given as `{time, record: {message: Utf8Bytes}}` (the
   * flat-record fast path above), with the same checks and errors, read from the columns (no object per entry).
   */
  private *batchChunks(tag: string, batch: MessageBatch): Generator<EncodedChunk, void, void> {
    const tagBytes = Buffer.from(this.encoder.encode(tag));
    const headerLen = 1 + tagBytes.length + 5;
    const { length, start, end, sec, nsec } = batch;
    const body = Buffer.isBuffer(batch.body)
      ? batch.body
      : Buffer.from(batch.body.buffer, batch.body.byteOffset, batch.body.byteLength);
    if (start.length < length || end.length < length || sec.length < length || nsec.length < length) {
      throw new ForwardEncodeError(
        `message batch of ${length} entries has shorter columns (start ${start.length}, end ${end.length}, sec ` +
          `${sec.length}, nsec ${nsec.length})`,
      );
    }
    const keyLen = MESSAGE_KEY.length;
    let i = 0;
    while (i < length) {
      const first = i;
      let pos = headerLen;
      while (i < length) {
        const s0 = start[i]!,
          s1 = end[i]!;
        if (!(s0 <= s1 && s1 <= body.length)) {
          throw new ForwardEncodeError(
            `entry #${i}: message span ${s0}..${s1} lies outside the batch's ${body.length}-byte body`,
          );
        }
        checkTimeParts(sec[i]!, nsec[i]!, i);
        const n = s1 - s0;
        const entryLen = 11 + keyLen + strHeaderLength(n) + n;
        if (i > first && this.closesChunk(headerLen, pos, entryLen)) break;
        this.checkFitsAlone(headerLen, entryLen, i);
        this.ensure(pos + entryLen + 128);
        const s = this.scratch;
        s[pos] = 0x92;
        s[pos + 1] = 0xd7;
        s[pos + 2] = EVENT_TIME_EXT_TYPE;
        s.writeUInt32BE(sec[i]!, pos + 3);
        s.writeUInt32BE(nsec[i]!, pos + 7);
        let p = pos + 11;
        MESSAGE_KEY.copy(s, p);
        p += keyLen;
        p += writeStrHeader(s, p, n);
        body.copy(s, p, s0, s1);
        pos += entryLen;
        i++;
      }
      yield this.finish(tagBytes, headerLen, pos, i - first, tag);
    }
  }

  /**
   * Whether an entry of `entryLen` bytes at `pos` must start the next chunk instead. 64 bytes cover the options map.
   */
  private closesChunk(headerLen: number, pos: number, entryLen: number): boolean {
    const bodyAfter = pos + entryLen - headerLen;
    return bodyAfter > this.opts.maxChunkBytes || headerLen + bodyAfter + 64 > this.opts.maxFrameBytes;
  }

  /** Throws when entry #i cannot fit in a frame even alone. */
  private checkFitsAlone(headerLen: number, entryLen: number, i: number): void {
    const { maxFrameBytes } = this.opts;
    if (headerLen + entryLen + 64 <= maxFrameBytes) return;
    throw new ForwardRecordTooLargeError(
      `entry #${i} encodes to ${entryLen} bytes, more than one forward frame may carry (${maxFrameBytes} bytes, ` +
        `under Fluent Bit's buffer_max_size ${FLUENT_BIT_BUFFER_MAX_SIZE}); entries before it were sent`,
      i,
      entryLen,
    );
  }

  private ensure(size: number): void {
    if (size <= this.scratch.length) return;
    const next = Buffer.allocUnsafe(Math.max(size, this.scratch.length * 2));
    this.scratch.copy(next);
    this.scratch = next;
  }

  private finish(tagBytes: Buffer, headerLen: number, bodyEnd: number, count: number, tag: string): EncodedChunk {
    const id = this.nextId();
    const options = this.encoder.encodeSharedRef({ chunk: id, size: count });
    this.ensure(bodyEnd + options.length);
    const s = this.scratch;
    s[0] = 0x93;
    tagBytes.copy(s, 1);
    const lenAt = 1 + tagBytes.length;
    if (this.opts.mode === 'packed') {
      s[lenAt] = 0xc6; // bin32: length of the concatenated entries
      s.writeUInt32BE(bodyEnd - headerLen, lenAt + 1);
    } else {
      s[lenAt] = 0xdd; // array32: number of [time, record] entries
      s.writeUInt32BE(count, lenAt + 1);
    }
    s.set(options, bodyEnd);
    const total = bodyEnd + options.length;
    let frame: Buffer;
    if (total >= s.length / 4) {
      // Not small: give the scratch away instead of copying it, and continue in a recycled (acked) one.
      frame = s.subarray(0, total);
      if (s.length === this.capacity) this.handedOut.add(s.buffer);
      this.scratch = this.spare.pop() ?? this.fresh();
    } else {
      frame = Buffer.from(s.subarray(0, total));
    }
    return { id, tag, frame, entries: count, entryBytes: bodyEnd - headerLen };
  }

  private fresh(): Buffer {
    return Buffer.allocUnsafeSlow(this.capacity);
  }

  /**
   * Takes back a frame's memory once Fluent Bit acked it (nothing reads it any more): the next chunks are encoded
   * into it instead of into new megabyte buffers, which would be garbage the GC frees only in bulk.
   */
  recycle(frame: Buffer): void {
    const ab = frame.buffer;
    if (!this.handedOut.delete(ab)) return; // not a whole scratch, or taken back already
    this.spare.push(Buffer.from(ab, 0, ab.byteLength));
  }

  /** Nothing is in flight: keep at most `keep` spare scratches (the rest is memory an idle collector would hold). */
  trim(keep = 4): void {
    if (this.spare.length > keep) this.spare.length = keep;
  }

  /** Spare scratches held (for tests and diagnostics). */
  get spareCount(): number {
    return this.spare.length;
  }
}
