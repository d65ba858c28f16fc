// Finds where one msgpack object ends without decoding it, so a stream reader knows when a frame is
// complete (TCP splits and joins frames arbitrarily) and decodes each frame exactly once.
import { JumpCloudError } from '../errors.js';

/** Thrown on a byte that starts no msgpack object (0xc1) or on nesting beyond the limit. */
export class MsgpackScanError extends JumpCloudError {
  static override readonly code: string = 'MSGPACK_SCAN';
}

const INCOMPLETE = -1;

/**
 * Byte length of the msgpack object starting at `start`, or -1 when `buf[start..end)` holds only part of it.
 * Iterative (an explicit count of objects still to skip), so deep nesting cannot overflow the stack.
 */
/* eslint-disable-next-line max-lines-per-function -- one case per msgpack format byte, in the order of the format's
   table: read side by side with it, a single switch is the clearest form. */
export function msgpackLength(buf: Uint8Array, start = 0, end = buf.length): number {
  let pos = start;
  let pending = 1; // objects still to skip
  while (pending > 0) {
    if (pos >= end) return INCOMPLETE;
    const b = buf[pos]!;
    pending--;
    if (b <= 0x7f || b >= 0xe0) {
      pos += 1; // fixint
    } else if (b >= 0x80 && b <= 0x8f) {
      pending += (b & 0x0f) * 2;
      pos += 1;
    } else if (b >= 0x90 && b <= 0x9f) {
      pending += b & 0x0f;
      pos += 1;
    } else if (b >= 0xa0 && b <= 0xbf) {
      pos += 1 + (b & 0x1f);
    } else {
      switch (b) {
        case 0xc0:
        case 0xc2:
        case 0xc3:
          pos += 1;
          break;
        case 0xc4:
        case 0xd9: {
          if (pos + 2 > end) return INCOMPLETE;
          pos += 2 + buf[pos + 1]!;
          break;
        }
        case 0xc5:
        case 0xda: {
          if (pos + 3 > end) return INCOMPLETE;
          pos += 3 + readU16(buf, pos + 1);
          break;
        }
        case 0xc6:
        case 0xdb: {
          if (pos + 5 > end) return INCOMPLETE;
          pos += 5 + readU32(buf, pos + 1);
          break;
        }
        case 0xc7: {
          if (pos + 2 > end) return INCOMPLETE;
          pos += 3 + buf[pos + 1]!;
          break;
        }
        case 0xc8: {
          if (pos + 3 > end) return INCOMPLETE;
          pos += 4 + readU16(buf, pos + 1);
          break;
        }
        case 0xc9: {
          if (pos + 5 > end) return INCOMPLETE;
          pos += 6 + readU32(buf, pos + 1);
          break;
        }
        case 0xca:
          pos += 5;
          break;
        case 0xcb:
          pos += 9;
          break;
        case 0xcc:
        case 0xd0:
          pos += 2;
          break;
        case 0xcd:
        case 0xd1:
          pos += 3;
          break;
        case 0xce:
        case 0xd2:
          pos += 5;
          break;
        case 0xcf:
        case 0xd3:
          pos += 9;
          break;
        case 0xd4:
          pos += 3;
          break;
        case 0xd5:
          pos += 4;
          break;
        case 0xd6:
          pos += 6;
          break;
        case 0xd7:
          pos += 10;
          break;
        case 0xd8:
          pos += 18;
          break;
        case 0xdc: {
          if (pos + 3 > end) return INCOMPLETE;
          pending += readU16(buf, pos + 1);
          pos += 3;
          break;
        }
        case 0xdd: {
          if (pos + 5 > end) return INCOMPLETE;
          pending += readU32(buf, pos + 1);
          pos += 5;
          break;
        }
        case 0xde: {
          if (pos + 3 > end) return INCOMPLETE;
          pending += readU16(buf, pos + 1) * 2;
          pos += 3;
          break;
        }
        case 0xdf: {
          if (pos + 5 > end) return INCOMPLETE;
          pending += readU32(buf, pos + 1) * 2;
          pos += 5;
          break;
        }
        default:
          throw new MsgpackScanError(`byte 0x${b.toString(16)} at offset ${pos} starts no msgpack object`);
      }
    }
  }
  return pos > end ? INCOMPLETE : pos - start;
}

function readU16(buf: Uint8Array, at: number): number {
  return (buf[at]! << 8) | buf[at + 1]!;
}

function readU32(buf: Uint8Array, at: number): number {
  return buf[at]! * 0x1000000 + ((buf[at + 1]! << 16) | (buf[at + 2]! << 8) | buf[at + 3]!);
}

/** True when the object at `at` is a msgpack str (fixstr, str8, str16, str32). */
export function isMsgpackStr(buf: Uint8Array, at: number): boolean {
  const b = buf[at];
  return b !== undefined && ((b >= 0xa0 && b <= 0xbf) || b === 0xd9 || b === 0xda || b === 0xdb);
}

/**
 * Accumulates stream bytes and hands out complete msgpack objects. Keeps one contiguous buffer and compacts
 * it only when consumed bytes dominate, so a frame split over many packets is not re-copied per packet.
 */
export class MsgpackStreamReader {
  private buf: Buffer = Buffer.alloc(0);
  private start = 0;
  private end = 0;

  /** Bytes buffered but not yet handed out. */
  get buffered(): number {
    return this.end - this.start;
  }

  push(data: Uint8Array): void {
    const need = this.end + data.length;
    if (need > this.buf.length) {
      const live = this.end - this.start;
      if (live + data.length <= this.buf.length && this.start > 0) {
        this.buf.copy(this.buf, 0, this.start, this.end);
      } else {
        const next = Buffer.allocUnsafe(Math.max(live + data.length, this.buf.length * 2, 4096));
        this.buf.copy(next, 0, this.start, this.end);
        this.buf = next;
      }
      this.start = 0;
      this.end = live;
    }
    this.buf.set(data, this.end);
    this.end += data.length;
  }

  /** The next complete object's bytes (a view valid until the next push), or undefined. Throws MsgpackScanError. */
  next(): Buffer | undefined {
    if (this.start === this.end) return undefined;
    const len = msgpackLength(this.buf, this.start, this.end);
    if (len < 0) return undefined;
    const out = this.buf.subarray(this.start, this.start + len);
    this.start += len;
    if (this.start === this.end) {
      this.start = 0;
      this.end = 0;
    }
    return out;
  }
}
