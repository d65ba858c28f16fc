// RFC 3339 timestamps with 0-9 fraction digits and any offset, parsed by hand: Date.parse keeps only
// milliseconds, and the forward protocol's EventTime carries nanoseconds.
import { JumpCloudError } from '../../errors.js';
import type { EventTime } from '../../types.js';

export class TimestampError extends JumpCloudError {
  static override readonly code: string = 'TIMESTAMP_INVALID';
  constructor(
    readonly text: string,
    reason: string,
  ) {
    super(`invalid RFC 3339 timestamp ${JSON.stringify(text)}: ${reason}`);
  }
}

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/;
const DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const MAX_SEC = 0xffffffff; // EventTime's seconds are an unsigned 32-bit integer
const PAD = '000000000';

function daysIn(year: number, month: number): number {
  if (month === 2 && ((year % 4 === 0 && year % 100 !== 0) || year % 400 === 0)) return 29;
  return DAYS[month - 1]!;
}

/** Parses an RFC 3339 timestamp into seconds + nanoseconds since the epoch (UTC). Throws TimestampError. */
export function parseEventTime(text: string): EventTime {
  // The collector reads timestamps from the page's bytes (parseEventTimeBytes); a string comes here only off the
  // hot path (an escaped timestamp, tests), so it goes through the same byte parser.
  const bytes = Buffer.from(text, 'utf8');
  const out = { sec: 0, nsec: 0 };
  return parseEventTimeBytes(bytes, 0, bytes.length, out) ? out : parseChecked(text);
}

/** Where parseEventTimeBytes writes its result (one object reused for a whole page). */
export interface EventTimeOut {
  sec: number;
  nsec: number;
}

/** The decimal value of `n` digits at `at`, or -1 when one of them is not a digit. */
function byteDigits(b: Uint8Array, at: number, n: number): number {
  let v = 0;
  for (let i = at; i < at + n; i++) {
    const d = b[i]! - 48;
    if (!(d >= 0 && d <= 9)) return -1;
    v = v * 10 + d;
  }
  return v;
}

/**
 * The hot path (every event): RFC 3339 read from the UTF-8 bytes [from, to) of a page (the timestamp without its
 * quotes), with no string, match array or substring per event (the regex allocated ~400 bytes an event).
 * Writes into `out` and returns true when it accepts the text whole and in range; false otherwise (also for anything
 * non-ASCII or escaped): parseEventTime of the decoded string then decides, and says what is wrong.
 */
export function parseEventTimeBytes(b: Uint8Array, from: number, to: number, out: EventTimeOut): boolean {
  const n = to - from;
  if (n < 20 || to > b.length || b[from + 4] !== 45 || b[from + 7] !== 45 || b[from + 13] !== 58 || b[from + 16] !== 58)
    return false;
  const sep = b[from + 10];
  if (sep !== 84 && sep !== 116 && sep !== 32) return false; // T t space
  const year = byteDigits(b, from, 4),
    month = byteDigits(b, from + 5, 2),
    day = byteDigits(b, from + 8, 2);
  const hour = byteDigits(b, from + 11, 2),
    minute = byteDigits(b, from + 14, 2),
    second = byteDigits(b, from + 17, 2);
  if (
    year < 0 ||
    month < 1 ||
    month > 12 ||
    day < 1 ||
    day > daysIn(year, month) ||
    hour < 0 ||
    hour > 23 ||
    minute < 0 ||
    minute > 59 ||
    second < 0 ||
    second > 60
  )
    return false;
  let at = from + 19;
  let nsec = 0;
  if (b[at] === 46) {
    let k = 0;
    for (at++; k < 9 && at < to; at++, k++) {
      const d = b[at]! - 48;
      if (!(d >= 0 && d <= 9)) break;
      nsec = nsec * 10 + d;
    }
    if (k === 0) return false;
    for (; k < 9; k++) nsec *= 10;
  }
  let offsetMin = 0;
  const z = at < to ? b[at] : undefined;
  if (z === 90 || z === 122) {
    if (at + 1 !== to) return false;
  } else if (z === 43 || z === 45) {
    if (at + 6 !== to || b[at + 3] !== 58) return false;
    const oh = byteDigits(b, at + 1, 2),
      om = byteDigits(b, at + 4, 2);
    if (oh < 0 || oh > 23 || om < 0 || om > 59) return false;
    offsetMin = (z === 45 ? -1 : 1) * (oh * 60 + om);
  } else {
    return false;
  }
  const sec = Date.UTC(year, month - 1, day, hour, minute, 0) / 1000 + second - offsetMin * 60;
  if (!Number.isInteger(sec) || sec < 0 || sec > MAX_SEC) return false;
  out.sec = sec;
  out.nsec = nsec;
  return true;
}

/** The reference reading (regular expression): also the one that explains a refusal. Exported for tests. */
export function parseChecked(text: string): EventTime {
  const m = RFC3339.exec(text);
  if (!m) throw new TimestampError(text, 'expected YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)');
  const year = +m[1]!,
    month = +m[2]!,
    day = +m[3]!,
    hour = +m[4]!,
    minute = +m[5]!,
    second = +m[6]!;
  if (month < 1 || month > 12) throw new TimestampError(text, `month ${m[2]} out of range`);
  if (day < 1 || day > daysIn(year, month)) throw new TimestampError(text, `day ${m[3]} out of range`);
  if (hour > 23) throw new TimestampError(text, `hour ${m[4]} out of range`);
  if (minute > 59) throw new TimestampError(text, `minute ${m[5]} out of range`);
  // 60 is a leap second; like most systems we fold it into the next minute's second 0.
  if (second > 60) throw new TimestampError(text, `second ${m[6]} out of range`);
  let offsetMin = 0;
  if (m[9] !== undefined) {
    const oh = +m[10]!,
      om = +m[11]!;
    if (oh > 23 || om > 59) throw new TimestampError(text, `offset ${m[9]}${m[10]}:${m[11]} out of range`);
    offsetMin = (m[9] === '-' ? -1 : 1) * (oh * 60 + om);
  }
  const dayMs = Date.UTC(year, month - 1, day, hour, minute, 0);
  // Date.UTC maps years 0-99 to 1900-1999; no timestamp we carry is that old, and such a one fails below.
  const sec = dayMs / 1000 + second - offsetMin * 60;
  if (!Number.isInteger(sec) || sec < 0 || sec > MAX_SEC) {
    throw new TimestampError(text, 'outside the range EventTime can carry (1970 to 2106)');
  }
  const frac = m[7];
  const nsec = frac === undefined ? 0 : +(frac + PAD.slice(frac.length));
  return { sec, nsec };
}

/** Milliseconds since the epoch, truncated: `t >= x` ⇔ `toMillis(t) >= x` for every integer `x`. */
export function eventTimeMillis(t: EventTime): number {
  return t.sec * 1000 + Math.floor(t.nsec / 1e6);
}

/** RFC 3339 UTC with milliseconds, as the API's query bounds and our state files carry instants. */
export function isoMillis(ms: number): string {
  return new Date(ms).toISOString();
}

/** Parses an ISO instant written by isoMillis (or any Date-parsable RFC 3339); NaN when invalid. */
export function parseIsoMillis(text: string): number {
  return typeof text === 'string' && RFC3339.test(text) ? Date.parse(text) : NaN;
}
